package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"layerindex/internal/ingest"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
)

// The administrator's command line: add branches and layers and run
// updates without the web UI (scripting, air-gapped sites, first setup).

func runBranch(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] != "add" {
		return usageErr("expected `layerindex branch add NAME [--bitbake-branch B] [--short-description D] [--sort-priority N]`")
	}
	var bitbakeBranch, desc string
	var prio int
	cfg, rest, err := loadConfig("branch add", args[1:], e, func(fs *flag.FlagSet) {
		fs.StringVar(&bitbakeBranch, "bitbake-branch", "", "BitBake branch for this release (e.g. 2.8); decides the override syntax")
		fs.StringVar(&desc, "short-description", "", "e.g. \"Yocto Project 5.0\"")
		fs.IntVar(&prio, "sort-priority", 0, "menu order (lower first)")
	})
	if err != nil {
		return err
	}
	if len(rest) != 1 || !branchNameRe.MatchString(rest[0]) {
		return usageErr("expected one branch name (letters, digits, '.', '-', '_')")
	}
	a, err := openApp(ctx, cfg, newLogger(cfg, e.stderr))
	if err != nil {
		return err
	}
	defer a.close()
	b := &store.Branch{Name: rest[0], BitbakeBranch: bitbakeBranch, ShortDescription: desc, UpdatesEnabled: true}
	if bitbakeBranch == "" {
		b.BitbakeBranch = rest[0]
	}
	if prio != 0 {
		b.SortPriority = &prio
	}
	if err := store.New(a.db.Gorm).CreateBranch(ctx, b); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("branch %s already exists", b.Name)
		}
		return err
	}
	fmt.Fprintf(e.stdout, "created branch %s\n", b.Name)
	return nil
}

