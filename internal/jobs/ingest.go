package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"layerindex/internal/bitbake"
	"layerindex/internal/gitrepo"
	"layerindex/internal/ingest"
	"layerindex/internal/store"
)

// QueueIngest is where fetching and parsing run, apart from light jobs
// (mail, housekeeping), so a long update never delays a notification and
// the number of concurrent clones — each costs 100+ MB — stays bounded.
const QueueIngest = "ingest"

// pendingStates makes a job unique while it is queued, running or waiting
// for a retry, but not once it has finished: a second click while a run is
// pending is a no-op, a later click works (River's default also blocks on
// completed jobs for a day).
var pendingStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// ingestTimeout bounds one update; a stuck fetch or a pathological layer
// fails instead of holding a worker forever.
const ingestTimeout = 15 * time.Minute

// UpdateLayerBranchArgs asks for one layer on one branch to be re-indexed.
type UpdateLayerBranchArgs struct {
	LayerBranchID int64 `json:"layer_branch_id" river:"unique"`
	// Force is part of the uniqueness: a forced re-index asked for while
	// an ordinary update is pending is queued, not merged into it.
	Force       bool   `json:"force,omitempty" river:"unique"`
	TriggeredBy *int64 `json:"triggered_by,omitempty"`
}

// Kind names the job in River.
func (UpdateLayerBranchArgs) Kind() string { return "update_layer_branch" }

