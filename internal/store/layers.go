package store

import "context"

// VisibleBranches lists the branches shown in menus, in display order.
func (s *Store) VisibleBranches(ctx context.Context) ([]Branch, error) {
	var bs []Branch
	err := s.with(ctx).Where("NOT hidden AND NOT comparison").
		Order("sort_priority IS NULL, sort_priority, name").Find(&bs).Error
	return bs, err
}

// PublishedLayerCount counts layers visible to the public.
func (s *Store) PublishedLayerCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.with(ctx).Model(&Layer{}).Where("status IN ?", []string{StatusPublished, StatusNoUpdate}).Count(&n).Error
	return n, err
}
