package store

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
)

// RecipeChangeset is a user's bulk change: recipes with new metadata.
type RecipeChangeset struct {
	ID        int64
	UserID    int64
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RecipeChange is the new metadata of one recipe in a changeset.
type RecipeChange struct {
	ID          int64
	ChangesetID int64
	RecipeID    int64
	Summary     string
	Description string
	Section     string
	License     string
	Homepage    string
	Bugtracker  string
}

// ChangeRow is a change with its recipe and where the recipe lives.
type ChangeRow struct {
	Change      RecipeChange
	Recipe      Recipe
	LayerBranch LayerBranch // with Layer and Branch
}

// Changesets lists a user's changesets, newest first.
func (s *Store) Changesets(ctx context.Context, userID int64) ([]RecipeChangeset, error) {
	var out []RecipeChangeset
	err := s.with(ctx).Where("user_id = ?", userID).Order("created_at DESC, id DESC").Find(&out).Error
	return out, err
}

// Changeset finds a changeset of a user; another user's is ErrNotFound.
func (s *Store) Changeset(ctx context.Context, userID, id int64) (*RecipeChangeset, error) {
	var cs RecipeChangeset
	return &cs, translate(s.with(ctx).Where("id = ? AND user_id = ?", id, userID).Take(&cs).Error)
}

// CreateChangeset inserts a changeset.
func (s *Store) CreateChangeset(ctx context.Context, cs *RecipeChangeset) error {
	return s.with(ctx).Create(cs).Error
}

// DeleteChangeset removes a user's changeset and its changes.
func (s *Store) DeleteChangeset(ctx context.Context, userID, id int64) error {
	res := s.with(ctx).Where("id = ? AND user_id = ?", id, userID).Delete(&RecipeChangeset{})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// AddChanges adds recipes (of published layers) to a changeset with their
// current values; recipes already in it are left as they are.
func (s *Store) AddChanges(ctx context.Context, changesetID int64, recipeIDs []int64) (int, error) {
	if len(recipeIDs) == 0 {
		return 0, nil
	}
	added := 0
	err := s.with(ctx).Transaction(func(tx *gorm.DB) error {
		var rs []Recipe
		if err := tx.Raw(`SELECT r.* FROM recipes r JOIN layer_branches lb ON lb.id = r.layer_branch_id JOIN layers l ON l.id = lb.layer_id
WHERE r.id IN ? AND l.status IN ? AND NOT l.comparison AND r.id NOT IN (SELECT recipe_id FROM recipe_changes WHERE changeset_id = ?)`,
			recipeIDs, publishedStatuses, changesetID).Scan(&rs).Error; err != nil {
			return err
		}
		for _, r := range rs {
			ch := RecipeChange{ChangesetID: changesetID, RecipeID: r.ID, Summary: r.Summary, Description: r.Description,
				Section: r.Section, License: r.License, Homepage: r.Homepage, Bugtracker: r.Bugtracker}
			if err := tx.Create(&ch).Error; err != nil {
				return err
			}
			added++
		}
		return tx.Model(&RecipeChangeset{}).Where("id = ?", changesetID).Update("updated_at", time.Now().UTC()).Error
	})
	return added, err
}

// RemoveChanges takes recipes out of a changeset (all when ids is nil).
func (s *Store) RemoveChanges(ctx context.Context, changesetID int64, changeIDs []int64) error {
	q := s.with(ctx).Where("changeset_id = ?", changesetID)
	if changeIDs != nil {
		q = q.Where("id IN ?", changeIDs)
	}
	return q.Delete(&RecipeChange{}).Error
}

// SaveChanges stores new values of a changeset's changes (matched by id
// and changeset).
func (s *Store) SaveChanges(ctx context.Context, changesetID int64, changes []RecipeChange) error {
	return s.with(ctx).Transaction(func(tx *gorm.DB) error {
		for _, ch := range changes {
			err := tx.Model(&RecipeChange{}).Where("id = ? AND changeset_id = ?", ch.ID, changesetID).Updates(map[string]any{
				"summary": ch.Summary, "description": ch.Description, "section": ch.Section, "license": ch.License,
				"homepage": ch.Homepage, "bugtracker": ch.Bugtracker}).Error
			if err != nil {
				return err
			}
		}
		return tx.Model(&RecipeChangeset{}).Where("id = ?", changesetID).Update("updated_at", time.Now().UTC()).Error
	})
}

// ChangeRows lists a changeset's changes with their recipes and layer
// branches, by layer and recipe.
func (s *Store) ChangeRows(ctx context.Context, changesetID int64) ([]ChangeRow, error) {
	db := s.with(ctx)
	var chs []RecipeChange
	if err := db.Where("changeset_id = ?", changesetID).Order("id").Find(&chs).Error; err != nil {
		return nil, err
	}
	if len(chs) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(chs))
	for i, c := range chs {
		ids[i] = c.RecipeID
	}
	var rs []Recipe
	if err := db.Where("id IN ?", ids).Find(&rs).Error; err != nil {
		return nil, err
	}
	byID := map[int64]Recipe{}
	var lbIDs []int64
	for _, r := range rs {
		byID[r.ID] = r
		lbIDs = append(lbIDs, r.LayerBranchID)
	}
	var lbs []LayerBranch
	if err := db.Preload("Layer").Preload("Branch").Where("id IN ?", lbIDs).Find(&lbs).Error; err != nil {
		return nil, err
	}
	lbByID := map[int64]LayerBranch{}
	for _, lb := range lbs {
		lbByID[lb.ID] = lb
	}
	out := make([]ChangeRow, 0, len(chs))
	for _, c := range chs {
		r, ok := byID[c.RecipeID]
		if !ok {
			continue
		}
		out = append(out, ChangeRow{Change: c, Recipe: r, LayerBranch: lbByID[r.LayerBranchID]})
	}
	return out, nil
}

// RecipeFileDeps lists the repository paths a recipe read.
func (s *Store) RecipeFileDeps(ctx context.Context, recipeID int64) ([]string, error) {
	var out []string
	err := s.with(ctx).Model(&RecipeFileDep{}).Where("recipe_id = ?", recipeID).Order("path").Pluck("path", &out).Error
	return out, err
}

// Bulk-change search fields and match types (upstream's advanced search).
var (
	BulkSearchFields  = []string{"pn", "summary", "description", "homepage", "bugtracker", "section", "license"}
	BulkSearchMatches = []string{"contains", "notcontains", "equals", "blank"}
)

// BulkSearch finds up to limit recipes of published layers on a branch
// whose field matches (field and match from the lists above), optionally
// in one layer.
func (s *Store) BulkSearch(ctx context.Context, branchID int64, field, match, value string, layerID int64, limit int) ([]RecipeRow, error) {
	col := ""
	for _, f := range BulkSearchFields {
		if f == field {
			col = "r." + f
		}
	}
	if col == "" {
		return nil, ErrNotFound
	}
	q := s.with(ctx).Table("recipes r").Select("r.*, l.name AS layer_name").
		Joins("JOIN layer_branches lb ON lb.id = r.layer_branch_id JOIN layers l ON l.id = lb.layer_id").
		Where("lb.branch_id = ? AND l.status IN ? AND NOT l.comparison", branchID, publishedStatuses)
	switch match {
	case "contains":
		q = q.Where("lower("+col+") LIKE ? ESCAPE '\\'", likeContains(strings.ToLower(value)))
	case "notcontains":
		q = q.Where("lower("+col+") NOT LIKE ? ESCAPE '\\'", likeContains(strings.ToLower(value)))
	case "equals":
		q = q.Where(col+" = ?", value)
	case "blank":
		q = q.Where(col + " = ''")
	default:
		return nil, ErrNotFound
	}
	if layerID > 0 {
		q = q.Where("lb.layer_id = ?", layerID)
	}
	var out []RecipeRow
	err := q.Order(s.collate("r.pn %[1]s, l.name %[1]s, r.id")).Limit(limit).Scan(&out).Error
	return out, err
}
