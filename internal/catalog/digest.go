package catalog

import (
	"context"
	"time"

	"layerindex/internal/jobs"
	"layerindex/internal/store"
)

// StaleAfter is how long a layer branch may go without a successful
// update before it is stale.
func (s *Service) StaleAfter() time.Duration {
	if s.opts.StaleAfter > 0 {
		return s.opts.StaleAfter
	}
	return DefaultStaleAfter
}

// StaleCutoff is the time before which a layer branch's last successful
// update makes it stale.
func (s *Service) StaleCutoff() time.Time { return time.Now().Add(-s.StaleAfter()) }

// AdminDigest mails the active administrators the layer branches that are
// failing, stale or whose repository is gone (jobs.Handler; weekly). With
// none, no mail is sent.
func (s *Service) AdminDigest(ctx context.Context) error {
	rows, err := s.store.UnhealthyLayerBranches(ctx, s.StaleCutoff())
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		s.log.InfoContext(ctx, "administrators' digest: no broken or stale layer")
		return nil
	}
	type entry struct {
		store.LayerHealth
		Page string
	}
	var broken, stale []entry
	for _, r := range rows {
		e := entry{r, s.URL(LayerPath(r.BranchName, r.LayerName))}
		if r.Failing {
			broken = append(broken, e)
		}
		if r.Stale {
			stale = append(stale, e)
		}
	}
	return s.q.InTx(ctx, func(tx *jobs.Tx) error {
		admins, err := tx.ActiveAdmins(ctx)
		if err != nil {
			return err
		}
		for _, ad := range admins {
			err := s.EnqueueMail(tx, "admin_digest", []string{ad.Email}, map[string]any{"Name": ad.Name,
				"Broken": broken, "Stale": stale, "Days": int(s.StaleAfter().Hours() / 24),
				"Status": s.URL("/layerindex/status/")})
			if err != nil {
				return err
			}
		}
		s.log.InfoContext(ctx, "administrators' digest queued", "admins", len(admins), "broken", len(broken), "stale", len(stale))
		return nil
	})
}
