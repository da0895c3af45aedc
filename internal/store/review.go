package store

import (
	"context"
	"time"
)

// Submission is a layer as submitted: the layer, its first layer branch,
// maintainers and the layers it depends on.
type Submission struct {
	Layer       Layer
	Branch      LayerBranch
	Maintainers []LayerMaintainer
	DependsOn   []int64
}

// CreateSubmission stores a submitted layer as new. Run it in a
// transaction (jobs.Queue.InTx) so the mail and validation jobs commit with
// it; a taken name gives ErrConflict.
func (s *Store) CreateSubmission(ctx context.Context, sub *Submission) error {
	sub.Layer.Status = StatusNew
	if err := s.CreateLayer(ctx, &sub.Layer); err != nil {
		return err
	}
	sub.Branch.LayerID = sub.Layer.ID
	sub.Branch.UpdatesEnabled = true
	if err := s.CreateLayerBranch(ctx, &sub.Branch); err != nil {
		return err
	}
	if err := s.SetMaintainers(ctx, sub.Branch.ID, sub.Maintainers); err != nil {
		return err
	}
	deps := make([]LayerDependency, len(sub.DependsOn))
	for i, id := range sub.DependsOn {
		deps[i] = LayerDependency{DependencyID: id, Required: true}
	}
	return s.SetDependencies(ctx, sub.Branch.ID, deps)
}

// NewLayers lists the layers waiting for review, oldest first.
func (s *Store) NewLayers(ctx context.Context) ([]Layer, error) {
	var ls []Layer
	err := s.with(ctx).Where("status = ?", StatusNew).Order("created_at, id").Find(&ls).Error
	return ls, err
}

// NewLayerCount counts the layers waiting for review (the navbar badge).
func (s *Store) NewLayerCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.with(ctx).Model(&Layer{}).Where("status = ?", StatusNew).Count(&n).Error
	return n, err
}

