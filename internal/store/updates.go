package store

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The queries of update runs. The rules (when a run may start, how it ends,
// when it is retried) are internal/catalog's; these only read and write
// rows, each transition conditional on the state it leaves so that two
// processes can never both make it.

// ErrStale is returned by a conditional write whose row is no longer in the
// state the caller read (another process moved it first).
var ErrStale = errors.New("the row changed meanwhile")

// PurgeUpdates deletes update requests (and, by cascade, their runs) that
// started before cutoff and have no run still waiting or running. It returns
// how many were removed.
func (s *Store) PurgeUpdates(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.with(ctx).Where("started_at < ? AND NOT EXISTS (?)", cutoff.UTC(),
		s.db.Model(&LayerUpdate{}).Select("1").Where("layer_updates.update_id = updates.id AND layer_updates.status IN ?",
			activeStatuses)).Delete(&Update{})
	return res.RowsAffected, res.Error
}

// activeStatuses are the run statuses that are not final.
var activeStatuses = []string{UpdateQueued, UpdateRunning, UpdateRetrying}

// waitingStatuses are the statuses of a run that has not started (again).
var waitingStatuses = []string{UpdateQueued, UpdateRetrying}

// CreateUpdate records an update request.
func (s *Store) CreateUpdate(ctx context.Context, u *Update) error {
	if u.StartedAt.IsZero() {
		u.StartedAt = time.Now().UTC()
	}
	if u.Origin == "" {
		u.Origin = OriginRefresh
	}
	return s.with(ctx).Create(u).Error
}

// UpdateByID finds an update request.
func (s *Store) UpdateByID(ctx context.Context, id int64) (*Update, error) {
	var u Update
	return &u, translate(s.with(ctx).Where("id = ?", id).Take(&u).Error)
}

// SetUpdateJob records the job an update request queued first (its
// discovery of branches, when there is one).
func (s *Store) SetUpdateJob(ctx context.Context, id, jobID int64) error {
	return s.with(ctx).Model(&Update{}).Where("id = ?", id).Update("job_id", jobID).Error
}

// QueueRun adds a waiting run for lu's layer branch, or returns the one
// already waiting (at most one may wait per layer branch; a unique index
// keeps it so between processes). A forced request makes the waiting run
// forced. created tells which happened.
func (s *Store) QueueRun(ctx context.Context, lu *LayerUpdate) (run *LayerUpdate, created bool, err error) {
	if lu.LayerBranchID == nil {
		return nil, false, errors.New("a run needs its layer branch")
	}
	lu.Status = UpdateQueued
	now := time.Now().UTC()
	if lu.StartedAt.IsZero() {
		lu.StartedAt = now
	}
	lu.RequestedAt = &now
	var w *LayerUpdate
	for tries := 1; ; tries++ {
		lu.ID = 0
		res := s.with(ctx).Clauses(clause.OnConflict{
			Columns:     []clause.Column{{Name: "layer_branch_id"}},
			TargetWhere: clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "status IN ('queued', 'retrying')"}}},
			DoNothing:   true,
		}).Create(lu)
		if res.Error != nil {
			return nil, false, translate(res.Error)
		}
		if res.RowsAffected == 1 && lu.ID != 0 {
			return lu, true, nil
		}
		w, err = s.WaitingRun(ctx, *lu.LayerBranchID)
		// On PostgreSQL each statement sees the latest commits: the
		// waiting run the insert met can have started between the two
		// statements, and then a new run must be queued after all.
		if errors.Is(err, ErrNotFound) && tries < 5 {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		break
	}
	// The joining request is served by a fetch begun after it (and a
	// forced one makes the run forced).
	cols := map[string]any{"requested_at": now}
	if lu.Force && !w.Force {
		cols["force"] = true
	}
	if err := s.with(ctx).Model(&LayerUpdate{}).Where("id = ? AND status IN ?", w.ID, waitingStatuses).Updates(cols).Error; err != nil {
		return nil, false, err
	}
	w.Force, w.RequestedAt = w.Force || lu.Force, &now
	return w, false, nil
}

