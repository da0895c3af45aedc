package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// QueueIngest is where fetching and parsing run, apart from light jobs
// (mail, housekeeping), so a long update never delays a notification and
// the number of concurrent clones — each costs 100+ MB — stays bounded.
const QueueIngest = "ingest"

// pendingStates makes a job unique while it is queued, running or waiting
// for a retry, but not once it has finished (River's default also blocks on
// completed jobs for a day).
var pendingStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// IngestTimeout bounds one attempt of an update; a stuck fetch or a
// pathological layer fails instead of holding a worker forever.
const IngestTimeout = 15 * time.Minute

// ingestFetchCooldown is the least time between two fetches of jobs of
// the ingest queue.
const ingestFetchCooldown = 5 * time.Millisecond

// jobTimeout bounds a job whose worker sets no timeout of its own.
const jobTimeout = 10 * time.Minute

// rescueAfter is when River gives a job still marked running to another
// worker: its process died. It must exceed every job's timeout. Update runs
// do not wait for it — the run sweep finds a dead run within a minute by
// its free lock — but other jobs do.
const rescueAfter = IngestTimeout + 5*time.Minute

// Handler does the work behind the index's jobs; internal/catalog
// implements it. The workers here only adapt River's jobs to it, so every
// rule about runs, retries and validation has one owner whichever process
// or front door started the work.
type Handler interface {
	// WorkRun works one attempt of update run runID for job jobID. It
	// returns how long to wait before the job is worked again (0: the job
	// is done; the run's row says how it ended).
	WorkRun(ctx context.Context, runID, jobID int64) (again time.Duration, err error)
	// DiscoverBranches finds release branches in a layer's repository that
	// the layer has no layer branch for yet, adds them and queues their
	// runs under update request updateID.
	DiscoverBranches(ctx context.Context, layerID, updateID int64) error
	// Refresh queues the periodic update of every published layer.
	Refresh(ctx context.Context) error
	// ValidateLayer checks a submitted layer's repository, attempt attempt
	// of max; retryAt is when the next attempt will be made if this one
	// fails transiently (zero on the last).
	ValidateLayer(ctx context.Context, layerID int64, attempt, max int, retryAt time.Time) error
	// SweepRuns closes runs whose process died and gives every waiting run
	// a live job.
	SweepRuns(ctx context.Context) error
	// AdminDigest mails the administrators the weekly digest of broken and
	// stale layers.
	AdminDigest(ctx context.Context) error
}

// SetHandler installs the handler of ingestion jobs; call it before Start.
// Without one, those jobs are cancelled (a process that only inserts jobs).
func (q *Queue) SetHandler(h Handler) { q.handler = h }

// errNoHandler cancels ingestion jobs in a process without a handler.
var errNoHandler = errors.New("this process is not configured for ingestion")

// UpdateRunArgs asks for one attempt of an update run (a layer branch's
// update, recorded in layer_updates). Runs are unique per layer branch by
// their own rule (one waiting, one running); the job is only the delivery.
type UpdateRunArgs struct {
	RunID int64 `json:"run_id"`
}

// Kind names the job in River.
func (UpdateRunArgs) Kind() string { return "update_run" }

// InsertOpts: the ingest queue. Retries of the run are the catalog's (it
// snoozes the job); River's attempts only cover failures to record them.
func (UpdateRunArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueIngest, MaxAttempts: 10}
}

type updateRunWorker struct {
	river.WorkerDefaults[UpdateRunArgs]
	q *Queue
}

func (w *updateRunWorker) Timeout(*river.Job[UpdateRunArgs]) time.Duration { return IngestTimeout }

func (w *updateRunWorker) Work(ctx context.Context, job *river.Job[UpdateRunArgs]) error {
	if w.q.handler == nil {
		return river.JobCancel(errNoHandler)
	}
	again, err := w.q.handler.WorkRun(ctx, job.Args.RunID, job.ID)
	if err != nil {
		return err
	}
	if again > 0 {
		return river.JobSnooze(again)
	}
	return nil
}

// DiscoverBranchesArgs asks for a layer's repository to be searched for
// release branches the layer is not on yet (how upstream picks up a new
// release); what is found is queued under update request UpdateID.
type DiscoverBranchesArgs struct {
	LayerID  int64 `json:"layer_id" river:"unique"`
	UpdateID int64 `json:"update_id"`
}

// Kind names the job in River.
func (DiscoverBranchesArgs) Kind() string { return "discover_branches" }

