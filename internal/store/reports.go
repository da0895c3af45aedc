package store

import (
	"context"
	"fmt"
	"time"
)

// Reports: duplicates on a branch, statistics, and update runs with their
// logs.

// Duplicate kinds.
const (
	DupRecipes  = "recipes"
	DupClasses  = "classes"
	DupIncFiles = "incfiles"
)

// DupItem is one copy of a duplicated recipe, class or inc file.
type DupItem struct {
	ID              int64 // recipe id for recipes
	Key             string
	PV              string `gorm:"column:pv"`
	BBClassType     string `gorm:"column:bbclass_type"`
	LayerName       string
	LayerType       string
	IndexPreference int
	Preferred       bool `gorm:"-"` // no Base or Software layer with a higher preference has it too
}

// DupGroup is a name found in several layers.
type DupGroup struct {
	Key   string
	Items []DupItem
}

var dupQueries = map[string]struct{ table, key, cols string }{
	DupRecipes:  {"recipes", "t.pn", "t.id, t.pn AS key, t.pv, '' AS bbclass_type"},
	DupClasses:  {"bbclasses", "t.name", "t.id, t.name AS key, '' AS pv, t.bbclass_type"},
	DupIncFiles: {"inc_files", "t.path", "t.id, t.path AS key, '' AS pv, '' AS bbclass_type"},
}

// Duplicates lists a page of the names found in more than one layer on a
// branch, optionally among the given layers only.
func (s *Store) Duplicates(ctx context.Context, kind string, branch *Branch, layerIDs []int64, p Page) (Paged[DupGroup], error) {
	p = p.norm()
	out := Paged[DupGroup]{Page: p}
	dq, ok := dupQueries[kind]
	if !ok {
		return out, fmt.Errorf("unknown duplicate kind %q", kind)
	}
	where := "lb.branch_id = ? AND l.status IN ? AND NOT l.comparison"
	args := []any{branch.ID, publishedStatuses}
	if len(layerIDs) > 0 {
		where += " AND lb.layer_id IN ?"
		args = append(args, layerIDs)
	}
	from := " FROM " + dq.table + " t JOIN layer_branches lb ON lb.id = t.layer_branch_id JOIN layers l ON l.id = lb.layer_id WHERE " + where
	groups := "SELECT " + dq.key + " AS key" + from + " GROUP BY " + dq.key + " HAVING COUNT(DISTINCT t.layer_branch_id) > 1"
	db := s.with(ctx)
	if err := db.Raw("SELECT COUNT(*) FROM ("+groups+") g", args...).Scan(&out.Total).Error; err != nil {
		return out, err
	}
	var keys []string
	if err := db.Raw(groups+" ORDER BY "+s.collate(dq.key+" %[1]s")+" LIMIT ? OFFSET ?", append(args, p.Size, p.Offset())...).
		Scan(&keys).Error; err != nil {
		return out, err
	}
	if len(keys) == 0 {
		return out, nil
	}
	var items []DupItem
	err := db.Raw("SELECT "+dq.cols+", l.name AS layer_name, l.layer_type, l.index_preference"+from+" AND "+dq.key+" IN ?"+
		" ORDER BY "+s.collate(dq.key+" %[1]s, l.index_preference DESC, l.name %[1]s, t.id"), append(args, keys)...).Scan(&items).Error
	if err != nil {
		return out, err
	}
	byKey := map[string]*DupGroup{}
	for _, k := range keys {
		out.Items = append(out.Items, DupGroup{Key: k})
	}
	for i := range out.Items {
		byKey[out.Items[i].Key] = &out.Items[i]
	}
	for _, it := range items {
		if g := byKey[it.Key]; g != nil {
			g.Items = append(g.Items, it)
		}
	}
	for i := range out.Items {
		g := &out.Items[i]
		for j := range g.Items {
			g.Items[j].Preferred = true
			for _, o := range g.Items {
				if (o.LayerType == TypeSoftware || o.LayerType == TypeBase) && o.IndexPreference > g.Items[j].IndexPreference {
					g.Items[j].Preferred = false
				}
			}
		}
	}
	return out, nil
}

