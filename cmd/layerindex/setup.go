package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"layerindex/internal/setup"
	"layerindex/internal/store"
)

// runSetup is `layerindex setup --branch B [--machine M] [--distro D]
// [--recommends] [--format F] LAYER…`: the build setup export of the web
// page, printed from the index this process reads.
func runSetup(ctx context.Context, args []string, e env) error {
	var branch, machine, distro, format, bitbakeURL string
	var recommends bool
	cfg, rest, err := loadConfig("setup", args, e, func(fs *flag.FlagSet) {
		fs.StringVar(&branch, "branch", "master", "release branch")
		fs.StringVar(&machine, "machine", "", "machine (its layer joins the setup)")
		fs.StringVar(&distro, "distro", "", "distro (its layer joins the setup)")
		fs.BoolVar(&recommends, "recommends", false, "also include LAYERRECOMMENDS, transitively")
		fs.StringVar(&format, "format", "bitbake-setup", "output: bitbake-setup (JSON), kas (YAML), bblayers (bblayers.conf) or commands (git)")
		fs.StringVar(&bitbakeURL, "bitbake-url", setup.DefaultBitbakeURL, "BitBake's repository")
	})
	if err != nil {
		return err
	}
	if len(rest) == 0 && machine == "" && distro == "" {
		return usageErr("expected `layerindex setup --branch B [--machine M] [--distro D] [--recommends] [--format F] LAYER…`")
	}
	a, err := openApp(ctx, cfg, newLogger(cfg, e.stderr))
	if err != nil {
		return err
	}
	defer a.close()
	st := store.New(a.db.Gorm)
	b, err := st.BrowseBranch(ctx, branch)
	if errors.Is(err, store.ErrNotFound) {
		return usageErr("no release branch named %q", branch)
	} else if err != nil {
		return err
	}
	plan, err := setup.Resolve(ctx, st, setup.Request{Branch: b, Layers: rest, Machine: machine, Distro: distro, Recommends: recommends})
	if err != nil {
		return err
	}
	for _, w := range plan.Warnings {
		fmt.Fprintln(e.stderr, "warning:", w)
	}
	o := setup.Options{BitbakeURL: bitbakeURL}
	var out []byte
	switch strings.ToLower(format) {
	case "bitbake-setup", "json":
		out, err = plan.BitbakeSetup(o)
	case "kas", "yaml":
		out, err = plan.Kas(o)
	case "bblayers":
		out = []byte(plan.BBLayers())
	case "commands":
		out = []byte(plan.Commands(o))
	default:
		return usageErr("--format must be bitbake-setup, kas, bblayers or commands")
	}
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(out)
	return err
}
