package store

import (
	"context"

	"layerindex/internal/releasediff"
)

// BrowseBranchByID finds a branch that pages may show by id (upstream's
// comparison and report forms name branches by id).
func (s *Store) BrowseBranchByID(ctx context.Context, id int64) (*Branch, error) {
	var b Branch
	err := s.with(ctx).Where("id = ? AND NOT comparison", id).Take(&b).Error
	return &b, translate(err)
}

// PublishedLayers lists every published layer by name, for the pickers of
// pages that span branches.
func (s *Store) PublishedLayers(ctx context.Context) ([]Layer, error) {
	var ls []Layer
	err := s.with(ctx).Where("status IN ? AND NOT comparison", publishedStatuses).
		Order(s.collate("name %[1]s")).Find(&ls).Error
	return ls, err
}

// CompareRecipes reads the recipes of the published layers among layerIDs
// on a branch, for the branch comparison.
func (s *Store) CompareRecipes(ctx context.Context, branchID int64, layerIDs []int64) ([]releasediff.Recipe, error) {
	var rows []struct {
		ID                   int64
		PN                   string `gorm:"column:pn"`
		PV                   string `gorm:"column:pv"`
		SrcRev               string `gorm:"column:srcrev"`
		Summary, Description string
		LayerName            string
	}
	err := s.with(ctx).Raw(`SELECT r.id, r.pn, r.pv, r.srcrev, r.summary, r.description, l.name AS layer_name
FROM recipes r JOIN layer_branches lb ON lb.id = r.layer_branch_id JOIN layers l ON l.id = lb.layer_id
WHERE lb.branch_id = ? AND lb.layer_id IN ? AND l.status IN ? AND NOT l.comparison
ORDER BY r.pn, r.id`, branchID, layerIDs, publishedStatuses).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]releasediff.Recipe, len(rows))
	for i, r := range rows {
		desc := r.Summary
		if desc == "" {
			desc = r.Description
		}
		out[i] = releasediff.Recipe{ID: r.ID, PN: r.PN, PV: r.PV, SrcRev: r.SrcRev, ShortDesc: desc, Layer: r.LayerName}
	}
	return out, nil
}