// BranchLayers lists the published layers on a branch by name, for layer
// pickers.
func (s *Store) BranchLayers(ctx context.Context, branchID int64) ([]Layer, error) {
	var ls []Layer
	err := s.with(ctx).Raw(`SELECT l.* FROM layers l JOIN layer_branches lb ON lb.layer_id = l.id
WHERE lb.branch_id = ? AND l.status IN ? AND NOT l.comparison ORDER BY `+s.collate("l.name %[1]s"), branchID, publishedStatuses).Scan(&ls).Error
	return ls, err
}

// BranchStats counts a branch's published content.
type BranchStats struct {
	Name, ShortDescription                      string
	Layers, Recipes, Classes, Machines, Distros int64
}

// Stats is the statistics page.
type Stats struct {
	Layers, Recipes, Classes, Machines, Distros int64 // distinct names across branches
	Branches                                    []BranchStats
}

// Stats counts the index: distinct names overall and everything per
// visible branch.
func (s *Store) Stats(ctx context.Context) (*Stats, error) {
	st := &Stats{}
	var totals struct{ Layers, Recipes, Classes, Machines, Distros int64 }
	pub := "JOIN layer_branches lb ON lb.id = t.layer_branch_id JOIN layers l ON l.id = lb.layer_id JOIN branches b ON b.id = lb.branch_id WHERE l.status IN @pub AND NOT l.comparison AND NOT b.comparison"
	args := map[string]any{"pub": publishedStatuses}
	err := s.with(ctx).Raw(`SELECT
 (SELECT COUNT(*) FROM layers WHERE status IN @pub AND NOT comparison) AS layers,
 (SELECT COUNT(DISTINCT t.pn) FROM recipes t `+pub+`) AS recipes,
 (SELECT COUNT(DISTINCT t.name) FROM bbclasses t `+pub+`) AS classes,
 (SELECT COUNT(DISTINCT t.name) FROM machines t `+pub+`) AS machines,
 (SELECT COUNT(DISTINCT t.name) FROM distros t `+pub+`) AS distros`, args).Scan(&totals).Error
	if err != nil {
		return nil, err
	}
	st.Layers, st.Recipes, st.Classes, st.Machines, st.Distros = totals.Layers, totals.Recipes, totals.Classes, totals.Machines, totals.Distros
	per := "JOIN layer_branches lb ON lb.id = t.layer_branch_id JOIN layers l ON l.id = lb.layer_id WHERE lb.branch_id = b.id AND l.status IN @pub AND NOT l.comparison"
	err = s.with(ctx).Raw(`SELECT b.name, b.short_description,
 (SELECT COUNT(*) FROM layer_branches lb JOIN layers l ON l.id = lb.layer_id WHERE lb.branch_id = b.id AND l.status IN @pub AND NOT l.comparison) AS layers,
 (SELECT COUNT(*) FROM recipes t `+per+`) AS recipes,
 (SELECT COUNT(*) FROM bbclasses t `+per+`) AS classes,
 (SELECT COUNT(*) FROM machines t `+per+`) AS machines,
 (SELECT COUNT(*) FROM distros t `+per+`) AS distros
FROM branches b WHERE NOT b.hidden AND NOT b.comparison
ORDER BY b.sort_priority IS NULL, b.sort_priority, b.name`, args).Scan(&st.Branches).Error
	return st, err
}

// UpdateRow is an update request in the list, with its runs summed. Its
// status is derived from its runs (see RunsStatus).
type UpdateRow struct {
	ID         int64
	StartedAt  time.Time
	Reload     bool
	Origin     string
	Layers     int64
	Waiting    int64
	Running    int64
	Succeeded  int64
	Unchanged  int64
	Failed     int64
	Cancelled  int64
	Errors     int64
	Warnings   int64
	FinishedAt *time.Time `gorm:"-"`
	Names      []string   `gorm:"-"` // "layer (branch)" of its first runs
}

// Status is the request's status, derived from its runs: running while one
// runs, queued while one waits, then failed if one failed, cancelled,
// succeeded if one stored a new index, unchanged otherwise.
func (u *UpdateRow) Status() string {
	switch {
	case u.Running > 0:
		return UpdateRunning
	case u.Waiting > 0:
		return UpdateQueued
	case u.Failed > 0:
		return UpdateFailed
	case u.Cancelled > 0:
		return UpdateCancelled
	case u.Succeeded > 0:
		return UpdateSucceeded
	}
	return UpdateUnchanged
}

