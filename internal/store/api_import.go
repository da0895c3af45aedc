package store

import (
	"context"
	"slices"
	"time"

	"gorm.io/gorm"
)

// This file writes what `layerindex import` mirrors from another layer
// index. Rows are matched by their natural keys (branch name, layer name,
// layer and branch), compared, and written only when they differ, so a
// second import of unchanged data writes nothing. The other index's
// "updated" dates are kept (a zero date means now): importers of this
// index compare them to decide what changed.

// MirrorDependency is a dependency of a mirrored layer branch, by layer name.
type MirrorDependency struct {
	Layer    string
	Required bool
}

// MirrorLayerBranch is one layer on one branch as the other index has it.
type MirrorLayerBranch struct {
	Layer, Branch  string // names
	Collection     string
	Version        string
	VCSSubdir      string
	ActualBranch   string
	LocalPath      string
	UpdatesEnabled bool
	Updated        time.Time         // at the other index; zero: now
	Maintainers    []LayerMaintainer // ids ignored
	Dependencies   []MirrorDependency
}

// MirrorLayer is a layer and its notes; ids and the creation date are
// ignored, UpdatedAt is kept (zero: now).
type MirrorLayer struct {
	Layer Layer
	Notes []string
}

// Mirror is the metadata of another index to write here.
type Mirror struct {
	Branches      []Branch // created when missing (with their UpdatedAt); existing branches are left as configured here
	Layers        []MirrorLayer
	LayerBranches []MirrorLayerBranch
	// Prune deletes local layer branches, on the mirrored branches, of
	// mirrored layers that the other index no longer has.
	Prune bool
}

// MirrorCounts counts what a mirror did to one kind of row.
type MirrorCounts struct{ Created, Updated, Unchanged, Deleted int }

// MirrorResult says what Mirror did, and where each mirrored layer branch
// is here (key "layer/branch").
type MirrorResult struct {
	Branches, Layers, LayerBranches, Maintainers, Dependencies, Notes MirrorCounts
	LayerBranchIDs                                                    map[string]int64
}

