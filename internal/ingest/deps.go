package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"layerindex/internal/bitbake"
	"layerindex/internal/gitrepo"
	"layerindex/internal/store"
)

// ErrMissingDependency is wrapped when a required layer is not (yet)
// indexed on the same branch.
var ErrMissingDependency = errors.New("required layers are not in the index")

// depLayer is a dependency layer as the parser sees it: its files at the
// commit used for this run.
type depLayer struct {
	lb         *store.LayerBranch
	collection string
	commit     string
	treeHash   string
	layer      bitbake.Layer
	repo       *gitrepo.Repo
}

// dependencies resolves the layer's LAYERDEPENDS and LAYERRECOMMENDS, and
// theirs in turn, to indexed layers of the same release branch, and opens
// their trees. It returns them (the core layer among them) and the rows to
// store as the layer's dependencies.
//
// A dependency is read at the commit it was last indexed at — the index is
// consistent with itself — or, if it was never indexed, at its branch head.
// isCore says the layer is a core layer itself. With light (the quick
// comparison, quick.go) no tree is opened: the dependencies carry their
// collections and tree hashes only, and errNotQuick is returned where only
// their files could tell (a collection never recorded, no dependency whose
// collection is "core").
func (u *update) dependencies(ctx context.Context, facts *bitbake.LayerFacts, isCore, light bool) ([]depLayer, []store.LayerDependency, error) {
	lb, log := u.lb, u.log
	var rows []store.LayerDependency
	var out []depLayer
	seen := map[int64]bool{lb.LayerID: true}

	// Direct dependencies, recorded as the layer's dependency rows.
	type want struct {
		dep      bitbake.Dependency
		required bool
	}
	var wants []want
	for _, d := range facts.Depends {
		wants = append(wants, want{d, true})
	}
	for _, d := range facts.Recommends {
		wants = append(wants, want{d, false})
	}
	queue := []*store.LayerBranch{}
	var missing []string
	for _, w := range wants {
		if w.dep.Name == facts.Collection {
			continue
		}
		found, err := u.ix.store.LayerBranchesOnBranch(ctx, lb.BranchID, w.dep.Name)
		if err != nil {
			return nil, nil, err
		}
		if len(found) == 0 {
			if w.required {
				missing = append(missing, w.dep.Name)
				log.error("LAYERDEPENDS %s: no published layer with that collection or name on branch %s", w.dep.Name, lb.Branch.Name)
			} else {
				log.warn("LAYERRECOMMENDS %s: no published layer with that collection or name on branch %s; parsing without it", w.dep.Name, lb.Branch.Name)
			}
			continue
		}
		d := found[0]
		if d.Version != "" && len(w.dep.Constraints) > 0 {
			for _, c := range w.dep.Constraints {
				if !versionSatisfies(d.Version, c) {
					log.warn("%s %s: layer %s has version %s, which does not satisfy %s", depKind(w.required), w.dep.Name, d.Layer.Name, d.Version, c)
				}
			}
		}
		rows = append(rows, store.LayerDependency{DependencyID: d.LayerID, Required: w.required,
			VersionConstraint: strings.Join(w.dep.Constraints, ", ")})
		if !seen[d.LayerID] {
			seen[d.LayerID] = true
			queue = append(queue, &d)
		}
	}
	if len(missing) > 0 {
		// Not permanent: on a fresh index the dependency is often added at
		// the same time and indexed a moment later; retries pick it up.
		return nil, nil, fmt.Errorf("%w for branch %s: %s", ErrMissingDependency, lb.Branch.Name, strings.Join(missing, ", "))
	}

	// Their own dependencies, as stored, complete BBPATH.
	for i := 0; i < len(queue); i++ {
		d := queue[i]
		drows, err := u.ix.store.Dependencies(ctx, d.ID)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range drows {
			if seen[r.DependencyID] {
				continue
			}
			seen[r.DependencyID] = true
			t, err := u.ix.store.LayerBranch(ctx, r.DependencyID, lb.BranchID)
			if err != nil {
				continue // not on this branch; its dependent's own run reported it
			}
			queue = append(queue, t)
		}
	}

	haveCore := isCore
	for _, d := range queue {
		dl, err := u.openDependency(ctx, d, light)
		if err != nil {
			return nil, nil, err
		}
		if dl.collection == "core" || (!light && bitbake.IsCoreLayer(dl.layer.FS)) {
			haveCore = true
		}
		out = append(out, dl)
	}
	if !haveCore && light {
		return nil, nil, errNotQuick
	}
	if !haveCore {
		// Every layer is parsed on top of the core layer's configuration,
		// even one that forgot to declare it.
		cores, err := u.ix.store.LayerBranchesOnBranch(ctx, lb.BranchID, "core")
		if err != nil {
			return nil, nil, err
		}
		if len(cores) == 0 {
			return nil, nil, permanent("no core layer (collection \"core\", e.g. openembedded-core) is indexed on branch %s", lb.Branch.Name)
		}
		log.warn("conf/layer.conf does not depend on core; parsing with %s anyway", cores[0].Layer.Name)
		dl, err := u.openDependency(ctx, &cores[0], false)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, dl)
	}
	return out, rows, nil
}

