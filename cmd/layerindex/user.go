package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"layerindex/internal/auth"
	"layerindex/internal/store"
)

// runUser dispatches `layerindex user <subcommand>`.
func runUser(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] != "create" {
		return usageErr("expected `layerindex user create --email E [--name N] [--admin]`")
	}
	return runUserCreate(ctx, args[1:], e)
}

// runUserCreate creates an account with a verified email; the password is
// read from the terminal (asked twice) or, when piped, from the first line
// of standard input.
func runUserCreate(ctx context.Context, args []string, e env) error {
	var email, name string
	var admin bool
	cfg, rest, err := loadConfig("user create", args, e, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email address (the login)")
		fs.StringVar(&name, "name", "", "display name")
		fs.BoolVar(&admin, "admin", false, "make the account an administrator")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("unexpected argument %q", rest[0])
	}
	email = strings.TrimSpace(email)
	if email == "" || !strings.Contains(email, "@") || strings.ContainsAny(email, " \t\r\n<>") {
		return usageErr("--email must be an email address")
	}
	pw, err := readPassword(e)
	if err != nil {
		return err
	}
	if err := auth.ValidatePassword(pw); err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}

	log := newLogger(cfg, e.stderr)
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	u := &store.User{Email: email, Name: name, PasswordHash: hash, Verified: true, IsAdmin: admin, IsActive: true}
	if err := store.New(a.db.Gorm).CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("an account with email %s already exists", email)
		}
		return err
	}
	role := "user"
	if admin {
		role = "administrator"
	}
	fmt.Fprintf(e.stdout, "created %s %s (id %d)\n", role, email, u.ID)
	return nil
}

func readPassword(e env) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, "Password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(e.stderr, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords do not match")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(io.LimitReader(e.stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password given on standard input")
	}
	return line, nil
}
