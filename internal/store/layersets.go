package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// LayerSet is an administrator's published combination of layers on one
// release branch, optionally with a machine and a distro of the index: a
// bitbake-setup configuration named Name in the site's registry.
type LayerSet struct {
	ID          int64
	Name        string
	Description string
	BranchID    int64
	Machine     string
	Distro      string
	Recommends  bool
	Published   bool
	CreatedAt   time.Time
	UpdatedAt   time.Time

	Branch *Branch `gorm:"foreignKey:BranchID"`
	// Layers are the names of the layers picked, in the administrator's
	// order (filled by the queries below, not a column).
	Layers []string `gorm:"-"`
	// LayerIDs are the layers' ids, in order (filled by APILayerSets).
	LayerIDs []int64 `gorm:"-"`
}

// LayerSetLayer is one layer of a layer set.
type LayerSetLayer struct {
	ID         int64
	LayerSetID int64
	LayerID    int64
	Position   int
}

// LayerSets lists the layer sets by name (only the published ones when
// publishedOnly), with their branches and layers.
func (s *Store) LayerSets(ctx context.Context, publishedOnly bool) ([]LayerSet, error) {
	q := s.with(ctx).Preload("Branch").Order("name")
	if publishedOnly {
		q = q.Where("published")
	}
	var sets []LayerSet
	if err := q.Find(&sets).Error; err != nil {
		return nil, err
	}
	return sets, s.fillLayerSetLayers(ctx, sets)
}

// LayerSetsOnBranch lists the published layer sets of a release branch.
func (s *Store) LayerSetsOnBranch(ctx context.Context, branchID int64) ([]LayerSet, error) {
	var sets []LayerSet
	if err := s.with(ctx).Preload("Branch").Where("published AND branch_id = ?", branchID).Order("name").Find(&sets).Error; err != nil {
		return nil, err
	}
	return sets, s.fillLayerSetLayers(ctx, sets)
}

func (s *Store) fillLayerSetLayers(ctx context.Context, sets []LayerSet) error {
	if len(sets) == 0 {
		return nil
	}
	ids := make([]int64, len(sets))
	at := map[int64]int{}
	for i := range sets {
		ids[i], at[sets[i].ID] = sets[i].ID, i
	}
	var rows []struct {
		LayerSetID int64
		Name       string
	}
	err := s.with(ctx).Table("layer_set_layers m").Select("m.layer_set_id, l.name").
		Joins("JOIN layers l ON l.id = m.layer_id").Where("m.layer_set_id IN ?", ids).
		Order("m.layer_set_id, m.position, l.name").Scan(&rows).Error
	if err != nil {
		return err
	}
	for _, r := range rows {
		i := at[r.LayerSetID]
		sets[i].Layers = append(sets[i].Layers, r.Name)
	}
	return nil
}

// LayerSetByName finds a layer set, published or not.
func (s *Store) LayerSetByName(ctx context.Context, name string) (*LayerSet, error) {
	var ls LayerSet
	if err := translate(s.with(ctx).Preload("Branch").Where("name = ?", name).Take(&ls).Error); err != nil {
		return nil, err
	}
	sets := []LayerSet{ls}
	err := s.fillLayerSetLayers(ctx, sets)
	return &sets[0], err
}

// LayerSetByID finds a layer set, published or not.
func (s *Store) LayerSetByID(ctx context.Context, id int64) (*LayerSet, error) {
	var ls LayerSet
	if err := translate(s.with(ctx).Preload("Branch").Where("id = ?", id).Take(&ls).Error); err != nil {
		return nil, err
	}
	sets := []LayerSet{ls}
	err := s.fillLayerSetLayers(ctx, sets)
	return &sets[0], err
}

// SaveLayerSet creates (ID 0) or updates a layer set and replaces its
// layers with layerIDs, in that order. A name taken by another set is
// ErrConflict.
func (s *Store) SaveLayerSet(ctx context.Context, ls *LayerSet, layerIDs []int64) error {
	return s.with(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if ls.ID == 0 {
			err = tx.Omit("Branch").Create(ls).Error
		} else {
			ls.UpdatedAt = time.Now()
			err = tx.Model(&LayerSet{}).Where("id = ?", ls.ID).Updates(map[string]any{
				"name": ls.Name, "description": ls.Description, "branch_id": ls.BranchID, "machine": ls.Machine,
				"distro": ls.Distro, "recommends": ls.Recommends, "published": ls.Published, "updated_at": ls.UpdatedAt,
			}).Error
		}
		if err != nil {
			return translate(err)
		}
		if err := tx.Where("layer_set_id = ?", ls.ID).Delete(&LayerSetLayer{}).Error; err != nil {
			return err
		}
		rows := make([]LayerSetLayer, len(layerIDs))
		for i, id := range layerIDs {
			rows[i] = LayerSetLayer{LayerSetID: ls.ID, LayerID: id, Position: i}
		}
		return createAll(tx, rows)
	})
}

// DeleteLayerSet removes a layer set (its layers go with it).
func (s *Store) DeleteLayerSet(ctx context.Context, id int64) error {
	return s.with(ctx).Where("id = ?", id).Delete(&LayerSet{}).Error
}

// SetMasterForCompatible stores a layer's opt-in to have its master layer
// branch indexed under every release it declares compatibility with.
func (s *Store) SetMasterForCompatible(ctx context.Context, layerID int64, on bool) error {
	return s.with(ctx).Model(&Layer{}).Where("id = ?", layerID).Updates(map[string]any{"master_for_compatible": on, "updated_at": time.Now().UTC()}).Error
}

// SetFollowsMaster marks a layer branch as one made by that opt-in,
// reading the master layer branch's git branch and subdirectory.
func (s *Store) SetFollowsMaster(ctx context.Context, lbID int64, gitBranch, subdir string) error {
	return s.with(ctx).Model(&LayerBranch{}).Where("id = ?", lbID).
		Updates(map[string]any{"follows_master": true, "actual_branch": gitBranch, "vcs_subdir": subdir}).Error
}

// DeleteLayerBranch removes a layer branch and its index (its runs keep
// their history without it).
func (s *Store) DeleteLayerBranch(ctx context.Context, lbID int64) error {
	return s.with(ctx).Where("id = ?", lbID).Delete(&LayerBranch{}).Error
}

// StopFollowingMaster makes a layer branch indexed from master the layer's
// own: it reads the git branch of its release's name from now on.
func (s *Store) StopFollowingMaster(ctx context.Context, lbID int64) error {
	return s.with(ctx).Model(&LayerBranch{}).Where("id = ?", lbID).
		Updates(map[string]any{"follows_master": false, "actual_branch": ""}).Error
}