// WaitingRun is the run of a layer branch that waits to start, if any.
func (s *Store) WaitingRun(ctx context.Context, lbID int64) (*LayerUpdate, error) {
	var lu LayerUpdate
	err := s.with(ctx).Omit("log").Where("layer_branch_id = ? AND status IN ?", lbID, waitingStatuses).Take(&lu).Error
	return &lu, translate(err)
}

// SetRunJob records the job that works a run.
func (s *Store) SetRunJob(ctx context.Context, id, jobID int64) error {
	return s.with(ctx).Model(&LayerUpdate{}).Where("id = ?", id).Update("job_id", jobID).Error
}

// RunByID finds a run, log included.
func (s *Store) RunByID(ctx context.Context, id int64) (*LayerUpdate, error) {
	var lu LayerUpdate
	return &lu, translate(s.with(ctx).Where("id = ?", id).Take(&lu).Error)
}

// RunsOfUpdate lists the runs an update request queued or joined first, in
// the order they were queued.
func (s *Store) RunsOfUpdate(ctx context.Context, updateID int64) ([]LayerUpdate, error) {
	var lus []LayerUpdate
	err := s.with(ctx).Omit("log").Where("update_id = ?", updateID).Order("id").Find(&lus).Error
	return lus, err
}

// ActiveRuns lists the runs that have not ended, oldest first.
func (s *Store) ActiveRuns(ctx context.Context) ([]LayerUpdate, error) {
	var lus []LayerUpdate
	err := s.with(ctx).Omit("log").Where("status IN ?", activeStatuses).Order("id").Find(&lus).Error
	return lus, err
}

// ActiveRunsOnBranch counts the runs on a release branch, other than
// exceptID's, that have not ended and whose layer branch was never indexed:
// layers that may yet provide a missing dependency.
func (s *Store) ActiveRunsOnBranch(ctx context.Context, branchID, exceptID int64) (int64, error) {
	var n int64
	err := s.with(ctx).Model(&LayerUpdate{}).
		Joins("JOIN layer_branches ON layer_branches.id = layer_updates.layer_branch_id").
		Where("layer_updates.branch_id = ? AND layer_updates.id <> ? AND layer_updates.status IN ? AND layer_branches.vcs_last_rev = ''",
			branchID, exceptID, activeStatuses).Count(&n).Error
	return n, err
}

// RetryingRunsOnBranch lists the runs on an index branch that wait for
// another attempt for the reason that starts with reasonPrefix.
func (s *Store) RetryingRunsOnBranch(ctx context.Context, branchID int64, reasonPrefix string) ([]LayerUpdate, error) {
	var out []LayerUpdate
	err := s.with(ctx).Omit("log").Where("branch_id = ? AND status = ? AND substr(reason, 1, ?) = ?", branchID, UpdateRetrying,
		utf8.RuneCountInString(reasonPrefix), reasonPrefix).Order("id").Find(&out).Error
	return out, err
}

