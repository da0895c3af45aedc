// Command layerindex serves the OpenEmbedded layer index, works its jobs, and
// offers the command-line tools around it. Run `layerindex help` for the
// list of commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"layerindex/internal/config"
	"layerindex/internal/isolate"
)

func main() {
	// A child started to parse layer content runs its job here and exits.
	isolate.Child()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env is what a command receives from the process, passed explicitly so
// tests can run commands in-process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, e env) error
	sub           string // the subcommand, for commands that have one (`layer add`)
}

var commands []command

func init() {
	commands = []command{
		{"serve", "serve the web site (and work jobs, unless --embedded-worker=false)", runServe, ""},
		{"worker", "work background jobs only (production: run beside `serve --embedded-worker=false`)", runWorker, ""},
		{"migrate", "apply database migrations and exit", runMigrate, ""},
		{"user", "manage accounts: `user create --email E [--admin]`", runUser, "create"},
		{"branch", "add a release branch: `branch add NAME [--bitbake-branch B]`", runBranch, "add"},
		{"layer", "add a layer: `layer add --name N --vcs-url URL [--subdir S] [--type T] [--publish]`", runLayer, "add"},
		{"credential", "private repositories' credentials: `credential set --prefix URL [--kind token|basic]`, `list`, `remove`", runCredential, "set"},
		{"comparison", "other distributions' package lists: `comparison import --branch NAME --format deb|rpmspec|csv PATH`, `match`, `editor`", runComparison, "import"},
		{"update", "update layers: `update [--layer N] [--branch B] [--force] [--wait]`", runUpdate, ""},
		{"import", "mirror another layer index through its REST API: `import [--branch B] [--recipes] URL`", runImport, ""},
		{"parse", "parse a layer statically and print one JSON object per recipe", func(ctx context.Context, args []string, e env) error {
			return runParse(ctx, args, e.stdout, e.stderr)
		}, ""},
		{"setup", "print a build setup (bitbake-setup JSON, kas, bblayers.conf): `setup --branch B LAYER…`", runSetup, ""},
		{"version", "print the version", runVersion, ""},
		{"help", "show this help", func(ctx context.Context, args []string, e env) error {
			usage(e.stdout)
			return nil
		}, ""},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: layerindex <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nsettings (flag, environment variable, meaning):")
	config.Usage(w)
}

// run is main without globals: it returns the exit code. Errors are printed
// as one line; no command panics on bad input.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	if name == "-h" || name == "--help" {
		name = "help"
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		if c.sub != "" && len(args) > 1 && isHelp(args[1]) {
			fmt.Fprintf(stdout, "usage: layerindex %s %s [flags]\n\n%s\n\n`layerindex %s %s --help` lists its flags.\n",
				c.name, c.sub, c.summary, c.name, c.sub)
			return 0
		}
		err := c.run(ctx, args[1:], env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr})
		switch {
		case err == nil:
			return 0
		case errors.Is(err, config.ErrHelp):
			var he *config.HelpError
			if errors.As(err, &he) {
				fmt.Fprint(stdout, he.Usage)
			} else {
				usage(stdout)
			}
			return 0
		}
		fmt.Fprintf(stderr, "layerindex %s: %s\n", name, oneLine(err.Error()))
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	fmt.Fprintf(stderr, "layerindex: unknown command %q (run `layerindex help`)\n", name)
	return 2
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// oneLine folds a multi-line error (pgx lists each connection attempt on its
// own line) into one line, so every failure is a single greppable line.
func oneLine(s string) string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return strings.Join(parts, " ")
}

// usageError is a mistake in how a command was called (exit code 2).
type usageError string

func (e usageError) Error() string { return string(e) }

func usageErr(format string, a ...any) error { return usageError(fmt.Sprintf(format, a...)) }
