package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"layerindex/internal/jobs"
	"layerindex/internal/store"
	"layerindex/internal/webhook"
)

// Push webhooks: a forge tells the index that a layer's repository got a
// push, and the layer branches that read the pushed git branch are updated
// at once instead of at the next refresh. The request is authenticated by
// the layer's secret (internal/webhook); here it becomes a delivery record
// and, for a push of a branch the layer is indexed from, an update
// request with origin "webhook", joining a waiting run as any request does.

// Webhook is the actor of a push notification.
var Webhook = Actor{Origin: store.OriginWebhook}

// HookSecret is a layer's webhook secret, "" until a maintainer makes one.
func (s *Service) HookSecret(ctx context.Context, layerID int64) (string, error) {
	return s.store.HookSecret(ctx, layerID)
}

// RotateHookSecret makes a new webhook secret for a layer (the old one
// stops working at once) and returns it.
func (s *Service) RotateHookSecret(ctx context.Context, a Actor, layerID int64) (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	secret := hex.EncodeToString(b)
	err := s.q.InTx(ctx, func(tx *jobs.Tx) error {
		l, err := tx.LayerByID(ctx, layerID)
		if err != nil {
			return err
		}
		if err := tx.SetHookSecret(ctx, l.ID, secret); err != nil {
			return err
		}
		return history(ctx, tx.Store, a, l, "webhook secret changed", "")
	})
	return secret, err
}

// RejectDelivery records a request that could not be authenticated or
// read, with why.
func (s *Service) RejectDelivery(ctx context.Context, layerID int64, provider, why string) error {
	return s.store.AddHookDelivery(ctx, &store.HookDelivery{LayerID: layerID, Provider: provider,
		Outcome: store.HookRejected, Detail: clip(why)})
}

// Delivered is what an authenticated delivery caused.
type Delivered struct {
	Outcome string // store.HookQueued or HookIgnored
	Detail  string
	Update  *store.Update // the update request, when runs were queued
	Runs    []Queued      // the runs queued or joined
}

// ErrReplayed is an authenticated delivery whose id was accepted before.
var ErrReplayed = store.ErrReplayed

// ReceivePush acts on an authenticated delivery for a layer: a push of a
// git branch that some of the layer's branches (with updates enabled) are
// read from queues their update, and only theirs; anything else is
// recorded as ignored. A delivery id accepted before gives ErrReplayed
// (and is recorded as rejected).
func (s *Service) ReceivePush(ctx context.Context, layerID int64, d *webhook.Delivery) (*Delivered, error) {
	out := &Delivered{Outcome: store.HookIgnored}
	err := s.q.InTx(ctx, func(tx *jobs.Tx) error {
		l, err := tx.LayerByID(ctx, layerID)
		if err != nil {
			return err
		}
		// A replay changes nothing, not even a waiting run's request time.
		if seen, err := tx.HookDeliverySeen(ctx, l.ID, d.Provider, d.ID); err != nil {
			return err
		} else if seen {
			return store.ErrReplayed
		}
		rec := &store.HookDelivery{LayerID: l.ID, Provider: d.Provider, DeliveryID: d.ID, Event: d.Event, GitBranch: d.Branch}
		switch {
		case !d.Push:
			out.Detail = fmt.Sprintf("not a push of a branch (event %q)", d.Event)
		case l.Status == store.StatusNew:
			out.Detail = "the layer is waiting for review"
		default:
			lbs, err := tx.LayerBranchesOfLayer(ctx, l.ID)
			if err != nil {
				return err
			}
			var want []store.LayerBranch
			var names []string
			for _, lb := range lbs {
				if lb.UpdatesEnabled && lb.GitBranch() == d.Branch {
					want = append(want, lb)
					names = append(names, lb.Branch.Name)
				}
			}
			if len(want) == 0 {
				out.Detail = "no release branch of the layer is read from git branch " + d.Branch
				break
			}
			req, err := s.queueUpdate(ctx, tx, Webhook, l.ID, want, false, false)
			if err != nil {
				return err
			}
			if len(req.Runs) == 0 {
				out.Detail = "updates are disabled on " + joinNames(names)
				break
			}
			out.Outcome, out.Update, out.Runs = store.HookQueued, req.Update, req.Runs
			out.Detail = "update of " + joinNames(names) + " queued"
			rec.UpdateID = &req.Update.ID
		}
		rec.Outcome, rec.Detail = out.Outcome, out.Detail
		return tx.AddHookDelivery(ctx, rec)
	})
	if errors.Is(err, store.ErrReplayed) {
		if rerr := s.RejectDelivery(ctx, layerID, d.Provider, "replayed delivery "+clip(d.ID)); rerr != nil {
			return nil, rerr
		}
		return nil, ErrReplayed
	}
	return out, err
}
