// Package jobs runs the index's background work on River: one client type
// for both databases (River's database/sql driver on PostgreSQL, with a pgx
// pool for LISTEN when it works jobs; its SQLite driver otherwise), the job
// kinds and their workers, the periodic schedule, and InTx, the one way to
// write rows and insert jobs so that both commit or neither does.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm"

	"layerindex/internal/db"
	"layerindex/internal/store"
)

// Options configures a Queue.
type Options struct {
	// Work makes the client fetch and work jobs; without it the client only
	// inserts (a web process beside separate workers).
	Work bool
	// MaxWorkers bounds the jobs this process works at once.
	MaxWorkers int
	// UpdatePurge is how long update logs are kept.
	UpdatePurge time.Duration
	// SoftStopTimeout is how long running jobs get to finish on shutdown
	// before their contexts are cancelled.
	SoftStopTimeout time.Duration
	// IngestWorkers bounds concurrent fetch-and-parse jobs (each holds a
	// clone and a parse in memory); default 1.
	IngestWorkers int
	// PollInterval overrides River's fetch poll interval (tests).
	PollInterval time.Duration
	// RescueAfter bounds how long a job or an update run stays "running"
	// after the process working it died: the sweep that finds them runs
	// twice in that time (default: a minute). See liveness.go.
	RescueAfter time.Duration
	// SweepInterval is how often dead update runs and jobs are looked
	// for (default: half of RescueAfter).
	SweepInterval time.Duration
	// NoStartRefresh leaves out the refresh of every layer that a
	// working process's leader queues when it starts (then every half
	// hour): tests that count the runs of a layer branch.
	NoStartRefresh bool
	Logger         *slog.Logger
	// Mail configures the mail worker (see mail.go).
	Mail MailOptions
}

// Queue is the application's River client with the database it runs on.
type Queue struct {
	db      *db.DB
	client  *river.Client[*sql.Tx]
	log     *slog.Logger
	work    bool
	handler Handler // set by SetHandler before Start

	clientKey int64         // the key of the lock this working process holds while it lives
	rescue    time.Duration // see Options.RescueAfter
	alive     *liveness
}

// New builds the River client for d. It does not start working; see Start.
func New(ctx context.Context, d *db.DB, opts Options) (*Queue, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var driver riverdriver.Driver[*sql.Tx]
	switch {
	case d.Dialect == db.SQLite:
		driver = riversqlite.New(d.SQL)
	case opts.Work:
		pool, err := d.ListenPool(ctx)
		if err != nil {
			return nil, fmt.Errorf("job queue listener: %w", err)
		}
		driver = riverdatabasesql.NewWithPgxListener(d.SQL, pool)
	default:
		driver = riverdatabasesql.New(d.SQL)
	}

	st := store.New(d.Gorm)
	q := &Queue{db: d, log: log, work: opts.Work, rescue: cmpDuration(opts.RescueAfter, time.Minute)}
	workers := river.NewWorkers()
	river.AddWorker(workers, &purgeUpdatesWorker{store: st, keep: cmpDuration(opts.UpdatePurge, 30*24*time.Hour), log: log})
	river.AddWorker(workers, &updateRunWorker{q: q})
	river.AddWorker(workers, &discoverWorker{q: q})
	river.AddWorker(workers, &refreshAllWorker{q: q})
	river.AddWorker(workers, &sweepRunsWorker{q: q})
	river.AddWorker(workers, &adminDigestWorker{q: q})
	river.AddWorker(workers, &validateLayerWorker{q: q})
	river.AddWorker(workers, &legacyBranchWorker{q: q})
	river.AddWorker(workers, &legacyLayerWorker{q: q})
	addAccountWorkers(workers, st, opts.Mail, log)

	cfg := &river.Config{
		Logger:          log.With("component", "river"),
		Workers:         workers,
		SoftStopTimeout: cmpDuration(opts.SoftStopTimeout, 10*time.Second),
		JobTimeout:      jobTimeout,
		// River's own rescue of jobs left running, after their timeout
		// and this (its default is an hour): for jobs of processes whose
		// liveness is unknown; those of this application's processes are
		// rescued sooner (liveness.go).
		RescueStuckJobsAfter: rescueAfter,
		Middleware:           []rivertype.Middleware{&requestIDs{}},
	}
	if opts.Work {
		cfg.ID, q.clientKey = newClientID()
		cfg.Queues = map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: max(opts.MaxWorkers, 1)},
			// A worker slot freed by an update is filled after this
			// cooldown (River's default, 100 ms, is longer than a whole
			// unchanged update: the periodic refresh of ≈ 2,400 layer
			// branches would wait 4 minutes between its jobs).
			QueueIngest: {MaxWorkers: max(opts.IngestWorkers, 1), FetchCooldown: ingestFetchCooldown},
		}
		cfg.PeriodicJobs = append(periodicJobs(cmpDuration(opts.SweepInterval, q.rescue/2), !opts.NoStartRefresh), accountPeriodicJobs()...)
		if opts.PollInterval > 0 {
			cfg.FetchPollInterval = opts.PollInterval
			cfg.FetchCooldown = min(opts.PollInterval, 100*time.Millisecond)
		}
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	q.client = client
	return q, nil
}

