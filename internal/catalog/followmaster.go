package catalog

import (
	"context"
	"errors"

	"layerindex/internal/jobs"
	"layerindex/internal/store"
)

// Master under every compatible release (issue 14): many layers keep one
// master (or main) branch that works with several releases and say so in
// LAYERSERIES_COMPAT. A layer whose maintainers opt in (MasterForCompatible)
// gets, on every release with updates enabled whose core's
// LAYERSERIES_CORENAMES its master layer branch's LAYERSERIES_COMPAT names,
// a layer branch that reads the same git branch (FollowsMaster), indexed
// like any other — so its recipes, machines and dependencies show on that
// release, resolved against that release's layers. After each successful
// update of the master layer branch the followers are brought in line: new
// releases it declares get one, releases it no longer declares lose theirs,
// and the others are updated to the new revision. A layer branch the layer
// has of its own on a release (a real git branch) is never replaced.

// MasterBranchName is the release branch whose layer branch is followed.
const MasterBranchName = "master"

// SetMasterForCompatible turns the opt-in on or off (maintainers of the
// layer and administrators: the front doors check the policy) and brings
// the followers in line at once, in the same transaction.
func (s *Service) SetMasterForCompatible(ctx context.Context, a Actor, layerID int64, on bool) error {
	return s.q.InTx(ctx, func(tx *jobs.Tx) error {
		l, err := tx.LayerByID(ctx, layerID)
		if err != nil {
			return err
		}
		if l.MasterForCompatible == on {
			return nil
		}
		if err := tx.SetMasterForCompatible(ctx, l.ID, on); err != nil {
			return err
		}
		l.MasterForCompatible = on
		what := "off"
		if on {
			what = "on"
		}
		if err := history(ctx, tx.Store, a, l, "master for compatible releases", what); err != nil {
			return err
		}
		_, err = s.syncFollowers(ctx, tx, a, l)
		return err
	})
}

// FollowMaster brings the followers of the layer of a master layer branch
// in line after an update of it (a no-op for other layer branches and for
// layers that did not opt in).
func (s *Service) FollowMaster(ctx context.Context, lbID int64) error {
	lb, err := s.store.LayerBranchByID(ctx, lbID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if lb.FollowsMaster || lb.Branch == nil || lb.Branch.Name != MasterBranchName || lb.Layer == nil || !lb.Layer.MasterForCompatible {
		return nil
	}
	return s.q.InTx(ctx, func(tx *jobs.Tx) error {
		_, err := s.syncFollowers(ctx, tx, Actor{Origin: store.OriginRefresh}, lb.Layer)
		return err
	})
}

// FollowerChange says what syncFollowers did on one release.
type FollowerChange struct {
	Branch string
	Action string // "added", "removed", "queued"
}

// syncFollowers makes the layer's followers match its master layer
// branch's LAYERSERIES_COMPAT (none when the opt-in is off) and queues the
// runs of those that are new or behind the master's revision.
func (s *Service) syncFollowers(ctx context.Context, tx *jobs.Tx, a Actor, l *store.Layer) ([]FollowerChange, error) {
	lbs, err := tx.LayerBranchesOfLayer(ctx, l.ID)
	if err != nil {
		return nil, err
	}
	var master *store.LayerBranch
	for i := range lbs {
		if lbs[i].Branch != nil && lbs[i].Branch.Name == MasterBranchName && !lbs[i].FollowsMaster {
			master = &lbs[i]
		}
	}
	branches, err := tx.UpdatableBranches(ctx)
	if err != nil {
		return nil, err
	}
	var changes []FollowerChange
	var queue []store.LayerBranch
	for _, b := range branches {
		if b.Name == MasterBranchName {
			continue
		}
		var have *store.LayerBranch
		for i := range lbs {
			if lbs[i].BranchID == b.ID {
				have = &lbs[i]
			}
		}
		if have != nil && !have.FollowsMaster {
			continue // the layer's own branch for this release
		}
		want := false
		if l.MasterForCompatible && master != nil && master.SeriesCompat != "" {
			names, err := tx.ReleaseCoreNames(ctx, b.ID)
			if err != nil {
				return nil, err
			}
			want = store.Compatibility(master.SeriesCompat, names) == store.CompatYes
		}
		switch {
		case want && have == nil:
			lb, err := tx.CopyLayerBranch(ctx, master, b.ID)
			if err != nil {
				return nil, err
			}
			if err := tx.SetFollowsMaster(ctx, lb.ID, master.GitBranch(), master.VCSSubdir); err != nil {
				return nil, err
			}
			lb.ActualBranch, lb.FollowsMaster = master.GitBranch(), true
			if err := history(ctx, tx.Store, a, l, "branch added", b.Name+" (indexed from "+master.GitBranch()+", which declares compatibility)"); err != nil {
				return nil, err
			}
			changes = append(changes, FollowerChange{b.Name, "added"})
			queue = append(queue, *lb)
		case want && have != nil:
			moved := have.ActualBranch != master.GitBranch() || have.VCSSubdir != master.VCSSubdir
			if moved {
				// master now reads another git branch or subdirectory.
				if err := tx.SetFollowsMaster(ctx, have.ID, master.GitBranch(), master.VCSSubdir); err != nil {
					return nil, err
				}
			}
			if moved || have.VCSLastRev != master.VCSLastRev {
				changes = append(changes, FollowerChange{b.Name, "queued"})
				queue = append(queue, *have)
			}
		case !want && have != nil:
			if err := tx.DeleteLayerBranch(ctx, have.ID); err != nil {
				return nil, err
			}
			if err := history(ctx, tx.Store, a, l, "branch removed", b.Name+" (master no longer declares compatibility, or the option is off)"); err != nil {
				return nil, err
			}
			changes = append(changes, FollowerChange{b.Name, "removed"})
		}
	}
	if len(queue) > 0 && l.Status != store.StatusNew {
		if _, err := s.queueUpdate(ctx, tx, a, l.ID, queue, false, false); err != nil {
			return nil, err
		}
	}
	return changes, nil
}
