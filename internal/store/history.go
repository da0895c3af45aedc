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
func (s *Store) LayerChanges(ctx context.Context, layerID *int64, limit, offset int) ([]LayerChange, int64, error) {
	q := s.with(ctx).Model(&LayerChange{})
	if layerID != nil {
		q = q.Where("layer_id = ?", *layerID)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return nil, 0, err
	}
	var cs []LayerChange
	err := q.Order("created_at DESC, id DESC").Limit(limit).Offset(offset).Find(&cs).Error
	return cs, n, err
}