func depKind(required bool) string {
	if required {
		return "LAYERDEPENDS"
	}
	return "LAYERRECOMMENDS"
}

func (u *update) openDependency(ctx context.Context, d *store.LayerBranch, light bool) (depLayer, error) {
	repo, err := u.ix.repos.Cached(ctx, d.Layer.VCSURL)
	if err != nil {
		return depLayer{}, fmt.Errorf("dependency %s: %w", d.Layer.Name, err)
	}
	commit := d.VCSLastRev
	if commit == "" || !repo.HasCommit(commit) {
		if repo, err = u.ix.repos.Fetch(ctx, d.Layer.VCSURL); err != nil {
			return depLayer{}, fmt.Errorf("dependency %s: %w", d.Layer.Name, err)
		}
		head, err := repo.Branch(d.GitBranch())
		if err != nil {
			return depLayer{}, permanent("dependency %s: branch %q not found", d.Layer.Name, d.GitBranch())
		}
		commit = head.Hash
	}
	if light {
		if d.Collection == "" {
			return depLayer{}, errNotQuick
		}
		th, err := repo.TreeHash(commit, d.VCSSubdir)
		if err != nil {
			return depLayer{}, err
		}
		u.log.info("dependency %s (%s) at %s", d.Layer.Name, d.Collection, short(commit))
		return depLayer{lb: d, collection: d.Collection, commit: commit, treeHash: th, repo: repo}, nil
	}
	tree, err := repo.Tree(commit, d.VCSSubdir)
	if err != nil {
		return depLayer{}, fmt.Errorf("dependency %s: %w", d.Layer.Name, err)
	}
	th, err := repo.TreeHash(commit, d.VCSSubdir)
	if err != nil {
		return depLayer{}, err
	}
	col := d.Collection
	if col == "" {
		if f, err := u.ix.readFacts(ctx, nil, layerDirName(d), repo, commit, d.VCSSubdir, tree); err == nil {
			col = f.Collection
		}
	}
	u.log.info("dependency %s (%s) at %s", d.Layer.Name, col, short(commit))
	return depLayer{lb: d, collection: col, commit: commit, treeHash: th,
		layer: bitbake.Layer{Name: layerDirName(d), FS: tree}, repo: repo}, nil
}

// versionSatisfies checks a LAYERDEPENDS version constraint such as ">= 12"
// against a LAYERVERSION, numerically when both are numbers.
func versionSatisfies(version, constraint string) bool {
	f := strings.Fields(constraint)
	if len(f) != 2 {
		return true
	}
	cmp := compareVersions(version, f[1])
	switch f[0] {
	case "=", "==":
		return cmp == 0
	case ">=":
		return cmp >= 0
	case "<=":
		return cmp <= 0
	case ">":
		return cmp > 0
	case "<":
		return cmp < 0
	case "!=":
		return cmp != 0
	}
	return true
}

func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y string
		if i < len(as) {
			x = as[i]
		}
		if i < len(bs) {
			y = bs[i]
		}
		var xi, yi int
		_, e1 := fmt.Sscan(x, &xi)
		_, e2 := fmt.Sscan(y, &yi)
		switch {
		case e1 == nil && e2 == nil && xi != yi:
			if xi < yi {
				return -1
			}
			return 1
		case (e1 != nil || e2 != nil) && x != y:
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