// Duration is how long the request took to complete (0 until it has).
func (u *UpdateRow) Duration() time.Duration {
	if u.FinishedAt == nil || u.Running+u.Waiting > 0 {
		return 0
	}
	return u.FinishedAt.Sub(u.StartedAt)
}

// updateRowsSQL sums the runs of the requests selected by %s.
const updateRowsSQL = `SELECT u.id, u.started_at, u.reload, u.origin,
  COUNT(lu.id) AS layers,
  COALESCE(SUM(CASE WHEN lu.status IN ('queued', 'retrying') THEN 1 ELSE 0 END), 0) AS waiting,
  COALESCE(SUM(CASE WHEN lu.status = 'running' THEN 1 ELSE 0 END), 0) AS running,
  COALESCE(SUM(CASE WHEN lu.status = 'succeeded' THEN 1 ELSE 0 END), 0) AS succeeded,
  COALESCE(SUM(CASE WHEN lu.status = 'unchanged' THEN 1 ELSE 0 END), 0) AS unchanged,
  COALESCE(SUM(CASE WHEN lu.status = 'failed' THEN 1 ELSE 0 END), 0) AS failed,
  COALESCE(SUM(CASE WHEN lu.status = 'cancelled' THEN 1 ELSE 0 END), 0) AS cancelled,
  COALESCE(SUM(lu.errors), 0) AS errors, COALESCE(SUM(lu.warnings), 0) AS warnings
FROM (%s) u
JOIN layer_updates lu ON lu.update_id = u.id
JOIN layers l ON l.id = lu.layer_id AND l.status IN ('P', 'X')
GROUP BY u.id, u.started_at, u.reload, u.origin
ORDER BY u.started_at DESC, u.id DESC`

// Updates lists a page of update requests that queued runs, newest first,
// each with the layers and branches of its first runs.
func (s *Store) Updates(ctx context.Context, p Page) (Paged[UpdateRow], error) {
	p = p.norm()
	out := Paged[UpdateRow]{Page: p}
	db := s.with(ctx)
	// Runs of layers that are not public (submissions) never show.
	withRuns := "EXISTS (SELECT 1 FROM layer_updates lu JOIN layers l ON l.id = lu.layer_id AND l.status IN ('P', 'X') WHERE lu.update_id = updates.id)"
	if err := db.Model(&Update{}).Where(withRuns).Count(&out.Total).Error; err != nil {
		return out, err
	}
	page := "SELECT * FROM updates WHERE " + withRuns + " ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?"
	if err := db.Raw(fmt.Sprintf(updateRowsSQL, page), p.Size, p.Offset()).Scan(&out.Items).Error; err != nil {
		return out, err
	}
	return out, s.fillUpdateRows(ctx, out.Items)
}

// fillUpdateRows adds each request's end (its last run's) and the names
// of its first runs.
func (s *Store) fillUpdateRows(ctx context.Context, rows []UpdateRow) error {
	if len(rows) == 0 {
		return nil
	}
	ids := make([]int64, len(rows))
	at := map[int64]*UpdateRow{}
	for i := range rows {
		ids[i] = rows[i].ID
		at[rows[i].ID] = &rows[i]
	}
	var names []struct {
		UpdateID   int64
		FinishedAt *time.Time
		LayerName  string
		BranchName string
		N          int64
	}
	err := s.with(ctx).Raw(`SELECT update_id, finished_at, layer_name, branch_name, n FROM (
  SELECT lu.update_id, lu.finished_at, l.name AS layer_name, b.name AS branch_name,
    ROW_NUMBER() OVER (PARTITION BY lu.update_id ORDER BY lu.id) AS n,
    ROW_NUMBER() OVER (PARTITION BY lu.update_id ORDER BY lu.finished_at DESC) AS last
  FROM layer_updates lu JOIN layers l ON l.id = lu.layer_id AND l.status IN ('P', 'X') JOIN branches b ON b.id = lu.branch_id
  WHERE lu.update_id IN ?) x
WHERE n <= 3 OR last = 1 ORDER BY update_id, n`, ids).Scan(&names).Error
	if err != nil {
		return err
	}
	for _, n := range names {
		r := at[n.UpdateID]
		if n.N <= 3 {
			r.Names = append(r.Names, n.LayerName+" ("+n.BranchName+")")
		}
		if n.FinishedAt != nil && (r.FinishedAt == nil || n.FinishedAt.After(*r.FinishedAt)) {
			r.FinishedAt = n.FinishedAt
		}
	}
	return nil
}

