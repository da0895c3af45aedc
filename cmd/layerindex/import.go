package main

import (
	"context"
	"flag"
	"fmt"
	"regexp"
	"strings"

	"layerindex/internal/api"
	"layerindex/internal/store"
)

// runImport mirrors another layer index (ours or upstream's layerindex-web,
// e.g. https://layers.openembedded.org) through its REST API into this
// one's database. Running it again changes only what changed there.
func runImport(ctx context.Context, args []string, e env) error {
	var branches, layers string
	var recipes, reload bool
	cfg, rest, err := loadConfig("import", args, e, func(fs *flag.FlagSet) {
		fs.StringVar(&branches, "branch", "", "comma-separated branch names to import (default: all)")
		fs.StringVar(&layers, "layer", "", "regular expression the layer names to import must match (default: all)")
		fs.BoolVar(&recipes, "recipes", false, "also import each layer's index: recipes, machines, distros, classes, appends, inc files")
		fs.BoolVar(&reload, "reload", false, "with --recipes: re-import indexes whose revision is unchanged")
	})
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErr("expected `layerindex import [--branch B,…] [--layer REGEXP] [--recipes] [--reload] URL`")
	}
	opts := api.ImportOptions{Recipes: recipes, Reload: reload}
	for _, b := range strings.Split(branches, ",") {
		if b = strings.TrimSpace(b); b != "" {
			opts.Branches = append(opts.Branches, b)
		}
	}
	if layers != "" {
		if opts.Layers, err = regexp.Compile("^(?:" + layers + ")$"); err != nil {
			return usageErr("--layer: %v", err)
		}
	}
	log := newLogger(cfg, e.stderr)
	opts.Logger = log
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	cat, err := a.queueOnly(ctx)
	if err != nil {
		return err
	}
	opts.CheckVCSURL = cat.CheckImportedURL
	res, err := api.Import(ctx, store.New(a.db.Gorm), rest[0], opts)
	if err != nil {
		return err
	}
	c := func(name string, m store.MirrorCounts) {
		fmt.Fprintf(e.stdout, "%-17s %d created, %d updated, %d unchanged, %d deleted\n", name+":", m.Created, m.Updated, m.Unchanged, m.Deleted)
	}
	for _, r := range res.Refused {
		fmt.Fprintf(e.stderr, "skipped layer %s\n", r)
	}
	c("branches", res.Branches)
	c("layers", res.Layers)
	c("layer branches", res.LayerBranches)
	c("maintainers", res.Maintainers)
	c("dependencies", res.Dependencies)
	c("notes", res.Notes)
	if recipes {
		fmt.Fprintf(e.stdout, "%-17s %d imported, %d already current\n", "indexes:", res.Indexed, res.IndexSkipped)
		fmt.Fprintf(e.stdout, "%-17s %d added, %d changed, %d removed, %d unchanged\n", "recipes:",
			res.Recipes.Added, res.Recipes.Changed, res.Recipes.Removed, res.Recipes.Unchanged)
	}
	return nil
}
