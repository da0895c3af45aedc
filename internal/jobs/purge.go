package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"layerindex/internal/store"
)

// PurgeUpdatesArgs asks for update logs older than the retention period to
// be deleted (upstream: UPDATE_PURGE_DAYS, done at the end of every run).
type PurgeUpdatesArgs struct{}

// Kind names the job in River.
func (PurgeUpdatesArgs) Kind() string { return "purge_updates" }

// InsertOpts makes the purge unique per hour: it is cheap, and one pending
// purge is enough however many times it is asked for.
func (PurgeUpdatesArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

type purgeUpdatesWorker struct {
	river.WorkerDefaults[PurgeUpdatesArgs]
	store *store.Store
	keep  time.Duration
	log   *slog.Logger
}

func (w *purgeUpdatesWorker) Timeout(*river.Job[PurgeUpdatesArgs]) time.Duration { return time.Minute }

func (w *purgeUpdatesWorker) Work(ctx context.Context, job *river.Job[PurgeUpdatesArgs]) error {
	n, err := w.store.PurgeUpdates(ctx, time.Now().Add(-w.keep))
	if err != nil {
		return err
	}
	if n > 0 {
		w.log.InfoContext(ctx, "purged old update logs", "runs", n, "older_than", time.Now().Add(-w.keep).Format(time.DateOnly))
	}
	return nil
}