var (
	branchNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$`)
	// layerNameRe is upstream's rule: lowercase letters, digits, '.' and
	// '-', no leading, trailing or doubled '-'.
	layerNameRe = regexp.MustCompile(`^[a-z0-9.]+(-[a-z0-9.]+)*$`)
)

func runLayer(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] != "add" {
		return usageErr("expected `layerindex layer add --name N --vcs-url URL [--subdir S] [--type T] [--summary …] [--branch B,…] [--publish]`")
	}
	var name, url, subdir, typ, summary, description, branches, actual string
	var publish bool
	cfg, rest, err := loadConfig("layer add", args[1:], e, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "layer name (lowercase letters, digits, '.', '-')")
		fs.StringVar(&url, "vcs-url", "", "repository URL to clone")
		fs.StringVar(&subdir, "subdir", "", "subdirectory of the layer in the repository")
		fs.StringVar(&typ, "type", "misc", "layer type: "+store.LayerTypeNames)
		fs.StringVar(&summary, "summary", "", "one-line summary")
		fs.StringVar(&description, "description", "", "description")
		fs.StringVar(&branches, "branch", "", "comma-separated release branches to index (default: master, or every branch if there is no master)")
		fs.StringVar(&actual, "actual-branch", "", "git branch to read instead of the release branch's name")
		fs.BoolVar(&publish, "publish", false, "publish at once and index it (otherwise it waits for review as a new layer)")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("unexpected argument %q", rest[0])
	}
	if !layerNameRe.MatchString(name) || len(name) > 40 {
		return usageErr("--name must be lowercase letters, digits, '.' and '-' (no leading, trailing or doubled '-'), at most 40 characters")
	}
	typ, ok := store.ParseLayerType(typ)
	if !ok {
		return usageErr("--type must be one of %s", store.LayerTypeNames)
	}
	a, err := openApp(ctx, cfg, newLogger(cfg, e.stderr))
	if err != nil {
		return err
	}
	defer a.close()
	if _, err := a.repos().Policy.CheckURL(url); err != nil {
		return err
	}
	st := store.New(a.db.Gorm)
	var targets []store.Branch
	all, err := st.UpdatableBranches(ctx)
	if err != nil {
		return err
	}
	if branches == "" {
		for _, b := range all {
			if b.Name == "master" {
				targets = []store.Branch{b}
			}
		}
		if targets == nil {
			targets = all
		}
	} else {
		for _, n := range strings.Split(branches, ",") {
			b, err := st.BranchByName(ctx, strings.TrimSpace(n))
			if err != nil {
				return fmt.Errorf("no branch %q (add it with `layerindex branch add`)", n)
			}
			targets = append(targets, *b)
		}
	}
	if len(targets) == 0 {
		return errors.New("no release branch exists yet; add one with `layerindex branch add master`")
	}
	q, err := jobs.New(ctx, a.db, jobs.Options{})
	if err != nil {
		return err
	}
	status := store.StatusNew
	if publish {
		status = store.StatusPublished
	}
	l := &store.Layer{Name: name, Status: status, LayerType: typ, Summary: summary, Description: description, VCSURL: url}
	err = q.InTx(ctx, func(tx *jobs.Tx) error {
		if err := tx.CreateLayer(ctx, l); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("a layer named %s already exists", name)
			}
			return err
		}
		for _, b := range targets {
			if err := tx.CreateLayerBranch(ctx, &store.LayerBranch{LayerID: l.ID, BranchID: b.ID, VCSSubdir: subdir,
				ActualBranch: actual, UpdatesEnabled: true}); err != nil {
				return err
			}
		}
		if publish {
			_, err := tx.Enqueue(jobs.UpdateLayerArgs{LayerID: l.ID}, nil)
			return err
		}
		_, err := tx.Enqueue(jobs.ValidateLayerArgs{LayerID: l.ID}, nil)
		return err
	})
	if err != nil {
		return err
	}
	var names []string
	for _, b := range targets {
		names = append(names, b.Name)
	}
	what := "new (waiting for review; its repository will be validated)"
	if publish {
		what = "published; an update job is queued"
	}
	fmt.Fprintf(e.stdout, "added %s layer %s on %s: %s\n", store.LayerTypeLabel(typ), name, strings.Join(names, ", "), what)
	return nil
}

func runUpdate(ctx context.Context, args []string, e env) error {
	var layer, branch string
	var force, wait bool
	cfg, rest, err := loadConfig("update", args, e, func(fs *flag.FlagSet) {
		fs.StringVar(&layer, "layer", "", "only this layer (default: every published layer)")
		fs.StringVar(&branch, "branch", "", "only this release branch (default: every branch with updates enabled)")
		fs.BoolVar(&force, "force", false, "re-parse everything even if nothing changed")
		fs.BoolVar(&wait, "wait", false, "run the updates here and now, printing their logs; exit non-zero if one fails")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("unexpected argument %q", rest[0])
	}
	a, err := openApp(ctx, cfg, newLogger(cfg, e.stderr))
	if err != nil {
		return err
	}
	defer a.close()
	st := store.New(a.db.Gorm)
	lbs, err := st.LayerBranchesToUpdate(ctx, layer, branch)
	if err != nil {
		return err
	}
	if len(lbs) == 0 {
		return errors.New("nothing to update: no matching published layer with updates enabled on a matching branch")
	}
	lbs = dependencyOrder(lbs)
	if !wait {
		q, err := jobs.New(ctx, a.db, jobs.Options{})
		if err != nil {
			return err
		}
		err = q.InTx(ctx, func(tx *jobs.Tx) error {
			for _, lb := range lbs {
				res, err := tx.Enqueue(jobs.UpdateLayerBranchArgs{LayerBranchID: lb.ID, Force: force}, nil)
				if err != nil {
					return err
				}
				note := ""
				if res.UniqueSkippedAsDuplicate {
					note = " (already queued)"
				}
				fmt.Fprintf(e.stdout, "queued %s on %s as job %d%s\n", lb.Layer.Name, lb.Branch.Name, res.Job.ID, note)
			}
			return nil
		})
		return err
	}
	names := map[int64]string{}
	reqs := make([]ingest.Request, len(lbs))
	for i, lb := range lbs {
		names[lb.ID] = lb.Layer.Name + " on " + lb.Branch.Name
		reqs[i] = ingest.Request{LayerBranchID: lb.ID, Force: force,
			Sink: func(line string) { fmt.Fprintln(e.stdout, names[lb.ID]+": "+line) }}
	}
	failed := a.indexer().UpdateAll(ctx, reqs, func(req ingest.Request, res *ingest.Result, err error) {
		if err == nil {
			fmt.Fprintf(e.stdout, "== %s: %s (update %d)\n", names[req.LayerBranchID], res.Status, res.LayerUpdateID)
		} else {
			fmt.Fprintf(e.stdout, "== %s: failed\n", names[req.LayerBranchID])
		}
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d layer update(s) failed", failed, len(lbs))
	}
	return nil
}

// dependencyOrder puts core layers first and every layer after the
// layers it depends on (as last indexed), so a fresh index of several
// layers parses each on top of an indexed dependency.
func dependencyOrder(lbs []store.LayerBranch) []store.LayerBranch {
	sort.SliceStable(lbs, func(i, j int) bool {
		ci, cj := lbs[i].Collection == "core", lbs[j].Collection == "core"
		if ci != cj {
			return ci
		}
		return lbs[i].Layer.Name == "openembedded-core" && lbs[j].Layer.Name != "openembedded-core"
	})
	return lbs
}
