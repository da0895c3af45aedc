package ingest

import (
	"context"
	"path"
	"sort"
	"strings"

	"layerindex/internal/bitbake"
	"layerindex/internal/gitrepo"
)

// plan is what a run parses and removes.
type plan struct {
	full    bool
	parse   []string          // layer-relative recipe paths to parse
	deletes []string          // recipes removed from the layer
	renames map[string]string // old path -> new path (ids are kept)
}

// plan decides which recipes to parse. A full parse happens on the first
// run, on request, or when the configuration or parser changed. Otherwise
// the diff since the last indexed commit gives the changed recipes, plus
// those that read a changed file (an .inc, a class, a patch beside them).
// Finally the stored recipe set is reconciled with the files in the tree, so
// an interrupted history can never leave the index out of step.
func (u *update) plan(ctx context.Context, repo *gitrepo.Repo, head string, files []bitbake.LayerFile, incremental bool) (*plan, error) {
	lb, log := u.lb, u.log
	current := map[string]bool{}
	var all []string
	for _, f := range files {
		if f.Kind == bitbake.KindRecipe {
			current[f.Path] = true
			all = append(all, f.Path)
		}
	}
	if incremental && (lb.VCSLastRev == "" || !repo.HasCommit(lb.VCSLastRev)) {
		if lb.VCSLastRev != "" {
			log.warn("last indexed commit %s is no longer in the repository (history rewritten?); parsing everything", short(lb.VCSLastRev))
		}
		incremental = false
	}
	if !incremental {
		if lb.VCSLastRev != "" {
			log.info("full parse of %d recipe(s): %s", len(all), u.fullReason())
		} else {
			log.info("first index: parsing %d recipe(s)", len(all))
		}
		return &plan{full: true, parse: all}, nil
	}

	changes, err := repo.Diff(ctx, lb.VCSLastRev, head, lb.VCSSubdir)
	if err != nil {
		return nil, err
	}
	stored, err := u.ix.store.RecipePaths(ctx, lb.ID)
	if err != nil {
		return nil, err
	}
	storedSet := map[string]bool{}
	for _, p := range stored {
		storedSet[p] = true
	}

	parse := map[string]bool{}
	deletes := map[string]bool{}
	renames := map[string]string{}
	var touched []string // repository-relative paths of changed non-recipe files
	repoPath := func(p string) string { return path.Join(lb.VCSSubdir, p) }
	for _, c := range changes {
		for _, p := range []string{c.From, c.To} {
			if p != "" && (p == "conf/layer.conf") {
				log.info("conf/layer.conf changed; parsing everything")
				return &plan{full: true, parse: all}, nil
			}
		}
		isRecipe := func(p string) bool { return strings.HasSuffix(p, ".bb") }
		switch {
		case c.Action == gitrepo.Renamed && isRecipe(c.From) && isRecipe(c.To) && storedSet[c.From] && current[c.To]:
			renames[c.From] = c.To
			parse[c.To] = true
		default:
			if c.From != "" {
				if isRecipe(c.From) {
					if !current[c.From] {
						deletes[c.From] = true
					}
				} else {
					touched = append(touched, repoPath(c.From))
				}
			}
			if c.To != "" {
				if isRecipe(c.To) {
					if current[c.To] {
						parse[c.To] = true
					}
				} else {
					touched = append(touched, repoPath(c.To))
				}
			}
		}
	}
	// Recipes that read a changed file, or live above it (patches and
	// other files in a recipe's directory).
	users, err := u.ix.store.RecipesUsingFiles(ctx, lb.ID, touched)
	if err != nil {
		return nil, err
	}
	for _, p := range users {
		if current[p] {
			parse[p] = true
		}
	}
	for _, t := range touched {
		rel := strings.TrimPrefix(t, strings.Trim(lb.VCSSubdir, "/")+"/")
		for p := range current {
			if dir := path.Dir(p); dir != "." && strings.HasPrefix(rel, dir+"/") {
				parse[p] = true
			}
		}
	}
	// Reconcile with what is stored.
	for p := range current {
		if !storedSet[p] && !isRenameTarget(renames, p) {
			parse[p] = true
		}
	}
	for _, p := range stored {
		if !current[p] && renames[p] == "" {
			deletes[p] = true
		}
	}
	pl := &plan{parse: sortedKeys(parse), deletes: sortedKeys(deletes), renames: renames}
	log.info("changes since %s: %d file(s); re-parsing %d recipe(s), removing %d, renaming %d",
		short(lb.VCSLastRev), len(changes), len(pl.parse), len(pl.deletes), len(pl.renames))
	for from, to := range renames {
		log.info("renamed %s -> %s", from, to)
	}
	return pl, nil
}

func (u *update) fullReason() string {
	switch {
	case u.req.Force:
		return "a full re-index was requested"
	case u.lb.ParserVersion != ParserVersion:
		return "the parser changed since the last index"
	case u.lb.ConfigDigest == "":
		return "the layer's repository, subdirectory, git branch or dependencies were edited"
	default:
		return "a dependency layer (or the syntax) changed since the last index"
	}
}

func isRenameTarget(renames map[string]string, p string) bool {
	for _, to := range renames {
		if to == p {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