// LayerUpdateRow is a layer update with its layer and branch names.
type LayerUpdateRow struct {
	LayerUpdate
	LayerName   string
	BranchName  string
	LayerStatus string
}

// UpdatePage is one update request and its runs.
type UpdatePage struct {
	Update       Update
	Summary      UpdateRow // its runs summed (status, end)
	LayerUpdates []LayerUpdateRow
}

// UpdatePage loads an update run with its layer updates (without their
// logs, which have their own page).
func (s *Store) UpdatePage(ctx context.Context, id int64) (*UpdatePage, error) {
	p := &UpdatePage{}
	db := s.with(ctx)
	if err := translate(db.Where("id = ?", id).Take(&p.Update).Error); err != nil {
		return nil, err
	}
	err := db.Raw(`SELECT `+runColumns+`, l.name AS layer_name, b.name AS branch_name, l.status AS layer_status
FROM layer_updates lu JOIN layers l ON l.id = lu.layer_id JOIN branches b ON b.id = lu.branch_id
WHERE lu.update_id = ? AND l.status IN ? ORDER BY lu.id`, id, publishedStatuses).Scan(&p.LayerUpdates).Error
	if err != nil {
		return nil, err
	}
	// The request's summary, from the runs just read.
	sum := &p.Summary
	sum.ID, sum.StartedAt, sum.Reload, sum.Origin = p.Update.ID, p.Update.StartedAt, p.Update.Reload, p.Update.Origin
	for _, r := range p.LayerUpdates {
		sum.Layers++
		switch r.Status {
		case UpdateQueued, UpdateRetrying:
			sum.Waiting++
		case UpdateRunning:
			sum.Running++
		case UpdateSucceeded:
			sum.Succeeded++
		case UpdateUnchanged:
			sum.Unchanged++
		case UpdateFailed:
			sum.Failed++
		case UpdateCancelled:
			sum.Cancelled++
		}
		sum.Errors += int64(r.Errors)
		sum.Warnings += int64(r.Warnings)
		if r.FinishedAt != nil && (sum.FinishedAt == nil || r.FinishedAt.After(*sum.FinishedAt)) {
			sum.FinishedAt = r.FinishedAt
		}
	}
	return p, nil
}

// LayerUpdatePage is one layer update with its log and, when the layer is
// still on the branch, its layer branch for commit links.
type LayerUpdatePage struct {
	LayerUpdateRow
	LayerBranch *LayerBranch // with Layer and Branch; nil when gone
}

// BeforeURL and AfterURL link the revisions to the repository's web view.
func (p *LayerUpdatePage) BeforeURL() string { return p.commitURL(p.VCSBeforeRev) }
func (p *LayerUpdatePage) AfterURL() string  { return p.commitURL(p.VCSAfterRev) }

func (p *LayerUpdatePage) commitURL(rev string) string {
	if p.LayerBranch == nil || rev == "" {
		return ""
	}
	return p.LayerBranch.CommitURL(p.LayerBranch.Layer, rev)
}

// LayerUpdatePage loads one layer update and its log.
func (s *Store) LayerUpdatePage(ctx context.Context, id int64) (*LayerUpdatePage, error) {
	p := &LayerUpdatePage{}
	db := s.with(ctx)
	err := db.Raw(`SELECT lu.*, l.name AS layer_name, b.name AS branch_name, l.status AS layer_status
FROM layer_updates lu JOIN layers l ON l.id = lu.layer_id JOIN branches b ON b.id = lu.branch_id
WHERE lu.id = ?`, id).Scan(&p.LayerUpdateRow).Error
	if err != nil {
		return nil, err
	}
	if p.ID == 0 || (p.LayerStatus != StatusPublished && p.LayerStatus != StatusNoUpdate) {
		return nil, ErrNotFound
	}
	var lb LayerBranch
	err = db.Joins("Layer").Joins("Branch").Where("layer_branches.layer_id = ? AND layer_branches.branch_id = ?", p.LayerID, p.BranchID).Take(&lb).Error
	if err == nil {
		p.LayerBranch = &lb
	} else if translate(err) != ErrNotFound {
		return nil, err
	}
	return p, nil
}
