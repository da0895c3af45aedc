package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"layerindex/internal/repocreds"
)

// runCredential dispatches `layerindex credential set|list|remove`: the
// credentials of private repositories, per URL prefix. Only whoever runs
// the command line (an administrator) sets them; the secret is read from
// standard input (or the terminal; an ssh key from --key-file or all of
// standard input), sealed, and never printed again. The rules are
// repocreds.Source's, as for the administrators' page.
func runCredential(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		return usageErr("expected `layerindex credential set --prefix URL [--kind token|basic|ssh] [--username U] [--known-hosts LINE] [--key-file F]`, `credential list` or `credential remove --prefix URL`")
	}
	var prefix, kind, username, knownHosts, keyFile string
	cmd := "credential " + args[0]
	cfg, rest, err := loadConfig(cmd, args[1:], e, func(fs *flag.FlagSet) {
		switch args[0] {
		case "set":
			fs.StringVar(&kind, "kind", repocreds.KindToken, "token (an access token), basic (user name and password) or ssh (a deploy key)")
			fs.StringVar(&username, "username", "", "user name (basic; optional for a token; for ssh the user when a URL names none, default git)")
			fs.StringVar(&knownHosts, "known-hosts", "", "ssh: the server's known_hosts line (ssh-keyscan -t ed25519 HOST), pinned")
			fs.StringVar(&keyFile, "key-file", "", "ssh: file of the private deploy key (default: all of standard input)")
			fallthrough
		case "remove":
			fs.StringVar(&prefix, "prefix", "", "URL prefix the credential is for, e.g. https://git.example.com/team/ or ssh://git.example.com/team/")
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
		if kind == repocreds.KindSSH {
			if knownHosts == "" {
				return usageErr("--known-hosts is required with --kind ssh")
			}
			if secret, err = readKey(keyFile, e); err != nil {
				return err
			}
		} else if secret, err = readPassword(e); err != nil {
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
	src, err := a.credentials()
	if err != nil {
		return err
	}
	switch args[0] {
	case "set":
		err := src.Set(ctx, repocreds.Credential{Prefix: prefix, Kind: kind, Username: username, Secret: secret, KnownHosts: knownHosts})
		if err != nil {
			return err
		}
		p, _ := repocreds.CheckPrefix(prefix)
		fmt.Fprintf(e.stdout, "saved the %s credential for %s\n", kind, p)
	case "remove":
		if err := src.Remove(ctx, prefix); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "removed the credential for %s\n", prefix)
	case "list":
		cs, err := src.List(ctx)
		if err != nil {
			return err
		}
		for _, c := range cs {
			fmt.Fprintf(e.stdout, "%s\t%s\t%s\t%s\t%s\n", c.Prefix, c.Kind, c.Username, c.SetAt.UTC().Format("2006-01-02 15:04"), c.HostKey)
		}
	}
	return nil
}

// readKey reads an ssh private key from a file, or all of standard input.
func readKey(path string, e env) (string, error) {
	var r io.Reader = e.stdin
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return "", fmt.Errorf("reading the key: %w", err)
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", errors.New("no key given (--key-file, or standard input)")
	}
	return string(b), nil
}