// periodicJobs is the schedule. Every working client registers the same set;
// only the elected leader inserts them.
func periodicJobs(sweep time.Duration, refreshOnStart bool) []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(6*time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return PurgeUpdatesArgs{}, nil },
			&river.PeriodicJobOpts{ID: "purge_updates", RunOnStart: true}),
		// Every half hour, as upstream's cron does; unchanged layers cost a
		// fetch and a tree comparison.
		river.NewPeriodicJob(river.PeriodicInterval(30*time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return RefreshAllArgs{}, nil },
			&river.PeriodicJobOpts{ID: "refresh_all", RunOnStart: refreshOnStart}),
		// A run or a job whose process died is found by its free lock
		// within the rescue time and retried (every working process also
		// sweeps on start).
		river.NewPeriodicJob(river.PeriodicInterval(sweep),
			func() (river.JobArgs, *river.InsertOpts) { return SweepRunsArgs{}, nil },
			&river.PeriodicJobOpts{ID: "sweep_runs"}),
		// The administrators' digest of broken and stale layers.
		river.NewPeriodicJob(Weekly{},
			func() (river.JobArgs, *river.InsertOpts) { return AdminDigestArgs{}, nil },
			&river.PeriodicJobOpts{ID: "admin_digest"}),
	}
}

// Start begins working jobs until ctx is cancelled or Stop is called. It is a
// no-op for an insert-only queue. A working process first sweeps the update
// runs, so none stays "running" after the process that ran it died.
func (q *Queue) Start(ctx context.Context) error {
	if !q.work {
		return nil
	}
	alive, err := q.holdLiveness(ctx)
	if err != nil {
		return err
	}
	q.alive = alive
	if q.handler != nil {
		if err := q.handler.SweepRuns(ctx); err != nil {
			q.log.Warn("sweeping update runs at start", "err", err)
		}
	}
	if _, err := q.RescueDeadJobs(ctx, q.rescue/2); err != nil {
		q.log.Warn("rescuing the jobs of stopped processes at start", "err", err)
	}
	if err := q.client.Start(ctx); err != nil {
		q.alive.close()
		q.alive = nil
		return err
	}
	return nil
}

// Stop waits for running jobs to finish (up to the soft stop timeout, then
// cancels them) and stops the client.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.work {
		return nil
	}
	err := q.client.Stop(ctx)
	if q.alive != nil {
		q.alive.close()
		q.alive = nil
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Client exposes the River client (for the admin job UI and tests).
func (q *Queue) Client() *river.Client[*sql.Tx] { return q.client }

// Tx is a database transaction that can also insert jobs.
type Tx struct {
	*store.Store
	ctx    context.Context
	gorm   *gorm.DB
	sqlTx  *sql.Tx
	client *river.Client[*sql.Tx]
}

// GORM is the transaction's GORM handle.
func (t *Tx) GORM() *gorm.DB { return t.gorm }

// Enqueue inserts a job in the transaction: it is worked only if the
// transaction commits.
func (t *Tx) Enqueue(args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return t.client.InsertTx(t.ctx, t.sqlTx, args, opts)
}

// RetryJob makes a scheduled job due now, in the transaction (a request
// that joins a run waiting for its next attempt brings the attempt forward).
func (t *Tx) RetryJob(id int64) error {
	_, err := t.client.JobRetryTx(t.ctx, t.sqlTx, id)
	return err
}

// InTx runs fn in one database transaction. Rows written through tx and jobs
// inserted with tx.Enqueue commit together when fn returns nil, and are all
// rolled back when it returns an error or panics.
func (q *Queue) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	return q.db.Gorm.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		sqlTx, err := db.SQLTx(g)
		if err != nil {
			return err
		}
		return fn(&Tx{Store: store.Tx(g), ctx: ctx, gorm: g, sqlTx: sqlTx, client: q.client})
	})
}

// InSavepoint runs fn inside the transaction st is already in (one opened
// elsewhere, such as the index's own), within a savepoint: rows written
// and jobs inserted through tx commit with that transaction, but an error
// from fn rolls back only fn's part, so a side effect cannot undo the
// work it follows.
func (q *Queue) InSavepoint(ctx context.Context, st *store.Store, fn func(tx *Tx) error) error {
	return st.DB().WithContext(ctx).Transaction(func(g *gorm.DB) error {
		sqlTx, err := db.SQLTx(g)
		if err != nil {
			return err
		}
		return fn(&Tx{Store: store.Tx(g), ctx: ctx, gorm: g, sqlTx: sqlTx, client: q.client})
	})
}

// Enqueue inserts a job on its own, outside any other write.
func (q *Queue) Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	var res *rivertype.JobInsertResult
	err := q.InTx(ctx, func(tx *Tx) error {
		var err error
		res, err = tx.Enqueue(args, opts)
		return err
	})
	return res, err
}

func cmpDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
