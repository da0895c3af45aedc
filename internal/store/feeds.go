package store

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// Recipe change kinds (recipe_events.kind).
const (
	RecipeAdded    = "added"
	RecipeRemoved  = "removed"
	RecipeUpgraded = "upgraded" // PV changed
)

// RecipeEvent is what one update run did to one recipe, by name: the rows
// behind the Atom feeds of a layer branch and of a recipe name.
type RecipeEvent struct {
	ID            int64
	LayerUpdateID int64
	LayerBranchID int64
	RecipeID      *int64
	PN            string `gorm:"column:pn"`
	Kind          string
	OldPV         string `gorm:"column:old_pv"`
	NewPV         string `gorm:"column:new_pv"`
	CreatedAt     time.Time
}

// AddRecipeEvents records what run runID of layer branch lbID did to
// recipes, in the transaction that stores its index.
func (s *Store) AddRecipeEvents(ctx context.Context, runID, lbID int64, evs []RecipeEvent) error {
	if len(evs) == 0 {
		return nil
	}
	now := time.Now().UTC()
	rows := make([]RecipeEvent, len(evs))
	for i, e := range evs {
		e.ID, e.LayerUpdateID, e.LayerBranchID, e.CreatedAt = 0, runID, lbID, now
		rows[i] = e
	}
	return s.with(ctx).CreateInBatches(rows, 500).Error
}

// PublishedLayer is a published layer and when it was published (its first
// "published" history entry, or its creation for layers added published).
type PublishedLayer struct {
	Layer
	PublishedAt time.Time
}

// RecentlyPublished lists the newest published layers, newest first.
func (s *Store) RecentlyPublished(ctx context.Context, limit int) ([]PublishedLayer, error) {
	var ls []Layer
	if err := s.with(ctx).Where("status <> ?", StatusNew).Order("created_at DESC, id DESC").Limit(limit * 2).Find(&ls).Error; err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(ls))
	for i, l := range ls {
		ids[i] = l.ID
	}
	var pubs []struct {
		LayerID int64
		At      time.Time
	}
	if err := s.with(ctx).Model(&LayerChange{}).Select("layer_id, MIN(created_at) AS at").
		Where("action = ? AND layer_id IN ?", "published", ids).Group("layer_id").Scan(&pubs).Error; err != nil {
		return nil, err
	}
	at := map[int64]time.Time{}
	for _, p := range pubs {
		at[p.LayerID] = p.At
	}
	out := make([]PublishedLayer, 0, len(ls))
	for _, l := range ls {
		p := PublishedLayer{Layer: l, PublishedAt: l.CreatedAt}
		if t, ok := at[l.ID]; ok {
			p.PublishedAt = t
		}
		out = append(out, p)
	}
	// Publication, not submission, orders the feed.
	slices.SortStableFunc(out, func(a, b PublishedLayer) int {
		if c := b.PublishedAt.Compare(a.PublishedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// RunChanges is one update run that changed recipes, with its changes.
type RunChanges struct {
	Run     LayerUpdate
	Changes []RecipeEvent
}

// ChangesOfLayerBranch lists the newest runs of a layer branch that added,
// removed or upgraded recipes, newest first, with what they did.
func (s *Store) ChangesOfLayerBranch(ctx context.Context, lbID int64, limit int) ([]RunChanges, error) {
	var runs []LayerUpdate
	err := s.with(ctx).Omit("log").Where("layer_branch_id = ? AND EXISTS (?)", lbID,
		s.db.Model(&RecipeEvent{}).Select("1").Where("recipe_events.layer_update_id = layer_updates.id")).
		Order("id DESC").Limit(limit).Find(&runs).Error
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	var chs []RecipeEvent
	if err := s.with(ctx).Where("layer_update_id IN ?", ids).Order("kind, pn, id").Find(&chs).Error; err != nil {
		return nil, err
	}
	by := map[int64][]RecipeEvent{}
	for _, c := range chs {
		by[c.LayerUpdateID] = append(by[c.LayerUpdateID], c)
	}
	out := make([]RunChanges, len(runs))
	for i, r := range runs {
		out[i] = RunChanges{Run: r, Changes: by[r.ID]}
	}
	return out, nil
}

// RecipeEventRow is a change of a recipe name with where it happened.
type RecipeEventRow struct {
	RecipeEvent
	LayerName  string
	BranchName string
}

// ChangesOfRecipe lists the newest changes of recipes named pn on every
// published layer and visible branch, newest first.
func (s *Store) ChangesOfRecipe(ctx context.Context, pn string, limit int) ([]RecipeEventRow, error) {
	var out []RecipeEventRow
	err := s.with(ctx).Table("recipe_events").
		Select("recipe_events.*, layers.name AS layer_name, branches.name AS branch_name").
		Joins("JOIN layer_branches ON layer_branches.id = recipe_events.layer_branch_id").
		Joins("JOIN layers ON layers.id = layer_branches.layer_id").
		Joins("JOIN branches ON branches.id = layer_branches.branch_id").
		Where("recipe_events.pn = ? AND layers.status <> ? AND NOT branches.hidden", pn, StatusNew).
		Order("recipe_events.id DESC").Limit(limit).Scan(&out).Error
	return out, err
}
