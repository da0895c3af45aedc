package store

import (
	"context"
	"time"
)

// IndexingStatus is the public indexing status page's view of the update
// runs: read from the runs themselves (internal/catalog owns their
// changes), never from a copy, so it is as true as they are. Only runs of
// public layers show.
type IndexingStatus struct {
	Running      []LayerUpdateRow // with their logs so far, oldest first
	Waiting      []LayerUpdateRow // queued or retrying, oldest first, at most StatusWaitingMax
	WaitingTotal int64
	Failing      []LayerUpdateRow // the last ended run of these layer branches failed; newest first
	At           time.Time        // when this was read
}

// StatusWaitingMax bounds the waiting runs listed (the half-hourly refresh
// queues one per layer branch); the page gives the total.
const StatusWaitingMax = 100

// statusFailingMax bounds the failing layer branches listed.
const statusFailingMax = 500

// IndexingStatus reads the runs that are running or waiting and the layer
// branches whose last update failed.
func (s *Store) IndexingStatus(ctx context.Context) (*IndexingStatus, error) {
	st := &IndexingStatus{At: time.Now().UTC()}
	db := s.with(ctx)
	from := ` FROM layer_updates lu JOIN layers l ON l.id = lu.layer_id AND l.status IN ? JOIN branches b ON b.id = lu.branch_id `
	names := `, l.name AS layer_name, b.name AS branch_name, l.status AS layer_status`
	if err := db.Raw(`SELECT lu.*`+names+from+`WHERE lu.status = ? ORDER BY lu.started_at, lu.id`,
		publishedStatuses, UpdateRunning).Scan(&st.Running).Error; err != nil {
		return nil, err
	}
	waiting := []string{UpdateQueued, UpdateRetrying}
	if err := db.Raw(`SELECT COUNT(*)`+from+`WHERE lu.status IN ?`, publishedStatuses, waiting).Scan(&st.WaitingTotal).Error; err != nil {
		return nil, err
	}
	if err := db.Raw(`SELECT `+runColumns+names+from+`WHERE lu.status IN ? ORDER BY lu.id LIMIT ?`,
		publishedStatuses, waiting, StatusWaitingMax).Scan(&st.Waiting).Error; err != nil {
		return nil, err
	}
	// A layer branch is failing while the newest of its runs that ended
	// with a result (a cancelled run says nothing) failed.
	if err := db.Raw(`SELECT `+runColumns+names+from+`WHERE lu.id IN (
  SELECT MAX(id) FROM layer_updates WHERE layer_branch_id IS NOT NULL AND status IN ? GROUP BY layer_branch_id)
AND lu.status = ? ORDER BY lu.finished_at DESC, lu.id DESC LIMIT ?`,
		publishedStatuses, []string{UpdateSucceeded, UpdateUnchanged, UpdateFailed}, UpdateFailed, statusFailingMax).Scan(&st.Failing).Error; err != nil {
		return nil, err
	}
	return st, nil
}

// SaveRunLog stores the log so far of a running run (its errors and
// warnings counted), for the pages that follow it live. It changes
// nothing once the run has ended or paused: FinishRun's log is the last
// word.
func (s *Store) SaveRunLog(ctx context.Context, id int64, log string, errors, warnings int) error {
	return s.with(ctx).Model(&LayerUpdate{}).Where("id = ? AND status = ?", id, UpdateRunning).
		Updates(map[string]any{"log": log, "errors": errors, "warnings": warnings}).Error
}