// PublishLayer moves a new layer to published. It is conditional on the
// layer still being new, so a second click (or a second admin) gets
// ErrNotFound instead of a second round of mail.
func (s *Store) PublishLayer(ctx context.Context, id int64) error {
	res := s.with(ctx).Model(&Layer{}).Where("id = ? AND status = ?", id, StatusNew).
		Updates(map[string]any{"status": StatusPublished, "updated_at": time.Now().UTC()})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// DeleteLayer removes a layer and, by cascade, everything indexed for it.
func (s *Store) DeleteLayer(ctx context.Context, id int64) error {
	res := s.with(ctx).Where("id = ?", id).Delete(&Layer{})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// LayerMaintainers lists the maintainer rows of a layer branch.
func (s *Store) LayerMaintainers(ctx context.Context, lbID int64) ([]LayerMaintainer, error) {
	var ms []LayerMaintainer
	err := s.with(ctx).Where("layer_branch_id = ?", lbID).Order("id").Find(&ms).Error
	return ms, err
}

// MaintainersOfLayer lists the maintainers of a layer across its branches,
// one row per email (the first found); inactive ones only when asked.
func (s *Store) MaintainersOfLayer(ctx context.Context, layerID int64, inactiveToo bool) ([]LayerMaintainer, error) {
	var ms []LayerMaintainer
	q := s.with(ctx).Joins("JOIN layer_branches ON layer_branches.id = layer_maintainers.layer_branch_id").
		Where("layer_branches.layer_id = ?", layerID)
	if !inactiveToo {
		q = q.Where("layer_maintainers.status = 'A'")
	}
	if err := q.Order("layer_maintainers.id").Find(&ms).Error; err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	out := ms[:0]
	for _, m := range ms {
		if k := NormalizeEmail(m.Email); !seen[k] {
			seen[k] = true
			out = append(out, m)
		}
	}
	return out, nil
}

// PublishedLayersOnBranch lists the published layers that have a layer
// branch on a branch: what a layer may depend on.
func (s *Store) PublishedLayersOnBranch(ctx context.Context, branchID int64) ([]Layer, error) {
	var ls []Layer
	err := s.with(ctx).Where("status IN ? AND NOT comparison AND id IN (?)", []string{StatusPublished, StatusNoUpdate},
		s.db.Model(&LayerBranch{}).Select("layer_id").Where("branch_id = ?", branchID)).
		Order("index_preference DESC, name").Find(&ls).Error
	return ls, err
}

// AllLayers lists every layer by name (the administrators' list).
func (s *Store) AllLayers(ctx context.Context) ([]Layer, error) {
	var ls []Layer
	err := s.with(ctx).Order("name").Find(&ls).Error
	return ls, err
}

// LayerEdit is a maintainer's or administrator's change to a layer and one
// of its layer branches.
type LayerEdit struct {
	Layer       Layer // editable fields are copied; status and bookkeeping are not
	BranchID    int64 // the layer branch edited
	Subdir      string
	Actual      string
	Maintainers []LayerMaintainer
	DependsOn   []int64
	// ResetRev makes the next update of the layer branch a full scan (the
	// repository, subdirectory, branch or dependencies changed). It
	// forgets what the configuration was built from, not the indexed
	// revision: the recipes stored are still those of that revision until
	// the new index replaces them in one transaction, and the layer's page
	// and a crash check can say so.
	ResetRev bool
	// ResetAllRevs does the same for every branch (the repository changed).
	ResetAllRevs bool
}

// ApplyLayerEdit writes an edit. Run it in a transaction with its history
// entry and mail jobs.
func (s *Store) ApplyLayerEdit(ctx context.Context, e *LayerEdit) error {
	l := &e.Layer
	err := s.with(ctx).Model(&Layer{}).Where("id = ?", l.ID).Updates(map[string]any{
		"name": l.Name, "layer_type": l.LayerType, "summary": l.Summary, "description": l.Description,
		"vcs_url": l.VCSURL, "vcs_web_url": l.VCSWebURL, "vcs_web_tree_base_url": l.VCSWebTreeBaseURL,
		"vcs_web_file_base_url": l.VCSWebFileBaseURL, "vcs_web_commit_url": l.VCSWebCommitURL,
		"usage_url": l.UsageURL, "mailing_list_url": l.MailingListURL, "updated_at": time.Now().UTC(),
	}).Error
	if err = translate(err); err != nil {
		return err
	}
	lbUpdate := map[string]any{"vcs_subdir": e.Subdir, "actual_branch": e.Actual, "updated_at": time.Now().UTC()}
	if e.ResetRev {
		lbUpdate["config_digest"] = ""
	}
	if err := s.with(ctx).Model(&LayerBranch{}).Where("id = ?", e.BranchID).Updates(lbUpdate).Error; err != nil {
		return err
	}
	if e.ResetAllRevs {
		if err := s.with(ctx).Model(&LayerBranch{}).Where("layer_id = ?", l.ID).Update("config_digest", "").Error; err != nil {
			return err
		}
	}
	if err := s.SetMaintainers(ctx, e.BranchID, e.Maintainers); err != nil {
		return err
	}
	old, err := s.Dependencies(ctx, e.BranchID)
	if err != nil {
		return err
	}
	// Keep the rows (and their required/recommended flag and version
	// constraint) of dependencies that stay; the update rewrites them from
	// layer.conf anyway.
	keep := map[int64]LayerDependency{}
	for _, d := range old {
		keep[d.DependencyID] = d
	}
	deps := make([]LayerDependency, 0, len(e.DependsOn))
	for _, id := range e.DependsOn {
		d, ok := keep[id]
		if !ok {
			d = LayerDependency{DependencyID: id, Required: true}
		}
		deps = append(deps, d)
	}
	return s.SetDependencies(ctx, e.BranchID, deps)
}

// LayerUpdatesSince lists a layer's update logs that started after since,
// with their branches, newest first.
func (s *Store) LayerUpdatesSince(ctx context.Context, layerID int64, since time.Time) ([]LayerUpdate, error) {
	var lus []LayerUpdate
	err := s.with(ctx).Where("layer_id = ? AND started_at >= ?", layerID, since.UTC()).
		Order("started_at DESC, id DESC").Limit(50).Find(&lus).Error
	return lus, err
}

// Notes.

// LayerNotes lists a layer's notes, oldest first.
func (s *Store) LayerNotes(ctx context.Context, layerID int64) ([]LayerNote, error) {
	var ns []LayerNote
	err := s.with(ctx).Where("layer_id = ?", layerID).Order("id").Find(&ns).Error
	return ns, err
}

// LayerNote finds a note of a layer.
func (s *Store) LayerNote(ctx context.Context, layerID, id int64) (*LayerNote, error) {
	var n LayerNote
	return &n, translate(s.with(ctx).Where("layer_id = ? AND id = ?", layerID, id).Take(&n).Error)
}

// SaveLayerNote inserts or updates a note.
func (s *Store) SaveLayerNote(ctx context.Context, n *LayerNote) error {
	now := time.Now().UTC()
	n.UpdatedAt = now
	if n.ID == 0 {
		n.CreatedAt = now
		return s.with(ctx).Create(n).Error
	}
	return s.with(ctx).Model(&LayerNote{}).Where("id = ? AND layer_id = ?", n.ID, n.LayerID).
		Updates(map[string]any{"text": n.Text, "updated_at": now}).Error
}

// DeleteLayerNote removes a note of a layer.
func (s *Store) DeleteLayerNote(ctx context.Context, layerID, id int64) error {
	res := s.with(ctx).Where("layer_id = ? AND id = ?", layerID, id).Delete(&LayerNote{})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// Branches.

// AllBranches lists every branch in display order, hidden ones included.
func (s *Store) AllBranches(ctx context.Context) ([]Branch, error) {
	var bs []Branch
	err := s.with(ctx).Order("sort_priority IS NULL, sort_priority, name").Find(&bs).Error
	return bs, err
}

// BranchByID finds a branch.
func (s *Store) BranchByID(ctx context.Context, id int64) (*Branch, error) {
	var b Branch
	return &b, translate(s.with(ctx).Where("id = ?", id).Take(&b).Error)
}

// UpdateBranch saves a branch's settings (not its name).
func (s *Store) UpdateBranch(ctx context.Context, b *Branch) error {
	return translate(s.with(ctx).Model(&Branch{}).Where("id = ?", b.ID).Updates(map[string]any{
		"bitbake_branch": b.BitbakeBranch, "short_description": b.ShortDescription, "sort_priority": b.SortPriority,
		"updates_enabled": b.UpdatesEnabled, "hidden": b.Hidden, "updated_at": time.Now().UTC(),
	}).Error)
}
