package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"layerindex/internal/bitbake"
	"layerindex/internal/gitrepo"
	"layerindex/internal/isolate"
	"layerindex/internal/store"
)

// CheckRepository checks a submitted layer's repository on each of its
// layer branches — it can be cloned, has conf/layer.conf in the
// subdirectory, and which collection, dependencies and branches it has —
// and describes what it found for the administrators who review it. A
// permanent error means the submission cannot be indexed as it stands.
func CheckRepository(ctx context.Context, repos *gitrepo.Cache, layer *store.Layer, lbs []store.LayerBranch) (string, error) {
	return (&Indexer{repos: repos}).CheckRepository(ctx, layer, lbs)
}

// CheckRepository is the package's CheckRepository with the indexer's
// repositories, reading conf/layer.conf isolated when configured: a
// submission is anyone's content.
func (ix *Indexer) CheckRepository(ctx context.Context, layer *store.Layer, lbs []store.LayerBranch) (string, error) {
	report, err := ix.checkRepository(ctx, layer, lbs)
	// Branch names and conf/layer.conf values are the repository's bytes.
	return storableText(report), err
}

func (ix *Indexer) checkRepository(ctx context.Context, layer *store.Layer, lbs []store.LayerBranch) (string, error) {
	var b strings.Builder
	repo, err := ix.repos.Fetch(ctx, layer.VCSURL)
	if err != nil {
		return b.String(), err
	}
	names, err := repo.Branches()
	if err != nil {
		return b.String(), err
	}
	fmt.Fprintf(&b, "INFO: cloned %s; branches: %s\n", layer.VCSURL, strings.Join(names, ", "))
	if len(lbs) == 0 {
		return b.String(), &Permanent{Err: errors.New("the layer has no branch to index")}
	}
	var problems []string
	for _, lb := range lbs {
		gb := lb.GitBranch()
		head, err := repo.Branch(gb)
		if err != nil {
			problems = append(problems, fmt.Sprintf("branch %q not found", gb))
			continue
		}
		tree, err := repo.Tree(head.Hash, lb.VCSSubdir)
		if err != nil {
			problems = append(problems, fmt.Sprintf("branch %s: %v", gb, err))
			continue
		}
		facts, err := ix.readFacts(ctx, NewLog(func(line string) { b.WriteString(line + "\n") }), layer.Name, repo, head.Hash, lb.VCSSubdir, tree)
		var killed *isolate.Killed
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return b.String(), ctx.Err()
		case errors.As(err, &killed):
			problems = append(problems, fmt.Sprintf("branch %s: conf/layer.conf: %v", gb, killed))
			continue
		default:
			problems = append(problems, fmt.Sprintf("branch %s: %v in %q", gb, err, lb.VCSSubdir))
			continue
		}
		recipes, _ := bitbake.Recipes(tree)
		fmt.Fprintf(&b, "INFO: branch %s at %s: collection %q, version %q, LAYERDEPENDS [%s], LAYERRECOMMENDS [%s], LAYERSERIES_COMPAT [%s], %d recipe(s)\n",
			gb, head.Hash[:12], facts.Collection, facts.Version, depNames(facts.Depends), depNames(facts.Recommends),
			strings.Join(facts.SeriesCompat, " "), len(recipes))
		if facts.Collection == "" {
			problems = append(problems, fmt.Sprintf("branch %s: conf/layer.conf sets no BBFILE_COLLECTIONS", gb))
		}
	}
	if len(problems) > 0 {
		return b.String(), &Permanent{Err: errors.New(strings.Join(problems, "; "))}
	}
	return b.String(), nil
}

func depNames(ds []bitbake.Dependency) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return strings.Join(out, " ")
}
