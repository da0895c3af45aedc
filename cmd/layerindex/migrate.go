package main

import (
	"context"
	"fmt"
)

// runMigrate applies every pending migration and exits; serve and worker do
// the same on start, so this is for deployments that migrate as a step.
func runMigrate(ctx context.Context, args []string, e env) error {
	cfg, rest, err := loadConfig("migrate", args, e, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("unexpected argument %q", rest[0])
	}
	log := newLogger(cfg, e.stderr)
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	fmt.Fprintf(e.stdout, "%s is up to date\n", a.databaseName())
	return nil
}