// Mirror writes m in one transaction.
func (s *Store) Mirror(ctx context.Context, m *Mirror) (*MirrorResult, error) {
	res := &MirrorResult{LayerBranchIDs: map[string]int64{}}
	err := s.with(ctx).Transaction(func(tx *gorm.DB) error {
		branchID := map[string]int64{}
		for _, b := range m.Branches {
			var have Branch
			err := tx.Where("name = ?", b.Name).Take(&have).Error
			switch {
			case err == nil:
				branchID[b.Name] = have.ID
				res.Branches.Unchanged++
				continue
			case err != gorm.ErrRecordNotFound:
				return err
			}
			b.ID = 0
			if err := tx.Create(&b).Error; err != nil {
				return err
			}
			branchID[b.Name] = b.ID
			res.Branches.Created++
		}

		// Saves keep the other index's dates rather than stamping now.
		keepDates := tx.Session(&gorm.Session{SkipHooks: true})
		layerID := map[string]int64{}
		for _, ml := range m.Layers {
			l := ml.Layer
			var have Layer
			err := tx.Where("name = ?", l.Name).Take(&have).Error
			switch {
			case err == gorm.ErrRecordNotFound:
				l.ID, l.SubmittedByID = 0, nil
				if err := tx.Create(&l).Error; err != nil {
					return err
				}
				res.Layers.Created++
			case err != nil:
				return err
			default:
				l.ID, l.SubmittedByID, l.CreatedAt = have.ID, have.SubmittedByID, have.CreatedAt
				undated := l.UpdatedAt.IsZero()
				if undated || l.UpdatedAt.Equal(have.UpdatedAt) {
					l.UpdatedAt = have.UpdatedAt
				}
				if l == have {
					res.Layers.Unchanged++
				} else {
					if undated {
						l.UpdatedAt = time.Now().UTC()
					}
					if err := keepDates.Select("*").Omit("created_at", "submitted_by_id").Save(&l).Error; err != nil {
						return err
					}
					res.Layers.Updated++
				}
			}
			layerID[l.Name] = l.ID
			if err := mirrorNotes(tx, l.ID, ml.Notes, &res.Notes); err != nil {
				return err
			}
		}

		keep := map[int64]bool{}
		for _, mlb := range m.LayerBranches {
			lid, bid := layerID[mlb.Layer], branchID[mlb.Branch]
			if lid == 0 || bid == 0 {
				continue // not mirrored: the caller filtered it out
			}
			var lb LayerBranch
			err := tx.Where("layer_id = ? AND branch_id = ?", lid, bid).Take(&lb).Error
			if err != nil && err != gorm.ErrRecordNotFound {
				return err
			}
			want := lb
			want.LayerID, want.BranchID = lid, bid
			want.Collection, want.Version, want.VCSSubdir = mlb.Collection, mlb.Version, mlb.VCSSubdir
			want.ActualBranch, want.LocalPath, want.UpdatesEnabled = mlb.ActualBranch, mlb.LocalPath, mlb.UpdatesEnabled
			if !mlb.Updated.IsZero() && !mlb.Updated.Equal(lb.UpdatedAt) {
				want.UpdatedAt = mlb.Updated.UTC()
			}
			switch {
			case lb.ID == 0:
				if err := tx.Omit("Layer", "Branch").Create(&want).Error; err != nil {
					return err
				}
				res.LayerBranches.Created++
			case want != lb:
				updated := want.UpdatedAt
				if mlb.Updated.IsZero() {
					updated = time.Now().UTC()
				}
				if err := tx.Model(&LayerBranch{}).Where("id = ?", lb.ID).Updates(map[string]any{
					"collection": want.Collection, "version": want.Version, "vcs_subdir": want.VCSSubdir,
					"actual_branch": want.ActualBranch, "local_path": want.LocalPath, "updates_enabled": want.UpdatesEnabled,
					"updated_at": updated,
				}).Error; err != nil {
					return err
				}
				res.LayerBranches.Updated++
			default:
				res.LayerBranches.Unchanged++
			}
			keep[want.ID] = true
			res.LayerBranchIDs[mlb.Layer+"/"+mlb.Branch] = want.ID
			if err := mirrorMaintainers(tx, want.ID, mlb.Maintainers, &res.Maintainers); err != nil {
				return err
			}
			var deps []LayerDependency
			seen := map[int64]bool{}
			for _, d := range mlb.Dependencies {
				if id := layerID[d.Layer]; id != 0 && !seen[id] {
					seen[id] = true
					deps = append(deps, LayerDependency{DependencyID: id, Required: d.Required})
				}
			}
			if err := mirrorDependencies(tx, want.ID, deps, &res.Dependencies); err != nil {
				return err
			}
		}

		if m.Prune && len(layerID) > 0 && len(branchID) > 0 {
			var stale []LayerBranch
			if err := tx.Where("layer_id IN ? AND branch_id IN ?", mapValues(layerID), mapValues(branchID)).Find(&stale).Error; err != nil {
				return err
			}
			for _, lb := range stale {
				if keep[lb.ID] {
					continue
				}
				if err := tx.Delete(&LayerBranch{}, lb.ID).Error; err != nil {
					return err
				}
				res.LayerBranches.Deleted++
			}
		}
		return nil
	})
	return res, err
}