// InsertOpts: unique per layer while pending; a few retries for a
// repository that does not answer.
func (DiscoverBranchesArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueIngest, MaxAttempts: 3,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

type discoverWorker struct {
	river.WorkerDefaults[DiscoverBranchesArgs]
	q *Queue
}

func (w *discoverWorker) Timeout(*river.Job[DiscoverBranchesArgs]) time.Duration {
	return IngestTimeout
}

func (w *discoverWorker) Work(ctx context.Context, job *river.Job[DiscoverBranchesArgs]) error {
	if w.q.handler == nil {
		return river.JobCancel(errNoHandler)
	}
	return w.q.handler.DiscoverBranches(ctx, job.Args.LayerID, job.Args.UpdateID)
}

// RefreshAllArgs asks for every published layer to be brought up to date
// (the periodic refresh; unchanged layers are skipped cheaply).
type RefreshAllArgs struct{}

// Kind names the job in River.
func (RefreshAllArgs) Kind() string { return "refresh_all" }

// InsertOpts: one pending refresh is enough.
func (RefreshAllArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

type refreshAllWorker struct {
	river.WorkerDefaults[RefreshAllArgs]
	q *Queue
}

func (w *refreshAllWorker) Work(ctx context.Context, job *river.Job[RefreshAllArgs]) error {
	if w.q.handler == nil {
		return river.JobCancel(errNoHandler)
	}
	return w.q.handler.Refresh(ctx)
}

// SweepRunsArgs asks for dead update runs to be found and closed (or
// retried), for every waiting run to have a live job, and for the jobs of
// processes that died to be given back to River.
type SweepRunsArgs struct{}

// Kind names the job in River.
func (SweepRunsArgs) Kind() string { return "sweep_runs" }

// InsertOpts: one pending sweep is enough.
func (SweepRunsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

type sweepRunsWorker struct {
	river.WorkerDefaults[SweepRunsArgs]
	q *Queue
}

func (w *sweepRunsWorker) Timeout(*river.Job[SweepRunsArgs]) time.Duration { return time.Minute }

func (w *sweepRunsWorker) Work(ctx context.Context, job *river.Job[SweepRunsArgs]) error {
	var err error
	if w.q.handler != nil {
		err = w.q.handler.SweepRuns(ctx)
	}
	_, rerr := w.q.RescueDeadJobs(ctx, w.q.rescue/2)
	return errors.Join(err, rerr)
}

// ValidateLayerArgs asks for a submitted layer's repository to be checked:
// it can be cloned, has conf/layer.conf in the subdirectory, and which
// collection, dependencies and branches it has. Admins see the result when
// reviewing the submission.
type ValidateLayerArgs struct {
	LayerID int64 `json:"layer_id" river:"unique"`
}

// Kind names the job in River.
func (ValidateLayerArgs) Kind() string { return "validate_layer" }

// validateAttempts bounds the checks of a repository that does not answer;
// validateBackoff spaces them (the review page shows each failure and when
// the next attempt is due).
const validateAttempts = 4

var validateBackoff = []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute}

// InsertOpts: unique per layer while pending.
func (ValidateLayerArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueIngest, MaxAttempts: validateAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

type validateLayerWorker struct {
	river.WorkerDefaults[ValidateLayerArgs]
	q *Queue
}

func (w *validateLayerWorker) Timeout(*river.Job[ValidateLayerArgs]) time.Duration {
	return IngestTimeout
}

// NextRetry spaces the checks as the review page announces them.
func (w *validateLayerWorker) NextRetry(job *river.Job[ValidateLayerArgs]) time.Time {
	return validateRetryAt(job.Attempt, time.Now())
}

func validateRetryAt(attempt int, now time.Time) time.Time {
	i := min(max(attempt-1, 0), len(validateBackoff)-1)
	return now.Add(validateBackoff[i])
}

func (w *validateLayerWorker) Work(ctx context.Context, job *river.Job[ValidateLayerArgs]) error {
	if w.q.handler == nil {
		return river.JobCancel(errNoHandler)
	}
	var next time.Time
	if job.Attempt < job.MaxAttempts {
		next = validateRetryAt(job.Attempt, time.Now())
	}
	return w.q.handler.ValidateLayer(ctx, job.Args.LayerID, job.Attempt, job.MaxAttempts, next)
}

// Jobs queued by earlier versions, delivered to the handler in today's
// terms so an upgrade loses none.

// UpdateLayerBranchArgs is an earlier version's request to update one
// layer branch.
type UpdateLayerBranchArgs struct {
	LayerBranchID int64 `json:"layer_branch_id"`
	Force         bool  `json:"force,omitempty"`
}

// Kind names the job in River.
func (UpdateLayerBranchArgs) Kind() string { return "update_layer_branch" }

// UpdateLayerArgs is an earlier version's request to update every branch
// of a layer.
type UpdateLayerArgs struct {
	LayerID int64 `json:"layer_id"`
	Force   bool  `json:"force,omitempty"`
}

// Kind names the job in River.
func (UpdateLayerArgs) Kind() string { return "update_layer" }

// LegacyHandler turns an earlier version's jobs into today's requests.
type LegacyHandler interface {
	QueueLegacy(ctx context.Context, layerID, layerBranchID int64, force bool) error
}

type legacyBranchWorker struct {
	river.WorkerDefaults[UpdateLayerBranchArgs]
	q *Queue
}

func (w *legacyBranchWorker) Work(ctx context.Context, job *river.Job[UpdateLayerBranchArgs]) error {
	h, ok := w.q.handler.(LegacyHandler)
	if !ok {
		return river.JobCancel(errNoHandler)
	}
	return h.QueueLegacy(ctx, 0, job.Args.LayerBranchID, job.Args.Force)
}

type legacyLayerWorker struct {
	river.WorkerDefaults[UpdateLayerArgs]
	q *Queue
}

func (w *legacyLayerWorker) Work(ctx context.Context, job *river.Job[UpdateLayerArgs]) error {
	h, ok := w.q.handler.(LegacyHandler)
	if !ok {
		return river.JobCancel(errNoHandler)
	}
	return h.QueueLegacy(ctx, job.Args.LayerID, 0, job.Args.Force)
}
