package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// TestTokensAreSingleUse: a token works once, not after it expires, not
// for another purpose, and of concurrent uses exactly one wins.
func TestTokensAreSingleUse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		s := store.New(dbtest.Migrated(t, d).Gorm)
		u := &store.User{Email: "t@example.org", IsActive: true}
		s.CreateUser(ctx, u)
		mk := func(hash string, ttl time.Duration) {
			if err := s.CreateToken(ctx, &store.UserToken{UserID: u.ID, Purpose: store.TokenReset, TokenHash: hash,
				ExpiresAt: time.Now().UTC().Add(ttl)}); err != nil {
				t.Fatal(err)
			}
		}
		mk("valid", time.Hour)
		mk("expired", -time.Minute)
		mk("race", time.Hour)
		if _, err := s.ValidToken(ctx, store.TokenReset, "valid"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UseToken(ctx, store.TokenVerify, "valid"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("used for another purpose: %v", err)
		}
		if tok, err := s.UseToken(ctx, store.TokenReset, "valid"); err != nil || tok.UserID != u.ID || tok.UsedAt == nil {
			t.Fatalf("first use: %+v %v", tok, err)
		}
		if _, err := s.UseToken(ctx, store.TokenReset, "valid"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second use: %v", err)
		}
		if _, err := s.ValidToken(ctx, store.TokenReset, "expired"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired token valid: %v", err)
		}
		if _, err := s.UseToken(ctx, store.TokenReset, "expired"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired token used: %v", err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.UseToken(ctx, store.TokenReset, "race"); err == nil {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("%d concurrent uses succeeded, want 1", wins.Load())
		}
		if n, err := s.PurgeTokens(ctx, time.Now().UTC()); err != nil || n != 1 {
			t.Errorf("purged %d expired tokens (%v), want 1", n, err)
		}
	})
}

// TestHistoryOutlivesLayerAndUser: history rows keep the layer's name and
// the user's email when either is deleted; a job records one mail.
func TestHistoryOutlivesLayerAndUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		s := store.New(dbtest.Migrated(t, d).Gorm)
		u := &store.User{Email: "h@example.org", IsActive: true}
		s.CreateUser(ctx, u)
		l := &store.Layer{Name: "meta-h", Status: store.StatusNew, LayerType: store.TypeMisc, VCSURL: "https://x.org/h"}
		if err := s.CreateLayer(ctx, l); err != nil {
			t.Fatal(err)
		}
		if err := s.AddLayerChange(ctx, &store.LayerChange{LayerID: &l.ID, LayerName: l.Name, UserID: &u.ID, UserEmail: u.Email, Action: "edited"}); err != nil {
			t.Fatal(err)
		}
		s.DeleteLayer(ctx, l.ID)
		s.DeleteUser(ctx, u.ID)
		paged, err := s.LayerChanges(ctx, nil, store.Page{Number: 1, Size: 10})
		cs, n := paged.Items, paged.Total
		if err != nil || n != 1 || cs[0].LayerID != nil || cs[0].UserID != nil || cs[0].LayerName != "meta-h" || cs[0].UserEmail != "h@example.org" {
			t.Fatalf("history after deletions: %+v %d %v", cs, n, err)
		}
		id := int64(7)
		if err := s.RecordMail(ctx, &store.Mail{JobID: &id, Recipients: "a", Subject: "s", Status: store.MailSent}); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordMail(ctx, &store.Mail{JobID: &id, Recipients: "a", Subject: "s", Status: store.MailSent}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("a second mail for one job: %v, want ErrConflict", err)
		}
	})
}