func mapValues(m map[string]int64) []int64 {
	out := make([]int64, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func mirrorNotes(tx *gorm.DB, layerID int64, texts []string, c *MirrorCounts) error {
	var have []LayerNote
	if err := tx.Where("layer_id = ?", layerID).Order("id").Find(&have).Error; err != nil {
		return err
	}
	var old []string
	for _, n := range have {
		old = append(old, n.Text)
	}
	if slices.Equal(old, texts) {
		c.Unchanged += len(texts)
		return nil
	}
	if err := tx.Where("layer_id = ?", layerID).Delete(&LayerNote{}).Error; err != nil {
		return err
	}
	for _, t := range texts {
		if err := tx.Create(&LayerNote{LayerID: layerID, Text: t}).Error; err != nil {
			return err
		}
	}
	c.Deleted += len(have)
	c.Created += len(texts)
	return nil
}

func mirrorMaintainers(tx *gorm.DB, lbID int64, want []LayerMaintainer, c *MirrorCounts) error {
	var have []LayerMaintainer
	if err := tx.Where("layer_branch_id = ?", lbID).Order("id").Find(&have).Error; err != nil {
		return err
	}
	for i := range want {
		want[i].ID, want[i].LayerBranchID = 0, lbID
		if want[i].Status == "" {
			want[i].Status = "A"
		}
	}
	same := len(have) == len(want)
	for i := 0; same && i < len(have); i++ {
		h := have[i]
		h.ID = 0
		same = h == want[i]
	}
	if same {
		c.Unchanged += len(want)
		return nil
	}
	if err := tx.Where("layer_branch_id = ?", lbID).Delete(&LayerMaintainer{}).Error; err != nil {
		return err
	}
	c.Deleted += len(have)
	c.Created += len(want)
	return createAll(tx, want)
}

func mirrorDependencies(tx *gorm.DB, lbID int64, want []LayerDependency, c *MirrorCounts) error {
	var have []LayerDependency
	if err := tx.Where("layer_branch_id = ?", lbID).Order("id").Find(&have).Error; err != nil {
		return err
	}
	for i := range want {
		want[i].LayerBranchID = lbID
	}
	same := len(have) == len(want)
	for i := 0; same && i < len(have); i++ {
		same = have[i].DependencyID == want[i].DependencyID && have[i].Required == want[i].Required
	}
	if same {
		c.Unchanged += len(want)
		return nil
	}
	if err := tx.Where("layer_branch_id = ?", lbID).Delete(&LayerDependency{}).Error; err != nil {
		return err
	}
	c.Deleted += len(have)
	c.Created += len(want)
	return createAll(tx, want)
}

// MirroredParser marks layer branches whose index was imported from
// another layer index rather than parsed here; ingestion, seeing a parser
// version other than its own, parses them afresh.
const MirroredParser = "import"

// MirrorState is what the other index says it last indexed, and the date
// its layer branch last changed (nil: leave the date alone).
type MirrorState struct {
	Rev        string
	LastFetch  *time.Time
	LastCommit *time.Time
	Updated    *time.Time
}

// MirrorIndexCurrent reports whether layer branch lbID already holds an
// import of revision rev.
func (s *Store) MirrorIndexCurrent(ctx context.Context, lbID int64, rev string) (bool, error) {
	var lb LayerBranch
	if err := s.with(ctx).Select("vcs_last_rev", "parser_version").Where("id = ?", lbID).Take(&lb).Error; err != nil {
		return false, translate(err)
	}
	return rev != "" && lb.VCSLastRev == rev && lb.ParserVersion == MirroredParser, nil
}

// MirrorIndex writes an imported index of layer branch lbID and the state
// it was indexed at, in one transaction; unchanged rows are not written.
func (s *Store) MirrorIndex(ctx context.Context, lbID int64, ch *IndexChange, st MirrorState) (IndexStats, error) {
	var stats IndexStats
	err := s.with(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if stats, err = Tx(tx).ApplyIndex(ctx, lbID, ch); err != nil {
			return err
		}
		var lb LayerBranch
		if err := tx.Where("id = ?", lbID).Take(&lb).Error; err != nil {
			return err
		}
		if lb.VCSLastRev == st.Rev && lb.ParserVersion == MirroredParser && sameTime(lb.VCSLastFetch, st.LastFetch) &&
			sameTime(lb.VCSLastCommit, st.LastCommit) {
			return nil
		}
		updated := lb.UpdatedAt
		if st.Updated != nil {
			updated = st.Updated.UTC()
		}
		return tx.Model(&LayerBranch{}).Where("id = ?", lbID).Updates(map[string]any{
			"vcs_last_rev": st.Rev, "vcs_last_fetch": utc(st.LastFetch), "vcs_last_commit": utc(st.LastCommit),
			"parser_version": MirroredParser, "updated_at": updated,
		}).Error
	})
	return stats, err
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
