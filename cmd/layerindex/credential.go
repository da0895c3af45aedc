package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"layerindex/internal/repocreds"
	"layerindex/internal/store"
)

// runCredential dispatches `layerindex credential set|list|remove`: the
// credentials of private repositories, per URL prefix. Only whoever runs
// the command line (an administrator) sets them; the secret is read from
// standard input (or the terminal), sealed, and never printed again.
func runCredential(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		return usageErr("expected `layerindex credential set --prefix URL [--kind token|basic] [--username U]`, `credential list` or `credential remove --prefix URL`")
	}
	var prefix, kind, username string
	cmd := "credential " + args[0]
	cfg, rest, err := loadConfig(cmd, args[1:], e, func(fs *flag.FlagSet) {
		switch args[0] {
		case "set":
			fs.StringVar(&kind, "kind", repocreds.KindToken, "token (an access token) or basic (user name and password)")
			fs.StringVar(&username, "username", "", "user name (basic; optional for a token)")
			fallthrough
		case "remove":
			fs.StringVar(&prefix, "prefix", "", "URL prefix the credential is for, e.g. https://git.example.com/team/")
		}
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("unexpected argument %q", rest[0])
	}
	var secret string
	switch args[0] {
	case "set":
		if _, err := repocreds.CheckPrefix(prefix); err != nil {
			return usageErr("--prefix: %v", err)
		}
		if secret, err = readPassword(e); err != nil {
			return err
		}
	case "remove":
		if prefix == "" {
			return usageErr("--prefix is required")
		}
	case "list":
	default:
		return usageErr("unknown subcommand %q: set, list or remove", args[0])
	}
	a, err := openApp(ctx, cfg, newLogger(cfg, e.stderr))
	if err != nil {
		return err
	}
	defer a.close()
	st := store.New(a.db.Gorm)
	switch args[0] {
	case "set":
		src, err := a.credentials()
		if err != nil {
			return err
		}
		if err := src.Set(ctx, prefix, kind, username, secret); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "saved the %s credential for %s\n", kind, prefix)
	case "remove":
		if err := st.DeleteRepoCredential(ctx, prefix); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no credential for %s", prefix)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "removed the credential for %s\n", prefix)
	case "list":
		cs, err := st.RepoCredentials(ctx)
		if err != nil {
			return err
		}
		for _, c := range cs {
			fmt.Fprintf(e.stdout, "%s\t%s\t%s\t%s\n", c.URLPrefix, c.Kind, c.Username, c.CreatedAt.UTC().Format("2006-01-02 15:04"))
		}
	}
	return nil
}
