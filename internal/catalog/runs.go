package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river/rivertype"

	"layerindex/internal/gitrepo"
	"layerindex/internal/ingest"
	"layerindex/internal/jobs"
	"layerindex/internal/metrics"
	"layerindex/internal/store"
)

// Timing spaces the attempts of update runs. The zero value is the
// production schedule; tests shorten it.
type Timing struct {
	// Backoff[i] is the wait after attempt i+1 failed transiently (the
	// last value repeats).
	Backoff []time.Duration
	// LockWait is how soon a run whose layer branch another process is
	// updating is tried again.
	LockWait time.Duration
	// DependencyWait is how soon a run waiting for a dependency that is
	// being indexed elsewhere is tried again; DependencyPatience is how
	// long after its request it gives up waiting.
	DependencyWait     time.Duration
	DependencyPatience time.Duration
	// StuckJob is how long a waiting run's job may sit in River's
	// "running" state without its layer branch being locked before the
	// sweep gives the run a new job (its worker died before starting it).
	StuckJob time.Duration
	// Progress is how often a running run's log so far is saved for the
	// pages that follow it live (the indexing status page, the run's log).
	Progress time.Duration
}

func (t Timing) backoff(attempt int) time.Duration {
	b := t.Backoff
	if len(b) == 0 {
		b = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute}
	}
	return b[min(max(attempt-1, 0), len(b)-1)]
}

func (t Timing) lockWait() time.Duration       { return orDefault(t.LockWait, 10*time.Second) }
func (t Timing) dependencyWait() time.Duration { return orDefault(t.DependencyWait, 30*time.Second) }
func (t Timing) patience() time.Duration       { return orDefault(t.DependencyPatience, time.Hour) }
func (t Timing) stuckJob() time.Duration       { return orDefault(t.StuckJob, 2*time.Minute) }
func (t Timing) progress() time.Duration       { return orDefault(t.Progress, 2*time.Second) }

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// maxAttempts bounds a run's attempts after transient failures.
const maxAttempts = 5

// lockName names the per-layer-branch lock held for a run.
const lockName = "layer-branch-update"

// Queued is one run a request queued or joined.
type Queued struct {
	Run    store.LayerUpdate
	Joined bool // the layer branch already had a waiting run; the request joined it
}

// Requested is what an update request queued.
type Requested struct {
	Update *store.Update
	Runs   []Queued
	// Discovering counts layers whose repositories will be searched for
	// release branches they are not on yet (their runs are added to the
	// same request when found).
	Discovering int
}

// UpdateRequest asks for updates. Layer empty means every published layer
// (the command line only); Branch empty means every branch with updates
// enabled.
type UpdateRequest struct {
	LayerID int64
	Layer   string
	Branch  string
	Force   bool
	// DiscoverNow searches repositories for new release branches in the
	// caller (the command line, which may take its time) instead of in a
	// job.
	DiscoverNow bool
	// Log receives what discovery found (DiscoverNow).
	Log func(format string, a ...any)
}

