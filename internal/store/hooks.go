package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm/clause"
)

// LayerHook is a layer's webhook secret.
type LayerHook struct {
	LayerID   int64 `gorm:"primaryKey;autoIncrement:false"`
	Secret    string
	UpdatedAt time.Time
}

// Hook delivery outcomes.
const (
	HookQueued   = "queued"   // an update of the pushed branch was queued (or joined)
	HookIgnored  = "ignored"  // authentic, but nothing to do (another branch, another event)
	HookRejected = "rejected" // not authentic, malformed, or replayed
)

// HookDelivery is one webhook request received for a layer.
type HookDelivery struct {
	ID         int64
	LayerID    int64
	Provider   string
	DeliveryID string
	Event      string
	GitBranch  string
	Outcome    string
	Detail     string
	UpdateID   *int64
	ReceivedAt time.Time
}

// ErrReplayed is returned when a delivery id was accepted before.
var ErrReplayed = errors.New("this delivery was received before")

// HookSecret is a layer's webhook secret ("" when none was made).
func (s *Store) HookSecret(ctx context.Context, layerID int64) (string, error) {
	var h LayerHook
	err := translate(s.with(ctx).Where("layer_id = ?", layerID).Take(&h).Error)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return h.Secret, err
}

// SetHookSecret stores a layer's new webhook secret.
func (s *Store) SetHookSecret(ctx context.Context, layerID int64, secret string) error {
	h := LayerHook{LayerID: layerID, Secret: secret, UpdatedAt: time.Now().UTC()}
	return s.with(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "layer_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"secret", "updated_at"})}).Create(&h).Error
}

// AddHookDelivery records a delivery; an accepted delivery id seen before
// gives ErrReplayed. Deliveries older than a month, and rejected ones
// beyond the newest 20 of the layer, are forgotten (a flood of forged
// requests cannot grow the table).
func (s *Store) AddHookDelivery(ctx context.Context, d *HookDelivery) error {
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = time.Now().UTC()
	}
	if seen, err := s.HookDeliverySeen(ctx, d.LayerID, d.Provider, d.DeliveryID); err != nil {
		return err
	} else if seen {
		return ErrReplayed
	}
	if err := s.with(ctx).Create(d).Error; err != nil {
		if errors.Is(translate(err), ErrConflict) {
			return ErrReplayed
		}
		return err
	}
	db := s.with(ctx)
	if err := db.Where("layer_id = ? AND received_at < ?", d.LayerID, d.ReceivedAt.Add(-30*24*time.Hour)).Delete(&HookDelivery{}).Error; err != nil {
		return err
	}
	var keep []int64
	if err := db.Model(&HookDelivery{}).Where("layer_id = ? AND outcome = ?", d.LayerID, HookRejected).
		Order("id DESC").Limit(20).Pluck("id", &keep).Error; err != nil {
		return err
	}
	if len(keep) == 20 {
		return db.Where("layer_id = ? AND outcome = ? AND id NOT IN ?", d.LayerID, HookRejected, keep).Delete(&HookDelivery{}).Error
	}
	return nil
}

// HookDeliverySeen tells whether a delivery id was recorded for the layer
// before (an empty id never was).
func (s *Store) HookDeliverySeen(ctx context.Context, layerID int64, provider, id string) (bool, error) {
	if id == "" {
		return false, nil
	}
	var n int64
	err := s.with(ctx).Model(&HookDelivery{}).Where("layer_id = ? AND provider = ? AND delivery_id = ?",
		layerID, provider, id).Count(&n).Error
	return n > 0, err
}

// HookDeliveries lists a layer's newest deliveries.
func (s *Store) HookDeliveries(ctx context.Context, layerID int64, limit int) ([]HookDelivery, error) {
	var out []HookDelivery
	return out, s.with(ctx).Where("layer_id = ?", layerID).Order("id DESC").Limit(limit).Find(&out).Error
}