// StartRun moves a waiting (or, after a crash, running) run to running for
// a new attempt. Any other run of the layer branch still marked running is
// closed as interrupted first: the caller holds the layer branch's lock, so
// no live process runs it. It fails with ErrStale if the run ended or is
// worked by another job meanwhile.
func (s *Store) StartRun(ctx context.Context, id int64, jobID *int64, logHead string) (*LayerUpdate, error) {
	var lu LayerUpdate
	err := s.with(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&lu).Error; err != nil {
			return translate(err)
		}
		if lu.Final() || !sameJob(lu.JobID, jobID) || lu.LayerBranchID == nil {
			return ErrStale
		}
		now := time.Now().UTC()
		err := tx.Model(&LayerUpdate{}).
			Where("layer_branch_id = ? AND status = ? AND id <> ?", *lu.LayerBranchID, UpdateRunning, lu.ID).
			Updates(map[string]any{"status": UpdateFailed, "finished_at": now,
				"reason": "interrupted: the process running it stopped",
				"log":    gorm.Expr("log || ?", "ERROR: interrupted: the process running this update stopped before it finished\n")}).Error
		if err != nil {
			return err
		}
		lu.Status, lu.StartedAt, lu.FinishedAt, lu.NextAttemptAt = UpdateRunning, now, nil, nil
		lu.Attempt++
		lu.Log += logHead
		return tx.Model(&LayerUpdate{}).Where("id = ?", lu.ID).Updates(map[string]any{
			"status": lu.Status, "started_at": now, "finished_at": nil, "next_attempt_at": nil,
			"attempt": lu.Attempt, "log": lu.Log}).Error
	})
	if err != nil {
		return nil, err
	}
	return &lu, nil
}

func sameJob(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// FinishRun stores the end (or, for status retrying, the pause) of a
// running run: status, counts, revisions, reason and log. It is conditional
// on the run still running, so a run the sweep closed as interrupted keeps
// that truth.
func (s *Store) FinishRun(ctx context.Context, lu *LayerUpdate) error {
	now := time.Now().UTC()
	lu.FinishedAt = &now
	res := s.with(ctx).Model(&LayerUpdate{}).Where("id = ? AND status = ?", lu.ID, UpdateRunning).Updates(map[string]any{
		"status": lu.Status, "finished_at": now, "next_attempt_at": lu.NextAttemptAt, "attempt": lu.Attempt,
		"vcs_before_rev": lu.VCSBeforeRev, "vcs_after_rev": lu.VCSAfterRev,
		"recipes_added": lu.RecipesAdded, "recipes_changed": lu.RecipesChanged, "recipes_removed": lu.RecipesRemoved,
		"errors": lu.Errors, "warnings": lu.Warnings, "reason": lu.Reason, "log": lu.Log,
	})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrStale
	}
	return translate(res.Error)
}

// EndWaitingRun ends a run that never started (its layer branch was
// removed, or the request was given up), conditional on it still waiting.
func (s *Store) EndWaitingRun(ctx context.Context, id int64, status, reason string) error {
	now := time.Now().UTC()
	res := s.with(ctx).Model(&LayerUpdate{}).Where("id = ? AND status IN ?", id, waitingStatuses).
		Updates(map[string]any{"status": status, "finished_at": now, "reason": reason,
			"log": gorm.Expr("log || ?", "ERROR: "+reason+"\n")})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrStale
	}
	return res.Error
}

// InterruptRun closes a run left running by a process that died (the
// caller checked that nobody holds its layer branch's lock). retryAt, if
// set, makes it wait for another attempt instead of failing.
func (s *Store) InterruptRun(ctx context.Context, id int64, retryAt *time.Time) error {
	now := time.Now().UTC()
	line := "ERROR: interrupted: the process running this update stopped before it finished\n"
	vals := map[string]any{"status": UpdateFailed, "finished_at": now, "reason": "interrupted: the process running it stopped",
		"log": gorm.Expr("log || ?", line)}
	if retryAt != nil {
		vals["status"], vals["next_attempt_at"] = UpdateRetrying, retryAt.UTC()
		vals["log"] = gorm.Expr("log || ?", line+"INFO: it will be tried again shortly\n")
	}
	res := s.with(ctx).Model(&LayerUpdate{}).Where("id = ? AND status = ?", id, UpdateRunning).Updates(vals)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrStale
	}
	return res.Error
}

// PromoteRun makes a retrying run's next attempt due now (a new request
// joined it).
func (s *Store) PromoteRun(ctx context.Context, id int64) error {
	return s.with(ctx).Model(&LayerUpdate{}).Where("id = ? AND status = ?", id, UpdateRetrying).
		Update("next_attempt_at", time.Now().UTC()).Error
}