// InsertOpts: unique per layer branch while pending; five attempts with
// River's backoff for transient failures.
func (UpdateLayerBranchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueIngest, MaxAttempts: 5,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

type updateLayerBranchWorker struct {
	river.WorkerDefaults[UpdateLayerBranchArgs]
	ix  *ingest.Indexer
	log *slog.Logger
}

func (w *updateLayerBranchWorker) Timeout(*river.Job[UpdateLayerBranchArgs]) time.Duration {
	return ingestTimeout
}

func (w *updateLayerBranchWorker) Work(ctx context.Context, job *river.Job[UpdateLayerBranchArgs]) error {
	id := job.ID
	res, err := w.ix.UpdateLayerBranch(ctx, ingest.Request{LayerBranchID: job.Args.LayerBranchID, Force: job.Args.Force,
		TriggeredBy: job.Args.TriggeredBy, JobID: &id})
	if res != nil {
		w.log.Info("layer branch updated", "layer_branch", job.Args.LayerBranchID, "status", res.Status,
			"added", res.Stats.Added, "changed", res.Stats.Changed, "removed", res.Stats.Removed, "layer_update", res.LayerUpdateID)
	}
	return jobError(err)
}

// jobError turns permanent failures into cancellations: they are recorded
// in the update log and not retried for days.
func jobError(err error) error {
	if err != nil && ingest.IsPermanent(err) {
		return river.JobCancel(err)
	}
	return err
}

// UpdateLayerArgs asks for every branch of a layer to be re-indexed; new
// release branches found in its repository get a layer branch first.
type UpdateLayerArgs struct {
	LayerID     int64  `json:"layer_id" river:"unique"`
	Force       bool   `json:"force,omitempty" river:"unique"`
	TriggeredBy *int64 `json:"triggered_by,omitempty"`
}

// Kind names the job in River.
func (UpdateLayerArgs) Kind() string { return "update_layer" }

// InsertOpts: unique per layer while pending.
func (UpdateLayerArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueIngest, MaxAttempts: 5,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

type updateLayerWorker struct {
	river.WorkerDefaults[UpdateLayerArgs]
	q     *Queue
	repos *gitrepo.Cache
	log   *slog.Logger
}

func (w *updateLayerWorker) Timeout(*river.Job[UpdateLayerArgs]) time.Duration { return ingestTimeout }

func (w *updateLayerWorker) Work(ctx context.Context, job *river.Job[UpdateLayerArgs]) error {
	st := store.New(w.q.db.Gorm)
	layer, err := st.LayerByID(ctx, job.Args.LayerID)
	if err != nil {
		return river.JobCancel(err)
	}
	branches, err := st.UpdatableBranches(ctx)
	if err != nil {
		return err
	}
	lbs, err := st.LayerBranchesOfLayer(ctx, layer.ID)
	if err != nil {
		return err
	}
	have := map[int64]*store.LayerBranch{}
	for i := range lbs {
		have[lbs[i].BranchID] = &lbs[i]
	}
	// Release branches without a layer branch: create one when the
	// repository has a git branch of that name (how upstream discovers
	// new releases), copying the subdirectory and maintainers.
	var gitBranches map[string]bool
	var created []store.LayerBranch
	for _, b := range branches {
		if have[b.ID] != nil || len(lbs) == 0 {
			continue
		}
		if gitBranches == nil {
			repo, err := w.repos.Fetch(ctx, layer.VCSURL)
			if err != nil {
				return jobError(err)
			}
			names, err := repo.Branches()
			if err != nil {
				return err
			}
			gitBranches = map[string]bool{}
			for _, n := range names {
				gitBranches[n] = true
			}
		}
		if !gitBranches[b.Name] {
			continue
		}
		lb, err := st.CopyLayerBranch(ctx, &lbs[0], b.ID)
		if err != nil {
			return err
		}
		w.log.Info("new release branch found in the repository", "layer", layer.Name, "branch", b.Name)
		created = append(created, *lb)
	}
	return w.q.InTx(ctx, func(tx *Tx) error {
		for _, lb := range append(lbs, created...) {
			if !lb.UpdatesEnabled || !branchEnabled(branches, lb.BranchID) {
				continue
			}
			if _, err := tx.Enqueue(UpdateLayerBranchArgs{LayerBranchID: lb.ID, Force: job.Args.Force, TriggeredBy: job.Args.TriggeredBy}, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

func branchEnabled(bs []store.Branch, id int64) bool {
	for _, b := range bs {
		if b.ID == id {
			return true
		}
	}
	return false
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
	layers, err := store.New(w.q.db.Gorm).LayersToRefresh(ctx)
	if err != nil {
		return err
	}
	return w.q.InTx(ctx, func(tx *Tx) error {
		params := make([]river.InsertManyParams, 0, len(layers))
		for _, l := range layers {
			params = append(params, river.InsertManyParams{Args: UpdateLayerArgs{LayerID: l.ID}})
		}
		if len(params) == 0 {
			return nil
		}
		_, err := w.q.client.InsertManyTx(ctx, tx.sqlTx, params)
		return err
	})
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

// InsertOpts: unique per layer while pending.
func (ValidateLayerArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueIngest, MaxAttempts: 5,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

type validateLayerWorker struct {
	river.WorkerDefaults[ValidateLayerArgs]
	store *store.Store
	repos *gitrepo.Cache
}

func (w *validateLayerWorker) Timeout(*river.Job[ValidateLayerArgs]) time.Duration {
	return ingestTimeout
}

func (w *validateLayerWorker) Work(ctx context.Context, job *river.Job[ValidateLayerArgs]) error {
	layer, err := w.store.LayerByID(ctx, job.Args.LayerID)
	if err != nil {
		return river.JobCancel(err)
	}
	lbs, err := w.store.LayerBranchesOfLayer(ctx, layer.ID)
	if err != nil {
		return err
	}
	report, err := ValidateRepository(ctx, w.repos, layer, lbs)
	if err != nil && !ingest.IsPermanent(err) {
		return err // transient: retry before judging the submission
	}
	status := "ok"
	if err != nil {
		status = "failed"
		report += "ERROR: " + err.Error() + "\n"
	}
	return w.store.SetValidation(ctx, layer.ID, status, report)
}

// ValidateRepository checks a layer's repository on each of its layer
// branches and describes what it found. A permanent error means the
// submission cannot be indexed as it stands.
func ValidateRepository(ctx context.Context, repos *gitrepo.Cache, layer *store.Layer, lbs []store.LayerBranch) (string, error) {
	var b strings.Builder
	repo, err := repos.Fetch(ctx, layer.VCSURL)
	if err != nil {
		return b.String(), err
	}
	names, err := repo.Branches()
	if err != nil {
		return b.String(), err
	}
	fmt.Fprintf(&b, "INFO: cloned %s; branches: %s\n", layer.VCSURL, strings.Join(names, ", "))
	if len(lbs) == 0 {
		return b.String(), &ingest.Permanent{Err: errors.New("the layer has no branch to index")}
	}
	var problems []string
	for _, lb := range lbs {
		gb := lb.GitBranch()
		head, err := repo.Branch(gb)
		if err != nil {
			problems = append(problems, fmt.Sprintf("branch %q not found", gb))
			continue
		}
		tree, err := repo.Tree(head.Hash, lb.VCSSubdir)
		if err != nil {
			problems = append(problems, fmt.Sprintf("branch %s: %v", gb, err))
			continue
		}
		facts, err := bitbake.ReadLayerFacts(tree)
		if err != nil {
			problems = append(problems, fmt.Sprintf("branch %s: no conf/layer.conf in %q", gb, lb.VCSSubdir))
			continue
		}
		recipes, _ := bitbake.Recipes(tree)
		fmt.Fprintf(&b, "INFO: branch %s at %s: collection %q, version %q, LAYERDEPENDS [%s], LAYERRECOMMENDS [%s], LAYERSERIES_COMPAT [%s], %d recipe(s)\n",
			gb, head.Hash[:12], facts.Collection, facts.Version, names2(facts.Depends), names2(facts.Recommends),
			strings.Join(facts.SeriesCompat, " "), len(recipes))
		if facts.Collection == "" {
			problems = append(problems, fmt.Sprintf("branch %s: conf/layer.conf sets no BBFILE_COLLECTIONS", gb))
		}
	}
	if len(problems) > 0 {
		return b.String(), &ingest.Permanent{Err: errors.New(strings.Join(problems, "; "))}
	}
	return b.String(), nil
}

func names2(ds []bitbake.Dependency) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return strings.Join(out, " ")
}
