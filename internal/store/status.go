package store

import (
	"context"
	"fmt"
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

// LayerHealth is a layer branch that needs an administrator's eye: its
// updates are failing, its repository is gone, or it is stale (no
// successful update since the cutoff, or its repository gone).
type LayerHealth struct {
	LayerBranchID int64
	LayerName     string
	BranchName    string
	// LastOK is its last successful update (nil: none known): the alert
	// state's, else the date its index was stored.
	LastOK       *time.Time `gorm:"-"`
	LastOKAt     *time.Time `gorm:"column:last_ok_at"`
	VCSLastFetch *time.Time `gorm:"column:vcs_last_fetch"`
	Failing      bool
	FailingSince *time.Time
	RepoGone     bool
	Stale        bool
}

// healthSQL selects the published layer branches with updates enabled,
// their last success and health; %s adds the condition.
const healthSQL = `SELECT lb.id AS layer_branch_id, l.name AS layer_name, b.name AS branch_name,
  a.last_ok_at, lb.vcs_last_fetch,
  COALESCE(a.failing, FALSE) AS failing, a.failing_since, COALESCE(a.repo_gone, FALSE) AS repo_gone,
  ` + staleExpr + ` AS stale
FROM layer_branches lb
JOIN layers l ON l.id = lb.layer_id AND l.status = 'P'
JOIN branches b ON b.id = lb.branch_id AND b.updates_enabled
LEFT JOIN layer_branch_alerts a ON a.layer_branch_id = lb.id
WHERE lb.updates_enabled AND %s
ORDER BY l.name, b.name`

// staleExpr is staleCond as a value (never NULL), for lists and pages
// (layer_branches lb LEFT JOIN layer_branch_alerts a; one parameter, the
// cutoff).
const staleExpr = `COALESCE(` + staleCond + `, FALSE)`

// staleCond is a layer branch with no successful update since the cutoff
// (one never indexed counts from its first failure) or whose repository
// is gone.
const staleCond = `(COALESCE(a.repo_gone, FALSE) OR COALESCE(a.last_ok_at, lb.vcs_last_fetch, a.failing_since) < ?)`

// UnhealthyLayerBranches lists the layer branches that are failing, stale
// (cutoff) or whose repository is gone, by layer name: the administrators'
// digest.
func (s *Store) UnhealthyLayerBranches(ctx context.Context, cutoff time.Time) ([]LayerHealth, error) {
	var out []LayerHealth
	cutoff = cutoff.UTC()
	err := s.with(ctx).Raw(fmt.Sprintf(healthSQL, "(COALESCE(a.failing, FALSE) OR "+staleCond+")"), cutoff, cutoff).Scan(&out).Error
	for i := range out {
		out[i].LastOK = out[i].LastOKAt
		if out[i].LastOK == nil {
			out[i].LastOK = out[i].VCSLastFetch
		}
	}
	return out, err
}
