package store

import (
	"context"
	"time"
)

// AddLayerChange records one entry of a layer's history.
func (s *Store) AddLayerChange(ctx context.Context, c *LayerChange) error {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now().UTC()
	}
	return s.with(ctx).Create(c).Error
}

// LayerChanges lists history entries, newest first; layerID narrows them to
// one layer.
func (s *Store) LayerChanges(ctx context.Context, layerID *int64, p Page) (Paged[LayerChange], error) {
	q := s.with(ctx).Model(&LayerChange{})
	if layerID != nil {
		q = q.Where("layer_id = ?", *layerID)
	}
	out := Paged[LayerChange]{Page: p.norm()}
	if err := q.Count(&out.Total).Error; err != nil {
		return out, err
	}
	err := q.Order("created_at DESC, id DESC").Limit(out.Page.Size).Offset(out.Page.Offset()).Find(&out.Items).Error
	return out, err
}
