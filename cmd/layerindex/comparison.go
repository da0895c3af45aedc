package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"layerindex/internal/comparison"
)

// runComparison dispatches `layerindex comparison import|match|editor`:
// other distributions' package lists compared with the index (the same
// rules as the administrators' web form, in internal/comparison).
func runComparison(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		return usageErr("expected `layerindex comparison import --branch NAME --format deb|rpmspec|csv [--match-branch B] PATH`, `comparison match --branch NAME`, `comparison delete --branch NAME` or `comparison editor --email E [--revoke]`")
	}
	var branch, format, matchBranch, desc, email string
	var revoke bool
	cmd := "comparison " + args[0]
	cfg, rest, err := loadConfig(cmd, args[1:], e, func(fs *flag.FlagSet) {
		switch args[0] {
		case "import":
			fs.StringVar(&format, "format", "", "deb (a Debian Packages file), rpmspec (a directory of .spec files, a tar archive of one, or one .spec) or csv (name, version, summary, license, category)")
			fs.StringVar(&matchBranch, "match-branch", "", "release branch whose recipes cover the packages (default: the comparison's, else master)")
			fs.StringVar(&desc, "description", "", "what the list is, e.g. \"Debian 13 (trixie) main, amd64\"")
			fallthrough
		case "match", "delete":
			fs.StringVar(&branch, "branch", "", "comparison branch name (created by the first import)")
		case "editor":
			fs.StringVar(&email, "email", "", "the account's email")
			fs.BoolVar(&revoke, "revoke", false, "take the permission back")
		}
	})
	if err != nil {
		return err
	}
	switch args[0] {
	case "import":
		if len(rest) != 1 {
			return usageErr("expected one file or directory to import")
		}
	case "match", "editor", "delete":
		if len(rest) > 0 {
			return usageErr("unexpected argument %q", rest[0])
		}
	default:
		return usageErr("unknown subcommand %q: import, match, delete or editor", args[0])
	}
	if args[0] != "editor" && branch == "" {
		return usageErr("--branch is required")
	}
	var req comparison.ImportRequest
	var warnings []string
	if args[0] == "import" {
		req = comparison.ImportRequest{Branch: branch, Description: desc, MatchBranch: matchBranch, Format: format, Source: filepath.Base(rest[0])}
		if req.Packages, warnings, err = readListFile(format, rest[0]); err != nil {
			return err
		}
	}
	a, err := openApp(ctx, cfg, newLogger(cfg, e.stderr))
	if err != nil {
		return err
	}
	defer a.close()
	svc := comparison.New(a.db.Gorm)
	switch args[0] {
	case "import":
		for _, w := range warnings {
			fmt.Fprintf(e.stderr, "warning: %s\n", w)
		}
		res, err := svc.Import(ctx, comparison.CLI, req)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: %d packages read; %d added, %d updated, %d no longer listed, %d unchanged; the matcher changed %d covers; %d verified covers need attention\n",
			res.Branch.Name, res.PackagesN, res.Added, res.Updated, res.Removed, res.Unchanged, res.Matched.Changed,
			res.VerifiedNeedingAttention+res.Matched.Attention)
	case "match":
		res, err := svc.Match(ctx, comparison.CLI, branch)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: the matcher changed %d covers; %d verified covers need attention\n", branch, res.Changed, res.Attention)
	case "delete":
		if err := svc.Delete(ctx, comparison.CLI, branch); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "deleted comparison %s\n", branch)
	case "editor":
		u, err := svc.SetEditor(ctx, email, !revoke)
		if err != nil {
			return err
		}
		verb := "may now confirm and change"
		if revoke {
			verb = "may no longer confirm or change"
		}
		fmt.Fprintf(e.stdout, "%s %s comparison covers\n", u.Email, verb)
	}
	return nil
}

// readListFile parses a package list from a file, or for rpmspec a
// directory of spec files (symbolic links are not followed).
func readListFile(format, path string) ([]comparison.Package, []string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if st.IsDir() {
		if format != comparison.FormatRPMSpec {
			return nil, nil, usageErr("%s is a directory: only --format rpmspec reads a directory", path)
		}
		files, err := comparison.SpecsFromFS(os.DirFS(path))
		if err != nil {
			return nil, nil, err
		}
		return comparison.ParseSpecs(files)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return comparison.ReadList(format, f, filepath.Base(path))
}
