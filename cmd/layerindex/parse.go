package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"layerindex/internal/bitbake"
	"layerindex/internal/bitbake/accuracy"
)

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// runParse implements `layerindex parse [--with DEPLAYERDIR]... LAYERDIR`:
// one JSON object per recipe on stdout (the ground-truth keys), a summary
// line on stderr.
func runParse(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("parse", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var with multiFlag
	fl.Var(&with, "with", "dependency layer directory (repeatable); the core layer may be one of them")
	oldSyntax := fl.Bool("old-syntax", false, "use BitBake <= 1.50 override syntax (VAR_append, VAR_override)")
	newSyntax := fl.Bool("new-syntax", false, "use BitBake >= 1.52 override syntax (VAR:append); default: detected from the core layer")
	jobs := fl.Int("jobs", 0, "parallel recipe parses (default GOMAXPROCS)")
	diags := fl.Bool("diags", false, "add diagnostics and unevaluated python to each record")
	explain := fl.String("explain", "", "compare with a ground-truth JSONL file and print disagreements on stderr")
	only := fl.String("recipe", "", "parse only recipes whose path contains this string")
	printVars := fl.String("print", "", "comma-separated extra variables to add to each record")
	facts := fl.Bool("facts", false, "print the layer's conf/layer.conf facts and file classification instead of recipes")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: layerindex parse [--with DEPLAYERDIR]... [flags] LAYERDIR")
		fl.PrintDefaults()
	}
	// Flags may also follow LAYERDIR.
	var positional []string
	for rest := args; ; {
		if err := fl.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil // the usage is printed
			}
			return err
		}
		if fl.NArg() == 0 {
			break
		}
		positional = append(positional, fl.Arg(0))
		rest = fl.Args()[1:]
	}
	if len(positional) != 1 {
		fl.Usage()
		return errors.New("expected exactly one LAYERDIR")
	}
	if os.Getenv("GOGC") == "" {
		// Parsing allocates many short-lived values and the live heap
		// stays small (under 100 MB for oe-core): collect less often.
		debug.SetGCPercent(400)
	}
	start := time.Now()
	target, closeFn, err := openLayer(positional[0])
	if err != nil {
		return err
	}
	defer closeFn()
	if *facts {
		return printFacts(target, stdout)
	}
	var deps []bitbake.Layer
	for _, w := range with {
		l, c, err := openLayer(w)
		if err != nil {
			return err
		}
		defer c()
		deps = append(deps, l)
	}
	opts := bitbake.Options{OldSyntax: *oldSyntax, Jobs: *jobs}
	if !*oldSyntax && !*newSyntax {
		for _, l := range append([]bitbake.Layer{target}, deps...) {
			if bitbake.IsCoreLayer(l.FS) {
				opts.OldSyntax = bitbake.DetectOldSyntax(l.FS)
			}
		}
	}
	if *printVars != "" {
		opts.ExtraVars = strings.Split(*printVars, ",")
	}
	cfg, err := bitbake.NewConfig(target, deps, opts)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	configTime := time.Since(start)
	paths, err := bitbake.Recipes(target.FS)
	if err != nil {
		return err
	}
	if *only != "" {
		var keep []string
		for _, p := range paths {
			if strings.Contains(p, *only) {
				keep = append(keep, p)
			}
		}
		paths = keep
	}
	recipes := cfg.ParseRecipes(ctx, paths)
	w := bufio.NewWriter(stdout)
	records := map[string]accuracy.Record{}
	var skipped, errs, uncertain, done int
	for _, r := range recipes {
		if r == nil {
			continue
		}
		done++
		rec := r.Record()
		if r.Skipped {
			skipped++
		}
		if r.Errors > 0 {
			errs++
		}
		if r.Uncertain() {
			uncertain++
		}
		for _, v := range opts.ExtraVars {
			if val, ok := r.Vars[v]; ok {
				rec[v] = val
			} else {
				rec[v] = nil
			}
		}
		if *diags {
			rec["diags"] = r.Diags
			rec["python_failed"] = r.Failed
			rec["python_steps"] = r.PythonSteps
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		w.Write(b)
		w.WriteByte('\n')
		if *explain != "" {
			var back accuracy.Record
			_ = json.Unmarshal(b, &back)
			records[r.Path] = back
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "layerindex parse: %d recipes (%d skipped, %d with errors, %d uncertain) in %.2fs (configuration %.2fs)\n",
		done, skipped, errs, uncertain, time.Since(start).Seconds(), configTime.Seconds())
	if *explain != "" {
		return explainAgainst(*explain, records, recipes, stderr, *only != "")
	}
	return ctx.Err()
}

// openLayer opens a layer directory through os.Root, so that symbolic
// links cannot lead outside it.
func openLayer(dir string) (bitbake.Layer, func(), error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return bitbake.Layer{}, nil, err
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return bitbake.Layer{}, nil, err
	}
	if _, err := fs.Stat(root.FS(), "conf/layer.conf"); err != nil {
		root.Close()
		return bitbake.Layer{}, nil, fmt.Errorf("%s: no conf/layer.conf", dir)
	}
	return bitbake.Layer{Name: filepath.Base(abs), FS: root.FS()}, func() { root.Close() }, nil
}

func printFacts(l bitbake.Layer, stdout io.Writer) error {
	f, err := bitbake.ReadLayerFacts(l.FS)
	if err != nil {
		return err
	}
	files, err := bitbake.WalkLayer(l.FS)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", " ")
	return enc.Encode(map[string]any{"facts": f, "files": files})
}

// explainAgainst prints the metric and every disagreement with the
// python the parser could not evaluate for that recipe.
func explainAgainst(gtPath string, got map[string]accuracy.Record, recipes []*bitbake.Recipe, out io.Writer, subset bool) error {
	gt, err := accuracy.Load(gtPath)
	if err != nil {
		return err
	}
	if subset {
		for p := range gt {
			if _, ok := got[p]; !ok {
				delete(gt, p)
			}
		}
	}
	rep := accuracy.Compare(gt, got)
	byPath := map[string]*bitbake.Recipe{}
	for _, r := range recipes {
		if r != nil {
			byPath[r.Path] = r
		}
	}
	last := ""
	for _, m := range rep.Mismatches {
		if m.Path != last {
			last = m.Path
			fmt.Fprintf(out, "== %s\n", m.Path)
			if r := byPath[m.Path]; r != nil {
				for _, f := range r.Failed {
					fmt.Fprintf(out, "   python: %s\n", f)
				}
				for _, d := range r.Diags {
					fmt.Fprintf(out, "   diag: %s\n", d)
				}
				if r.Skipped {
					fmt.Fprintf(out, "   skipped: %s (gt: %v)\n", r.SkipReason, gt[m.Path]["skipped"])
				} else if s := gt[m.Path]["skipped"]; s != nil {
					fmt.Fprintf(out, "   not skipped (gt: %v)\n", s)
				}
			}
		}
		fmt.Fprintf(out, "   %-13s %s\n", m.Field, accuracy.Diff(m))
	}
	fmt.Fprint(out, rep.Summary())
	return nil
}
