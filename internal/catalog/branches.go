package catalog

import (
	"context"
	"errors"
	"strings"

	"layerindex/internal/ingest"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
)

// AddBranch adds a release branch and, in the same transaction, queues a
// search of every published layer's repository for a git branch of that
// name (upstream's way of finding a new release): layers that have it get
// the branch, copied from their first, and are indexed on it. It returns
// how many layers will be searched.
func (s *Service) AddBranch(ctx context.Context, a Actor, b *store.Branch) (int, error) {
	b.Name = strings.TrimSpace(b.Name)
	if err := CheckBranchName(b.Name); err != nil {
		return 0, err
	}
	n := 0
	err := s.q.InTx(ctx, func(tx *jobs.Tx) error {
		if err := tx.CreateBranch(ctx, b); err != nil {
			return err
		}
		if !b.UpdatesEnabled {
			return nil
		}
		ls, err := tx.LayersToRefresh(ctx)
		if err != nil || len(ls) == 0 {
			return err
		}
		u := &store.Update{Origin: a.Origin, TriggeredByID: a.userID()}
		if err := tx.CreateUpdate(ctx, u); err != nil {
			return err
		}
		for _, l := range ls {
			// A search already pending for the layer covers this branch too.
			if _, err := s.queueDiscovery(ctx, tx, l.ID, u); err != nil {
				return err
			}
		}
		n = len(ls)
		return nil
	})
	return n, err
}

// UpdateBranch saves a release branch's settings (not its name).
func (s *Service) UpdateBranch(ctx context.Context, a Actor, b *store.Branch) error {
	return s.store.UpdateBranch(ctx, b)
}

// DiscoverBranches searches a layer's repository for release branches the
// layer is not on yet (jobs.Handler); what it finds is added and queued
// under update request updateID. A repository that cannot be fetched for
// good is left to the runs, which record why.
func (s *Service) DiscoverBranches(ctx context.Context, layerID, updateID int64) error {
	l, err := s.store.LayerByID(ctx, layerID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if l.Status == store.StatusNew {
		return nil
	}
	branches, err := s.store.UpdatableBranches(ctx)
	if err != nil {
		return err
	}
	a := Actor{Origin: store.OriginRefresh}
	u, err := s.store.UpdateByID(ctx, updateID)
	if errors.Is(err, store.ErrNotFound) {
		u = nil
	} else if err != nil {
		return err
	} else {
		a.Origin = u.Origin
		if u.TriggeredByID != nil {
			if usr, err := s.store.UserByID(ctx, *u.TriggeredByID); err == nil {
				a.User = usr
			}
		}
	}
	_, err = s.discover(ctx, a, l, branches, u, func(format string, args ...any) {
		s.log.InfoContext(ctx, "discovery: "+format, args...)
	})
	if err != nil && ingest.IsPermanent(err) {
		s.log.WarnContext(ctx, "cannot look for new release branches", "layer", l.Name, "err", err)
		return nil
	}
	return err
}

// discover adds the layer to those of branches its repository has a git
// branch for, copying the settings and maintainers of its first layer
// branch, and queues their runs under u (nil: the caller queues them).
func (s *Service) discover(ctx context.Context, a Actor, l *store.Layer, branches []store.Branch, u *store.Update,
	logf func(format string, a ...any)) ([]store.LayerBranch, error) {
	lbs, err := s.store.LayerBranchesOfLayer(ctx, l.ID)
	if err != nil || !missingBranches(lbs, branches) {
		return nil, err
	}
	if s.opts.Repos == nil {
		return nil, errors.New("this process is not configured to fetch repositories")
	}
	repo, err := s.opts.Repos.Fetch(ctx, l.VCSURL)
	if err != nil {
		return nil, err
	}
	names, err := repo.Branches()
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	var found []store.LayerBranch
	for _, b := range branches {
		if !have[b.Name] || !missingBranches(lbs, []store.Branch{b}) {
			continue
		}
		var follower *store.LayerBranch
		for i := range lbs {
			if lbs[i].BranchID == b.ID && lbs[i].FollowsMaster {
				follower = &lbs[i]
			}
		}
		err := s.q.InTx(ctx, func(tx *jobs.Tx) error {
			var lb *store.LayerBranch
			var err error
			if follower != nil {
				// The release's own git branch replaces master there.
				if err := tx.StopFollowingMaster(ctx, follower.ID); err != nil {
					return err
				}
				if lb, err = tx.LayerBranchByID(ctx, follower.ID); err != nil {
					return err
				}
				if err := history(ctx, tx.Store, a, l, "branch found", b.Name+" (in the repository; no longer indexed from master)"); err != nil {
					return err
				}
			} else {
				if lb, err = tx.CopyLayerBranch(ctx, &lbs[0], b.ID); err != nil {
					return err
				}
				if err := history(ctx, tx.Store, a, l, "branch added", b.Name+" (found in the repository)"); err != nil {
					return err
				}
			}
			found = append(found, *lb)
			if u == nil {
				return nil
			}
			_, err = s.queueRuns(ctx, tx, a, u, []store.LayerBranch{*lb}, false)
			return err
		})
		if errors.Is(err, store.ErrConflict) {
			continue // added meanwhile
		} else if err != nil {
			return found, err
		}
		if logf != nil {
			logf("%s: release branch %s found in its repository; the layer is now on it", l.Name, b.Name)
		}
	}
	return found, nil
}

func sameJob(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}
