package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"layerindex/internal/ingest"
	"layerindex/internal/store"
)

// Validation statuses of a submitted layer's repository check.
const (
	ValidationPending  = ""         // queued, not checked yet
	ValidationRetrying = "retrying" // the repository did not answer; checked again soon
	ValidationOK       = "ok"
	ValidationFailed   = "failed"
)

// ValidateLayer checks a submitted layer's repository (jobs.Handler) and
// records the result for the review page at once — also a transient
// failure, with when the next attempt is due, so the page never shows a
// check "pending" while it is failing. retryAt is zero on the last attempt.
// It returns an error only to have River make the next attempt.
func (s *Service) ValidateLayer(ctx context.Context, layerID int64, attempt, max int, retryAt time.Time) error {
	l, err := s.store.LayerByID(ctx, layerID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // rejected or deleted meanwhile
	} else if err != nil {
		return err
	}
	if s.opts.Repos == nil {
		return errors.New("this process is not configured to fetch repositories")
	}
	lbs, err := s.store.LayerBranchesOfLayer(ctx, l.ID)
	if err != nil {
		return err
	}
	var report string
	if s.opts.Indexer != nil {
		report, err = s.opts.Indexer.CheckRepository(ctx, l, lbs) // isolated as configured
	} else {
		report, err = ingest.CheckRepository(ctx, s.opts.Repos, l, lbs)
	}
	switch {
	case err == nil:
		return s.store.SetValidation(ctx, l.ID, ValidationOK, report)
	case ingest.IsPermanent(err) || retryAt.IsZero():
		if !ingest.IsPermanent(err) {
			report += fmt.Sprintf("INFO: attempt %d of %d\n", attempt, max)
		}
		return s.store.SetValidation(ctx, l.ID, ValidationFailed, report+"ERROR: "+firstLine(err)+"\n")
	default:
		report += fmt.Sprintf("ERROR: %s\nINFO: attempt %d of %d failed; the next is due at %s\n",
			firstLine(err), attempt, max, retryAt.UTC().Format(time.RFC3339))
		if serr := s.store.SetValidation(ctx, l.ID, ValidationRetrying, report); serr != nil {
			return serr
		}
		return err
	}
}
