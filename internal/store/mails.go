package store

import (
	"context"
	"time"
)

// MailForJob finds the mail a job already delivered, if any.
func (s *Store) MailForJob(ctx context.Context, jobID int64) (*Mail, error) {
	var m Mail
	return &m, translate(s.with(ctx).Where("job_id = ?", jobID).Take(&m).Error)
}

// RecordMail stores a delivered (or logged) mail; a second record for one
// job gives ErrConflict.
func (s *Store) RecordMail(ctx context.Context, m *Mail) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now().UTC()
	}
	return translate(s.with(ctx).Create(m).Error)
}

// Mails lists the newest mails first.
func (s *Store) Mails(ctx context.Context, p Page) (Paged[Mail], error) {
	out := Paged[Mail]{Page: p.norm()}
	if err := s.with(ctx).Model(&Mail{}).Count(&out.Total).Error; err != nil {
		return out, err
	}
	err := s.with(ctx).Order("id DESC").Limit(out.Page.Size).Offset(out.Page.Offset()).Find(&out.Items).Error
	return out, err
}

// PurgeMails deletes mail records older than cutoff.
func (s *Store) PurgeMails(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.with(ctx).Where("created_at < ?", cutoff.UTC()).Delete(&Mail{})
	return res.RowsAffected, res.Error
}
