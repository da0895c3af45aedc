package catalog

import (
	"context"
	"strconv"
	"strings"
	"time"

	"layerindex/internal/jobs"
	"layerindex/internal/store"
)

// Maintainer alerts. A layer branch's updates are either healthy or
// failing; its maintainers are emailed when that changes (one mail when
// updates start failing, one when they recover, however many runs
// between), and when a successful update's warning count differs from the
// last one's. Users whose confirmed address is a maintainer's can opt out
// per layer. The state lives in layer_branch_alerts; the mail goes through
// the mail jobs in the transaction that changes it.

// alertAfterRun updates a layer branch's alert state, in the transaction
// that ends a run, and queues the mail the change calls for; gone says the
// run failed because the repository was not found (for the
// administrators' digest).
func (s *Service) alertAfterRun(ctx context.Context, tx *jobs.Tx, run *store.LayerUpdate, gone bool) error {
	if !run.Final() || run.LayerBranchID == nil || run.Status == store.UpdateCancelled {
		return nil
	}
	lbID := *run.LayerBranchID
	st, found, err := tx.AlertState(ctx, lbID)
	if err != nil {
		return err
	}
	if st.LastRunID != nil && *st.LastRunID >= run.ID {
		return nil // a newer run was judged already
	}
	now := time.Now().UTC()
	kind := ""
	switch run.Status {
	case store.UpdateFailed:
		st.RepoGone = gone
		if !st.Failing {
			kind, st.Failing, st.FailingSince = "update_failing", true, &now
		}
	case store.UpdateSucceeded, store.UpdateUnchanged:
		st.RepoGone = false
		if st.Failing {
			kind, st.Failing, st.FailingSince = "update_recovered", false, nil
		} else if run.Status == store.UpdateSucceeded && found && run.Warnings != st.Warnings {
			kind = "update_warnings"
		}
		if run.Status == store.UpdateSucceeded {
			st.Warnings = run.Warnings
		}
		st.LastOKAt = &now
	}
	id := run.ID
	st.LastRunID = &id
	if err := tx.SaveAlertState(ctx, &st); err != nil {
		return err
	}
	if kind == "" {
		return nil
	}
	return s.mailAlert(ctx, tx, kind, run, st)
}

// mailAlert emails the layer branch's active maintainers who did not opt
// out.
func (s *Service) mailAlert(ctx context.Context, tx *jobs.Tx, kind string, run *store.LayerUpdate, st store.LayerBranchAlert) error {
	lb, err := tx.LayerBranchByID(ctx, *run.LayerBranchID)
	if err != nil {
		return err
	}
	ms, err := tx.LayerMaintainers(ctx, lb.ID)
	if err != nil {
		return err
	}
	out, err := tx.OptedOutEmails(ctx, lb.LayerID)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Status != "A" || out[strings.ToLower(m.Email)] {
			continue
		}
		err := s.EnqueueMail(tx, kind, []string{m.Email}, map[string]any{"Name": m.Name, "Layer": lb.Layer.Name,
			"Branch": lb.Branch.Name, "Reason": run.Reason, "Warnings": run.Warnings, "Errors": run.Errors,
			"Log":    s.URL("/layerindex/layerupdate/" + strconv.FormatInt(run.ID, 10) + "/"),
			"Page":   s.URL(LayerPath(lb.Branch.Name, lb.Layer.Name)),
			"Manage": s.URL("/layerindex/layer/" + lb.Layer.Name + "/manage/#alerts")})
		if err != nil {
			return err
		}
	}
	return nil
}

// SetAlerts turns a signed-in user's alert mail about a layer on or off.
func (s *Service) SetAlerts(ctx context.Context, a Actor, layerID int64, on bool) error {
	if a.User == nil {
		return invalid("", "Sign in to choose your alerts.")
	}
	return s.store.SetAlertOptout(ctx, a.User.ID, layerID, !on)
}