// runColumns are a run's columns without its log (lists and summaries do
// not need it); runDest scans them.
const runColumns = `lu.id, lu.update_id, lu.layer_id, lu.branch_id, lu.layer_branch_id, lu.started_at, lu.finished_at, lu.status,
  lu.vcs_before_rev, lu.vcs_after_rev, lu.recipes_added, lu.recipes_changed, lu.recipes_removed, lu.errors, lu.warnings,
  lu.origin, lu.triggered_by_id, lu.force, lu.attempt, lu.max_attempts, lu.next_attempt_at, lu.job_id, lu.reason`

// LastRuns returns, for each of the layer branches, its newest run (queued
// or not), keyed by layer branch id, in one query. Every layer page runs
// it: the ids are bound as one parameter (inIDs), so the statement's text
// is the same for any number of them and pageRows prepares it once, and the
// rows are scanned by position (runDest), not by GORM's reflection.
func (s *Store) LastRuns(ctx context.Context, lbIDs []int64) (map[int64]LayerUpdate, error) {
	out := map[int64]LayerUpdate{}
	if len(lbIDs) == 0 {
		return out, nil
	}
	cond, arg := s.inIDs(lbIDs)
	var lus []LayerUpdate
	err := scanAll(ctx, s, &lus, func(r *sql.Rows, lu *LayerUpdate) error { return r.Scan(runDest(lu)...) },
		`SELECT `+runColumns+` FROM layer_updates lu
WHERE lu.id IN (SELECT MAX(id) FROM layer_updates WHERE layer_branch_id `+cond+` GROUP BY layer_branch_id)`, arg)
	for _, lu := range lus {
		out[*lu.LayerBranchID] = lu
	}
	return out, err
}

// runDest are the fields of u in the order of runColumns.
func runDest(u *LayerUpdate) []any {
	return []any{&u.ID, &u.UpdateID, &u.LayerID, &u.BranchID, &u.LayerBranchID, &u.StartedAt, &u.FinishedAt, &u.Status,
		&u.VCSBeforeRev, &u.VCSAfterRev, &u.RecipesAdded, &u.RecipesChanged, &u.RecipesRemoved, &u.Errors, &u.Warnings,
		&u.Origin, &u.TriggeredByID, &u.Force, &u.Attempt, &u.MaxAttempts, &u.NextAttemptAt, &u.JobID, &u.Reason}
}

// SetIndexedStateFrom records a successful index of a layer branch if the
// layer branch is still at the revision the run started from (compare and
// set: an update built on stale state must not be stored).
func (s *Store) SetIndexedStateFrom(ctx context.Context, lbID int64, fromRev string, st IndexedState) error {
	now := time.Now().UTC()
	commit := st.CommitTime.UTC()
	cols := st.LayerConf.columns()
	maps.Copy(cols, map[string]any{
		"collection":      st.Collection,
		"version":         st.Version,
		"vcs_last_rev":    st.Rev,
		"vcs_last_commit": &commit,
		"vcs_last_fetch":  &now,
		"parser_version":  st.ParserVersion,
		"config_digest":   st.ConfigDigest,
		"updated_at":      now,
	})
	res := s.with(ctx).Model(&LayerBranch{}).Where("id = ? AND vcs_last_rev = ?", lbID, fromRev).Updates(cols)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrStale
	}
	return res.Error
}

// LastFinalRun is the newest run of a layer branch that has ended (the
// badge's "last update"); ErrNotFound when none has.
func (s *Store) LastFinalRun(ctx context.Context, lbID int64) (*LayerUpdate, error) {
	var lu LayerUpdate
	err := s.with(ctx).Omit("log").Where("layer_branch_id = ? AND status NOT IN ?", lbID, activeStatuses).
		Order("id DESC").Take(&lu).Error
	return &lu, translate(err)
}
