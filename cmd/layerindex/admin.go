package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	netmail "net/mail"
	"strings"

	"layerindex/internal/catalog"
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
	if len(rest) != 1 {
		return usageErr("expected one branch name")
	}
	if err := catalog.CheckBranchName(rest[0]); err != nil {
		return usageErr("branch name: %v", err)
	}
	a, err := openApp(ctx, cfg, newLogger(cfg, e.stderr))
	if err != nil {
		return err
	}
	defer a.close()
	cat, err := a.queueOnly(ctx)
	if err != nil {
		return err
	}
	b := &store.Branch{Name: rest[0], BitbakeBranch: bitbakeBranch, ShortDescription: desc, UpdatesEnabled: true}
	if bitbakeBranch == "" {
		b.BitbakeBranch = rest[0]
	}
	if prio != 0 {
		b.SortPriority = &prio
	}
	n, err := cat.AddBranch(ctx, catalog.CLI, b)
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("branch %s already exists", b.Name)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created branch %s\n", b.Name)
	if n > 0 {
		fmt.Fprintf(e.stdout, "queued a search of %d published layer(s) for a git branch %s; those that have one are added to it and indexed "+
			"(run `layerindex update --branch %s --wait` to do it now)\n", n, b.Name, b.Name)
	}
	return nil
}

// maintainerFlag collects --maintainer "Name <email>" values.
type maintainerFlag []store.LayerMaintainer

func (m *maintainerFlag) String() string { return "" }

func (m *maintainerFlag) Set(v string) error {
	a, err := netmail.ParseAddress(v)
	if err != nil || a.Name == "" {
		return fmt.Errorf("expected \"Full Name <address@example.org>\"")
	}
	*m = append(*m, store.LayerMaintainer{Name: a.Name, Email: a.Address, Status: "A"})
	return nil
}

func runLayer(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] != "add" {
		return usageErr("expected `layerindex layer add --name N --vcs-url URL [--subdir S] [--type T] [--summary …] [--branch B,…] [--maintainer \"Name <email>\"]… [--publish]`")
	}
	var name, url, subdir, typ, summary, description, branches, actual string
	var maintainers maintainerFlag
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
		fs.Var(&maintainers, "maintainer", "a maintainer, as \"Full Name <address>\" (repeat for several)")
		fs.BoolVar(&publish, "publish", false, "publish at once and index it (otherwise it waits for review as a new layer)")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("unexpected argument %q", rest[0])
	}
	if err := catalog.CheckLayerName(name); err != nil {
		return usageErr("--name: %v", err)
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
	cat, err := a.queueOnly(ctx)
	if err != nil {
		return err
	}
	in := catalog.LayerInput{Layer: store.Layer{Name: name, LayerType: typ, Summary: summary, Description: description, VCSURL: url},
		Subdir: subdir, ActualBranch: actual, Maintainers: maintainers}
	_, err = cat.AddLayer(ctx, catalog.CLI, targets, in, publish)
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("a layer named %s already exists", name)
	} else if err != nil {
		return err
	}
	var names []string
	for _, b := range targets {
		names = append(names, b.Name)
	}
	what := "new (waiting for review; its repository will be checked and the administrators are told)"
	if publish {
		what = "published; its update is queued"
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
	cat, err := a.queueOnly(ctx)
	if err != nil {
		return err
	}
	// With --wait, new release branches are looked for here (the command
	// may take its time); otherwise the search is queued with the runs.
	req, err := cat.RequestUpdate(ctx, catalog.CLI, catalog.UpdateRequest{Layer: layer, Branch: branch, Force: force,
		DiscoverNow: wait, Log: func(format string, args ...any) { fmt.Fprintf(e.stdout, format+"\n", args...) }})
	var inv *catalog.InvalidError
	if errors.Is(err, store.ErrNotFound) && layer != "" {
		return fmt.Errorf("no layer called %s", layer)
	} else if errors.As(err, &inv) {
		return errors.New(inv.Msg)
	} else if err != nil {
		return err
	}
	st := store.New(a.db.Gorm)
	names := map[int64]string{}
	var ids, coreIDs []int64
	for _, r := range req.Runs {
		lb, err := st.LayerBranchByID(ctx, *r.Run.LayerBranchID)
		if err != nil {
			return err
		}
		names[r.Run.ID] = lb.Layer.Name + " on " + lb.Branch.Name
		// The core layer first, so a fresh index of several layers parses
		// each on top of it; runs waiting for other dependencies are
		// tried again after the rest.
		if lb.Collection == "core" || lb.Layer.Name == "openembedded-core" {
			coreIDs = append(coreIDs, r.Run.ID)
		} else {
			ids = append(ids, r.Run.ID)
		}
	}
	ids = append(coreIDs, ids...)
	if !wait {
		for _, r := range req.Runs {
			note := ""
			if r.Joined {
				note = " (joined the update already waiting)"
			}
			fmt.Fprintf(e.stdout, "queued %s as run %d%s\n", names[r.Run.ID], r.Run.ID, note)
		}
		if req.Discovering > 0 {
			fmt.Fprintf(e.stdout, "queued a search of %d layer(s) for release branches they are not on yet\n", req.Discovering)
		}
		return nil
	}
	runs, err := cat.WorkHere(ctx, ids, func(run *store.LayerUpdate, line string) {
		fmt.Fprintln(e.stdout, names[run.ID]+": "+line)
	})
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range runs {
		switch r.Status {
		case store.UpdateSucceeded, store.UpdateUnchanged:
			fmt.Fprintf(e.stdout, "== %s: %s (run %d)\n", names[r.ID], r.Status, r.ID)
		case store.UpdateRetrying:
			failed++
			fmt.Fprintf(e.stdout, "== %s: failed for now, retrying at %s: %s (run %d)\n", names[r.ID],
				r.NextAttemptAt.Local().Format("15:04:05"), r.Reason, r.ID)
		default:
			failed++
			fmt.Fprintf(e.stdout, "== %s: %s: %s (run %d)\n", names[r.ID], r.Status, r.Reason, r.ID)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d layer update(s) failed", failed, len(runs))
	}
	return nil
}
