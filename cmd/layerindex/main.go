// Command layerindex serves the OpenEmbedded layer index, works its jobs, and
// offers the command-line tools around it (migrate, user, parse, version).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without globals, so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: layerindex <serve|worker|migrate|user|parse|version> [flags]")
		return 2
	}
	var err error
	switch args[0] {
	case "parse":
		err = runParse(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "layerindex: unknown command %q\n", args[0])
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "layerindex %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