// RequestUpdate queues the update of a layer's branches (all those with
// updates enabled, or one), joining runs already waiting, and a search of
// its repository for release branches it is not on yet. It is the re-index
// of the web site's "Index now", the API and the command line.
func (s *Service) RequestUpdate(ctx context.Context, a Actor, req UpdateRequest) (*Requested, error) {
	if req.LayerID == 0 && req.Layer == "" && a.Origin != store.OriginCLI {
		return nil, errors.New("a layer is required")
	}
	var ls []store.Layer
	var err error
	switch {
	case req.LayerID != 0:
		var l *store.Layer
		if l, err = s.store.LayerByID(ctx, req.LayerID); err == nil {
			ls = []store.Layer{*l}
		}
	case req.Layer != "":
		var l *store.Layer
		if l, err = s.store.LayerByName(ctx, req.Layer); err == nil {
			ls = []store.Layer{*l}
		}
	default:
		ls, err = s.store.LayersToRefresh(ctx)
	}
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		if l.Status == store.StatusNew {
			return nil, invalid("layer", "The layer %s is waiting for review; it is indexed once published.", l.Name)
		}
	}
	branches, err := s.store.UpdatableBranches(ctx)
	if err != nil {
		return nil, err
	}
	if req.Branch != "" {
		found := false
		for _, b := range branches {
			if b.Name == req.Branch {
				branches, found = []store.Branch{b}, true
				break
			}
		}
		if !found {
			return nil, invalid("branch", "There is no release branch %q with updates enabled.", req.Branch)
		}
	}
	if req.DiscoverNow {
		for _, l := range ls {
			if _, err := s.discover(ctx, a, &l, branches, nil, req.Log); err != nil && req.Log != nil {
				req.Log("%s: could not look for new release branches: %v", l.Name, err)
			}
		}
	}
	out := &Requested{}
	err = s.q.InTx(ctx, func(tx *jobs.Tx) error {
		out.Update = &store.Update{Reload: req.Force, Origin: a.Origin, TriggeredByID: a.userID()}
		if err := tx.CreateUpdate(ctx, out.Update); err != nil {
			return err
		}
		for _, l := range ls {
			lbs, err := tx.LayerBranchesOfLayer(ctx, l.ID)
			if err != nil {
				return err
			}
			var want []store.LayerBranch
			for _, lb := range lbs {
				if hasBranch(branches, lb.BranchID) {
					want = append(want, lb)
				}
			}
			qs, err := s.queueRuns(ctx, tx, a, out.Update, want, req.Force)
			if err != nil {
				return err
			}
			out.Runs = append(out.Runs, qs...)
			if len(ls) == 1 && a.Origin != store.OriginRefresh {
				what := "re-index requested"
				if req.Force {
					what = "full re-index requested"
				}
				if a.Origin == store.OriginAPI {
					what += " through the API"
				}
				details := ""
				if req.Branch != "" {
					details = "branch " + req.Branch
				}
				if err := history(ctx, tx.Store, a, &l, what, details); err != nil {
					return err
				}
			}
			if !req.DiscoverNow && missingBranches(lbs, branches) {
				queued, err := s.queueDiscovery(ctx, tx, l.ID, out.Update)
				if err != nil {
					return err
				}
				if queued {
					out.Discovering++
				}
			}
		}
		if len(out.Runs) == 0 && out.Discovering == 0 {
			if req.Branch != "" {
				return invalid("branch", "Nothing to update: no published layer with updates enabled on %s.", req.Branch)
			}
			return invalid("branch", "Nothing to update: no published layer branch has updates enabled.")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func hasBranch(bs []store.Branch, id int64) bool {
	for _, b := range bs {
		if b.ID == id {
			return true
		}
	}
	return false
}

// missingBranches reports whether some of the branches have no layer
// branch of the layer among lbs (discovery may find them); a layer branch
// indexed from master (followmaster.go) counts as missing, as a git branch
// of the release's name takes its place.
func missingBranches(lbs []store.LayerBranch, branches []store.Branch) bool {
	if len(lbs) == 0 {
		return false // nothing to copy settings from
	}
	for _, b := range branches {
		found := false
		for _, lb := range lbs {
			found = found || (lb.BranchID == b.ID && !lb.FollowsMaster)
		}
		if !found {
			return true
		}
	}
	return false
}

// queueUpdate creates an update request for an actor's change (publish, an
// edit, a layer added to a branch) and queues its runs; discover also
// searches the repository for other release branches.
func (s *Service) queueUpdate(ctx context.Context, tx *jobs.Tx, a Actor, layerID int64, lbs []store.LayerBranch,
	force, discover bool) (*Requested, error) {
	out := &Requested{Update: &store.Update{Reload: force, Origin: a.Origin, TriggeredByID: a.userID()}}
	if err := tx.CreateUpdate(ctx, out.Update); err != nil {
		return nil, err
	}
	branches, err := tx.UpdatableBranches(ctx)
	if err != nil {
		return nil, err
	}
	var want []store.LayerBranch
	for _, lb := range lbs {
		if hasBranch(branches, lb.BranchID) {
			want = append(want, lb)
		}
	}
	if out.Runs, err = s.queueRuns(ctx, tx, a, out.Update, want, force); err != nil {
		return nil, err
	}
	if discover {
		queued, err := s.queueDiscovery(ctx, tx, layerID, out.Update)
		if err != nil {
			return nil, err
		}
		if queued {
			out.Discovering = 1
		}
	}
	return out, nil
}

// queueDiscovery queues the search of a layer's repository for release
// branches; one pending search per layer is enough.
func (s *Service) queueDiscovery(ctx context.Context, tx *jobs.Tx, layerID int64, u *store.Update) (bool, error) {
	res, err := tx.Enqueue(jobs.DiscoverBranchesArgs{LayerID: layerID, UpdateID: u.ID}, nil)
	if err != nil {
		return false, err
	}
	if u.JobID == nil && !res.UniqueSkippedAsDuplicate {
		u.JobID = &res.Job.ID
		if err := tx.SetUpdateJob(ctx, u.ID, res.Job.ID); err != nil {
			return false, err
		}
	}
	return !res.UniqueSkippedAsDuplicate, nil
}

// queueRuns queues a run for each layer branch with updates enabled, or
// joins the run already waiting for it (a forced request makes it forced; a
// run waiting for its next attempt is brought forward).
func (s *Service) queueRuns(ctx context.Context, tx *jobs.Tx, a Actor, u *store.Update, lbs []store.LayerBranch, force bool) ([]Queued, error) {
	var out []Queued
	for _, lb := range lbs {
		if !lb.UpdatesEnabled {
			continue
		}
		id := lb.ID
		run, created, err := tx.QueueRun(ctx, &store.LayerUpdate{UpdateID: u.ID, LayerID: lb.LayerID, BranchID: lb.BranchID,
			LayerBranchID: &id, Origin: a.Origin, TriggeredByID: a.userID(), Force: force, MaxAttempts: maxAttempts,
			VCSBeforeRev: lb.VCSLastRev})
		if err != nil {
			return nil, err
		}
		if created {
			res, err := tx.Enqueue(jobs.UpdateRunArgs{RunID: run.ID}, nil)
			if err != nil {
				return nil, err
			}
			run.JobID = &res.Job.ID
			if err := tx.SetRunJob(ctx, run.ID, res.Job.ID); err != nil {
				return nil, err
			}
		} else if run.Status == store.UpdateRetrying && run.JobID != nil {
			if err := tx.PromoteRun(ctx, run.ID); err != nil {
				return nil, err
			}
			if err := tx.RetryJob(*run.JobID); err != nil {
				return nil, err
			}
		}
		out = append(out, Queued{Run: *run, Joined: !created})
	}
	return out, nil
}

// Refresh queues the periodic update of every published layer: a run per
// layer branch (joining waiting ones) and, for layers not on every release
// branch, a search of their repositories for the missing ones.
func (s *Service) Refresh(ctx context.Context) error {
	ls, err := s.store.LayersToRefresh(ctx)
	if err != nil || len(ls) == 0 {
		return err
	}
	a := Actor{Origin: store.OriginRefresh}
	return s.q.InTx(ctx, func(tx *jobs.Tx) error {
		branches, err := tx.UpdatableBranches(ctx)
		if err != nil {
			return err
		}
		u := &store.Update{Origin: store.OriginRefresh}
		if err := tx.CreateUpdate(ctx, u); err != nil {
			return err
		}
		for _, l := range ls {
			lbs, err := tx.LayerBranchesOfLayer(ctx, l.ID)
			if err != nil {
				return err
			}
			var want []store.LayerBranch
			for _, lb := range lbs {
				if hasBranch(branches, lb.BranchID) {
					want = append(want, lb)
				}
			}
			if _, err := s.queueRuns(ctx, tx, a, u, want, false); err != nil {
				return err
			}
			if missingBranches(lbs, branches) {
				if _, err := s.queueDiscovery(ctx, tx, l.ID, u); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// QueueLegacy turns a job queued by an earlier version into a request.
func (s *Service) QueueLegacy(ctx context.Context, layerID, lbID int64, force bool) error {
	if lbID != 0 {
		lb, err := s.store.LayerBranchByID(ctx, lbID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		return s.q.InTx(ctx, func(tx *jobs.Tx) error {
			_, err := s.queueUpdate(ctx, tx, Actor{Origin: store.OriginRefresh}, lb.LayerID, []store.LayerBranch{*lb}, force, false)
			return err
		})
	}
	_, err := s.RequestUpdate(ctx, CLI, UpdateRequest{LayerID: layerID, Force: force})
	var inv *InvalidError
	if errors.As(err, &inv) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// WorkRun works one attempt of a run for River job jobID (jobs.Handler).
func (s *Service) WorkRun(ctx context.Context, runID, jobID int64) (time.Duration, error) {
	r, err := s.work(ctx, runID, &jobID, workOpts{})
	if err == nil && r.again > time.Second {
		// A request or a run that stored an index may have brought the
		// run forward while this job still ran: its retry of the job
		// changed nothing then, so the job comes back when the run is due.
		if cur, err := s.store.RunByID(ctx, runID); err == nil && cur.Status == store.UpdateRetrying && cur.NextAttemptAt != nil {
			r.again = min(r.again, max(time.Until(*cur.NextAttemptAt), time.Millisecond))
		}
	}
	return r.again, err
}

type workOpts struct {
	sink   func(string)
	noWait bool // a missing dependency fails at once (the command line's last pass)
	now    bool // attempt now even if the run's next attempt is due later (the command line)
}

// pause says why an attempt left its run waiting.
type pause int

const (
	noPause       pause = iota
	notDue              // the run's next attempt is due later
	locked              // another process is updating the layer branch
	forDependency       // a dependency may be indexed meanwhile
	forRetry            // a transient failure; the next attempt is scheduled
)

type worked struct {
	again time.Duration // when to come back (0: the run ended, or is not this job's)
	why   pause
	run   *store.LayerUpdate
}

// work is one attempt of a run: take the layer branch's lock (or come back
// later), mark the run running, update, and record how it ended — in the
// index's own transaction when a new index is stored.
func (s *Service) work(ctx context.Context, runID int64, jobID *int64, o workOpts) (worked, error) {
	if s.opts.Indexer == nil {
		return worked{}, errors.New("this process is not configured for ingestion")
	}
	run, err := s.store.RunByID(ctx, runID)
	if errors.Is(err, store.ErrNotFound) {
		return worked{}, nil // its layer was deleted
	} else if err != nil {
		return worked{}, err
	}
	w := worked{run: run}
	if run.Final() || !sameJob(run.JobID, jobID) {
		return w, nil // ended, or handed to another job by the sweep
	}
	if run.LayerBranchID == nil {
		return w, ignoreStale(s.store.EndWaitingRun(ctx, run.ID, store.UpdateCancelled, "the layer is no longer on this branch"))
	}
	if run.Status == store.UpdateRetrying && run.NextAttemptAt != nil && !o.now {
		if d := time.Until(*run.NextAttemptAt); d > time.Second {
			w.again, w.why = d, notDue
			return w, nil
		}
	}
	release, ok, err := s.db.TryLock(ctx, lockName, *run.LayerBranchID)
	if err != nil {
		return w, err
	}
	if !ok {
		w.again, w.why = s.opts.Timing.lockWait(), locked
		return w, nil
	}
	defer release()

	head := ""
	if run.Attempt > 0 {
		head = fmt.Sprintf("INFO: attempt %d of %d\n", run.Attempt+1, run.MaxAttempts)
	}
	run, err = s.store.StartRun(ctx, run.ID, jobID, head)
	if errors.Is(err, store.ErrStale) || errors.Is(err, store.ErrNotFound) {
		return w, nil
	} else if err != nil {
		return w, err
	}
	w.run = run
	log := ingest.ContinueLog(run.Log, o.sink)
	if head != "" && o.sink != nil {
		o.sink(strings.TrimSpace(head))
	}
	stopProgress := s.saveProgress(ctx, run.ID, log)
	defer stopProgress(true)
	var since time.Time
	if run.RequestedAt != nil {
		since = *run.RequestedAt
	}
	res, ierr := s.opts.Indexer.UpdateLayerBranch(ctx, ingest.Request{LayerBranchID: *run.LayerBranchID, Force: run.Force, Log: log,
		FetchedSince: since,
		Commit: func(ctx context.Context, tx *store.Store, res *ingest.Result) error {
			// Inside the index's transaction: signal only (a save
			// waiting for the database must not be waited for here;
			// it changes nothing once this commits).
			stopProgress(false)
			// A stored index ends the run: what an earlier attempt
			// said went wrong is no longer true.
			run.Reason, run.NextAttemptAt = "", nil
			record(run, res, log)
			if err := tx.FinishRun(ctx, run); err != nil {
				return err
			}
			// What the feeds say this run did, with the index it stored.
			if err := tx.AddRecipeEvents(ctx, run.ID, *run.LayerBranchID, res.Stats.Events); err != nil {
				return err
			}
			s.alert(ctx, tx, run, nil)
			return nil
		}})
	if ierr == nil && res.Status == store.UpdateSucceeded {
		s.logRun(ctx, run)
		if err := s.wakeDependents(ctx, run); err != nil {
			s.log.WarnContext(ctx, "cannot bring forward the runs waiting for dependencies", "branch", run.BranchID, "err", err)
		}
		// A master layer branch that opted in is followed on the
		// releases it declares (followmaster.go); the run is done
		// whatever that says.
		if err := s.FollowMaster(ctx, *run.LayerBranchID); err != nil {
			s.log.WarnContext(ctx, "cannot bring the master's followers in line", "layer_branch", *run.LayerBranchID, "err", err)
		}
		return w, nil // recorded with the index
	}
	stopProgress(true)
	// Record the outcome also when ctx was cancelled (the worker stops).
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	w.again, w.why = s.judge(fctx, ctx, run, ierr, log, o)
	record(run, res, log)
	finish := func() error {
		return s.q.InTx(fctx, func(tx *jobs.Tx) error {
			if err := tx.FinishRun(fctx, run); err != nil {
				return err
			}
			s.alert(fctx, tx.Store, run, ierr)
			return nil
		})
	}
	err = finish()
	if errors.Is(err, store.ErrConflict) && run.Status == store.UpdateRetrying {
		// A newer request queued a run meanwhile: it will do the work.
		run.Status, run.NextAttemptAt, w.again, w.why = store.UpdateFailed, nil, 0, noPause
		run.Reason += " (a newer update of this layer branch is queued)"
		err = finish()
	}
	if err != nil && !errors.Is(err, store.ErrStale) {
		return w, err
	}
	s.logRun(ctx, run)
	return w, nil
}

// saveProgress saves a running run's log so far every Timing.Progress
// while it changes, so that other processes (the web server) show it live.
// The returned stop ends the saving and, with wait, waits for a save under
// way; it is called before the run's end is stored, and again harmlessly.
// A late save changes nothing: SaveRunLog only touches a running run.
func (s *Service) saveProgress(ctx context.Context, runID int64, log *ingest.Log) (stop func(wait bool)) {
	done, exited := make(chan struct{}), make(chan struct{})
	// What is stored already (StartRun's log), measured before the
	// update writes its first line.
	saved := len(log.String())
	go func() {
		defer close(exited)
		t := time.NewTicker(s.opts.Timing.progress())
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// The log only grows: its length tells whether it changed.
			cur := log.String()
			if len(cur) == saved {
				continue
			}
			errs, warns := log.Counts()
			if err := s.store.SaveRunLog(ctx, runID, cur, errs, warns); err != nil {
				if ctx.Err() == nil {
					s.log.WarnContext(ctx, "saving the log of a running update", "run", runID, "err", err)
				}
				continue
			}
			saved = len(cur)
		}
	}()
	var once sync.Once
	return func(wait bool) {
		once.Do(func() { close(done) })
		if wait {
			<-exited
		}
	}
}

// alert records what the run did to its layer branch's health, and queues
// the maintainers' mail that calls for, in the transaction st that ends the
// run: the stale marker, the digest and the mail never disagree with the
// runs shown, and a crash between the two cannot lose a mail. A failure is
// logged, not the run's: it rolls back to a savepoint, not the index.
func (s *Service) alert(ctx context.Context, st *store.Store, run *store.LayerUpdate, err error) {
	gone := errors.Is(err, gitrepo.ErrRepoNotFound)
	if err := s.q.InSavepoint(ctx, st, func(tx *jobs.Tx) error { return s.alertAfterRun(ctx, tx, run, gone) }); err != nil {
		s.log.ErrorContext(ctx, "queueing the maintainers' alert", "run", run.ID, "err", err)
	}
}

// logRun notes the end (or pause) of an attempt in the process's log and
// its metrics.
func (s *Service) logRun(ctx context.Context, run *store.LayerUpdate) {
	d := time.Since(run.StartedAt)
	if run.FinishedAt != nil {
		d = run.FinishedAt.Sub(run.StartedAt)
	}
	metrics.Run(run.Status, d, run.RecipesAdded, run.RecipesChanged, run.RecipesRemoved, run.Errors, run.Warnings)
	s.log.InfoContext(ctx, "update run attempt ended", "run", run.ID, "layer_branch", *run.LayerBranchID, "status", run.Status,
		"attempt", run.Attempt, "added", run.RecipesAdded, "changed", run.RecipesChanged, "removed", run.RecipesRemoved,
		"reason", run.Reason)
}

// record copies an attempt's result into its run.
func record(run *store.LayerUpdate, res *ingest.Result, log *ingest.Log) {
	if run.Status == store.UpdateRunning {
		run.Status = res.Status
	}
	run.VCSBeforeRev, run.VCSAfterRev = res.BeforeRev, res.AfterRev
	run.RecipesAdded, run.RecipesChanged, run.RecipesRemoved = res.Stats.Added, res.Stats.Changed, res.Stats.Removed
	run.Errors, run.Warnings = log.Counts()
	run.Log = log.String()
}

// judge decides how a run that stored no new index ends: unchanged,
// failed for good, or waiting for another attempt (and when). It writes
// the explanation to the log and sets the run's status and reason.
func (s *Service) judge(ctx, runCtx context.Context, run *store.LayerUpdate, err error, log *ingest.Log, o workOpts) (time.Duration, pause) {
	retry := func(after time.Duration, counted bool, why string, p pause) (time.Duration, pause) {
		next := time.Now().Add(after).UTC()
		if !counted {
			run.Attempt--
		}
		run.Status, run.NextAttemptAt, run.Reason = store.UpdateRetrying, &next, why
		return after, p
	}
	fail := func(why string) (time.Duration, pause) {
		run.Status, run.Reason = store.UpdateFailed, why
		return 0, noPause
	}
	switch {
	case err == nil:
		run.Status, run.Reason = store.UpdateUnchanged, ""
		return 0, noPause
	case errors.Is(runCtx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		log.Error("the update took longer than %s and was stopped", jobs.IngestTimeout)
		return fail(fmt.Sprintf("took longer than %s", jobs.IngestTimeout))
	case errors.Is(runCtx.Err(), context.Canceled) || errors.Is(err, context.Canceled):
		// The worker is stopping: not the layer's fault, and not an attempt.
		log.Info("it will be tried again as soon as a worker is available")
		return retry(5*time.Second, false, "the worker stopped during the update", forRetry)
	case errors.Is(err, ingest.ErrMissingDependency):
		if !o.noWait && s.dependencyMayCome(ctx, run) {
			log.Info("a layer being indexed on this branch may provide it; trying again in %s", s.opts.Timing.dependencyWait())
			return retry(s.opts.Timing.dependencyWait(), false, waitingForDependencies+firstLine(err), forDependency)
		}
		return fail(firstLine(err))
	case ingest.IsPermanent(err):
		return fail(firstLine(err))
	case run.Attempt < run.MaxAttempts:
		wait := s.opts.Timing.backoff(run.Attempt)
		next := time.Now().Add(wait).UTC()
		log.Info("this looks temporary; attempt %d of %d at %s", run.Attempt+1, run.MaxAttempts, next.Format(time.RFC3339))
		return retry(wait, true, firstLine(err), forRetry)
	default:
		log.Error("giving up after %d attempts", run.Attempt)
		return fail(fmt.Sprintf("%s (gave up after %d attempts)", firstLine(err), run.Attempt))
	}
}

// dependencyMayCome tells whether a missing dependency may still appear:
// another layer branch on the same release, never indexed yet, has a run
// on the way, and the request is not older than the patience allows.
func (s *Service) dependencyMayCome(ctx context.Context, run *store.LayerUpdate) bool {
	if u, err := s.store.UpdateByID(ctx, run.UpdateID); err != nil || time.Since(u.StartedAt) > s.opts.Timing.patience() {
		return false
	}
	n, err := s.store.ActiveRunsOnBranch(ctx, run.BranchID, run.ID)
	return err == nil && n > 0
}

// waitingForDependencies starts the reason of a run that waits for a layer
// it depends on to be indexed by another run.
const waitingForDependencies = "waiting for its dependencies to be indexed: "

// wakeDependents brings forward, after a run stored an index, the runs on
// the same index branch that wait for their dependencies: the new index
// may be what they wait for, and they need not sit out the rest of their
// wait (a layer set published together is indexed in one pass). A run
// whose dependency is still missing waits again.
func (s *Service) wakeDependents(ctx context.Context, run *store.LayerUpdate) error {
	return s.q.InTx(ctx, func(tx *jobs.Tx) error {
		waiting, err := tx.RetryingRunsOnBranch(ctx, run.BranchID, waitingForDependencies)
		if err != nil {
			return err
		}
		for _, w := range waiting {
			if w.JobID == nil {
				continue // the sweep gives it a job, due at once
			}
			if err := tx.PromoteRun(ctx, w.ID); err != nil {
				return err
			}
			if err := tx.RetryJob(*w.JobID); err != nil {
				return err
			}
		}
		return nil
	})
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if r := []rune(s); len(r) > 300 {
		s = string(r[:297]) + "…"
	}
	return s
}

// SweepRuns finds runs whose process died — marked running while nobody
// holds their layer branch's lock — and closes them, retrying them at once
// when attempts remain and no other run waits; and it gives every waiting
// run a job that can still work it. Every working process runs it on start
// and once a minute.
func (s *Service) SweepRuns(ctx context.Context) error {
	runs, err := s.store.ActiveRuns(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, run := range runs {
		if err := s.sweep(ctx, run); err != nil {
			errs = append(errs, fmt.Errorf("run %d: %w", run.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) sweep(ctx context.Context, run store.LayerUpdate) error {
	if run.LayerBranchID == nil {
		if run.Status == store.UpdateRunning {
			return ignoreStale(s.store.InterruptRun(ctx, run.ID, nil))
		}
		return ignoreStale(s.store.EndWaitingRun(ctx, run.ID, store.UpdateCancelled, "the layer is no longer on this branch"))
	}
	if s.overslept(ctx, run) {
		// Brought forward while its job was running: the job went back
		// to sleep for the old wait.
		_, err := s.q.Client().JobRetry(ctx, *run.JobID)
		return err
	}
	if run.Status != store.UpdateRunning && !s.needsJob(ctx, run) {
		return nil
	}
	release, ok, err := s.db.TryLock(ctx, lockName, *run.LayerBranchID)
	if err != nil || !ok {
		return err // a live process holds it: the run is alive
	}
	defer release()
	return s.q.InTx(ctx, func(tx *jobs.Tx) error {
		if run.Status == store.UpdateRunning {
			var retryAt *time.Time
			if _, err := tx.WaitingRun(ctx, *run.LayerBranchID); errors.Is(err, store.ErrNotFound) && run.Attempt < run.MaxAttempts {
				now := time.Now()
				retryAt = &now
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err := tx.InterruptRun(ctx, run.ID, retryAt); err != nil {
				return ignoreStale(err)
			}
			s.log.WarnContext(ctx, "update run interrupted: its process stopped", "run", run.ID, "layer_branch", *run.LayerBranchID,
				"retry", retryAt != nil)
			if retryAt == nil {
				return nil
			}
		}
		res, err := tx.Enqueue(jobs.UpdateRunArgs{RunID: run.ID}, nil)
		if err != nil {
			return err
		}
		return tx.SetRunJob(ctx, run.ID, res.Job.ID)
	})
}

// overslept tells whether a run waiting for its next attempt is due while
// its job is scheduled for later.
func (s *Service) overslept(ctx context.Context, run store.LayerUpdate) bool {
	if run.Status != store.UpdateRetrying || run.JobID == nil || run.NextAttemptAt == nil || run.NextAttemptAt.After(time.Now()) {
		return false
	}
	job, err := s.q.Client().JobGet(ctx, *run.JobID)
	return err == nil && job.State == rivertype.JobStateScheduled && job.ScheduledAt.After(time.Now().Add(time.Second))
}

// needsJob tells whether a waiting run's job is gone, finished, or stuck
// in a process that died before starting it.
func (s *Service) needsJob(ctx context.Context, run store.LayerUpdate) bool {
	if run.JobID == nil {
		return true
	}
	job, err := s.q.Client().JobGet(ctx, *run.JobID)
	if err != nil {
		return errors.Is(err, rivertype.ErrNotFound)
	}
	switch job.State {
	case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		return true
	case rivertype.JobStateRunning:
		return job.AttemptedAt != nil && time.Since(*job.AttemptedAt) > s.opts.Timing.stuckJob()
	}
	return false
}

func ignoreStale(err error) error {
	if errors.Is(err, store.ErrStale) {
		return nil
	}
	return err
}

// WorkHere works runs in this process, as the command line's `update
// --wait` does, through the same path as a worker's (the same lock, the
// same records): runs waiting for a dependency are tried again after the
// others and given up when passes make no progress; a run another process
// is updating is waited for. A transient failure ends the command's wait
// (the run's next attempt is left to the workers). It returns the runs as
// the command leaves them.
func (s *Service) WorkHere(ctx context.Context, runIDs []int64, sink func(run *store.LayerUpdate, line string)) ([]store.LayerUpdate, error) {
	done := map[int64]store.LayerUpdate{}
	pending := runIDs
	stalled := 0
	for len(pending) > 0 {
		var later []int64
		for _, id := range pending {
			cur, err := s.store.RunByID(ctx, id)
			if err != nil {
				return nil, err
			}
			why := noPause
			if !cur.Final() {
				var line func(string)
				if sink != nil {
					c := cur
					line = func(l string) { sink(c, l) }
				}
				w, err := s.work(ctx, id, cur.JobID, workOpts{sink: line, noWait: stalled >= 2, now: true})
				if err != nil {
					return nil, err
				}
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				why = w.why
				if cur, err = s.store.RunByID(ctx, id); err != nil {
					return nil, err
				}
			}
			if cur.Final() || why == forRetry {
				done[id] = *cur
			} else {
				later = append(later, id)
			}
		}
		if len(later) == len(pending) {
			stalled++
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		} else {
			stalled = 0
		}
		pending = later
	}
	out := make([]store.LayerUpdate, 0, len(runIDs))
	for _, id := range runIDs {
		out = append(out, done[id])
	}
	return out, nil
}
