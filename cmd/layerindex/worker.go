package main

import (
	"context"
	"fmt"
	"time"

	"layerindex/internal/jobs"
)

// runWorker works jobs until interrupted. Any number of workers may run
// beside the web processes on PostgreSQL.
func runWorker(ctx context.Context, args []string, e env) error {
	cfg, rest, err := loadConfig("worker", args, e, nil)
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
	if err := startDebug(ctx, cfg.DebugListen, log, a.db.Gorm); err != nil {
		return err
	}
	q, err := jobs.New(ctx, a.db, jobOptions(a, true))
	if err != nil {
		return err
	}
	if _, err := a.catalog(q); err != nil {
		return err
	}
	if err := q.Start(ctx); err != nil {
		return fmt.Errorf("starting the job worker: %w", err)
	}
	log.Info("layerindex worker is running", "database", a.databaseName(), "workers", cfg.Workers)
	go fillRecipeJSON(ctx, a, log)
	<-ctx.Done()
	log.Info("shutting down")
	stopCtx, cancel := context.WithTimeout(context.Background(), jobGrace+time.Second)
	defer cancel()
	if err := q.Stop(stopCtx); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}
