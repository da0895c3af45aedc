package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"layerindex/internal/auth"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// TestPolicy is the permission table: who may do what, maintainers decided
// by active maintainer rows and the account's verified email, ignoring case.
func TestPolicy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		st := store.New(dbtest.Migrated(t, d).Gorm)
		b := &store.Branch{Name: "master"}
		st.CreateBranch(ctx, b)
		mk := func(name, typ string, ms ...store.LayerMaintainer) *store.Layer {
			l := &store.Layer{Name: name, Status: store.StatusPublished, LayerType: typ, VCSURL: "https://x.org/" + name}
			if err := st.CreateLayer(ctx, l); err != nil {
				t.Fatal(err)
			}
			lb := &store.LayerBranch{LayerID: l.ID, BranchID: b.ID}
			st.CreateLayerBranch(ctx, lb)
			st.SetMaintainers(ctx, lb.ID, ms)
			return l
		}
		mine := mk("meta-mine", store.TypeSoftware, store.LayerMaintainer{Name: "M", Email: " Maint@Example.ORG ", Status: "A"},
			store.LayerMaintainer{Name: "F", Email: "former@example.org", Status: "I"})
		base := mk("meta-base", store.TypeBase, store.LayerMaintainer{Name: "M", Email: "maint@example.org", Status: "A"})
		other := mk("meta-other", store.TypeSoftware, store.LayerMaintainer{Name: "O", Email: "other@example.org", Status: "A"})

		user := func(email string, verified, active, admin bool) *store.User {
			return &store.User{ID: 1, Email: email, Verified: verified, IsActive: active, IsAdmin: admin}
		}
		maint := user("maint@example.org", true, true, false)
		p := auth.Policy{Maintainers: st}
		cases := []struct {
			name  string
			who   *store.User
			act   auth.Action
			layer *store.Layer
			want  bool
		}{
			{"anonymous submits", nil, auth.SubmitLayer, nil, true},
			{"anonymous account", nil, auth.ManageAccount, nil, false},
			{"anonymous edit", nil, auth.EditLayer, mine, false},
			{"user account", user("u@example.org", true, true, false), auth.ManageAccount, nil, true},
			{"user edit", user("u@example.org", true, true, false), auth.EditLayer, mine, false},
			{"user review", user("u@example.org", true, true, false), auth.ReviewLayers, nil, false},
			{"maintainer edits, any case", maint, auth.EditLayer, mine, true},
			{"maintainer edits another", maint, auth.EditLayer, other, false},
			{"maintainer edit without layer", maint, auth.EditLayer, nil, false},
			{"maintainer reviews", maint, auth.ReviewLayers, nil, false},
			{"maintainer branches", maint, auth.ManageBranches, nil, false},
			{"maintainer history", maint, auth.ViewHistory, nil, false},
			{"maintainer outbox", maint, auth.ViewOutbox, nil, false},
			{"maintainer job dashboard", maint, auth.ManageJobs, mine, false},
			{"user job dashboard", user("u@example.org", true, true, false), auth.ManageJobs, nil, false},
			{"admin job dashboard", user("a@example.org", true, true, true), auth.ManageJobs, nil, true},
			{"maintainer credentials", maint, auth.ManageCredentials, mine, false},
			{"user credentials", user("u@example.org", true, true, false), auth.ManageCredentials, nil, false},
			{"admin credentials", user("a@example.org", true, true, true), auth.ManageCredentials, nil, true},
			{"maintainer sets base on a new layer", maint, auth.SetBaseType, nil, false},
			{"maintainer keeps base", maint, auth.SetBaseType, base, true},
			{"maintainer sets base on a software layer", maint, auth.SetBaseType, mine, false},
			{"inactive maintainer row", user("former@example.org", true, true, false), auth.EditLayer, mine, false},
			{"unverified maintainer", user("maint@example.org", false, true, false), auth.EditLayer, mine, false},
			{"disabled maintainer", user("maint@example.org", true, false, false), auth.EditLayer, mine, false},
			{"admin edits", user("a@example.org", true, true, true), auth.EditLayer, other, true},
			{"admin reviews", user("a@example.org", true, true, true), auth.ReviewLayers, nil, true},
			{"admin branches", user("a@example.org", true, true, true), auth.ManageBranches, nil, true},
			{"admin base", user("a@example.org", true, true, true), auth.SetBaseType, nil, true},
			{"disabled admin", user("a@example.org", true, false, true), auth.ReviewLayers, nil, false},
		}
		for _, c := range cases {
			got, err := p.Allowed(ctx, c.who, c.act, c.layer)
			if err != nil || got != c.want {
				t.Errorf("%s: %v %v, want %v", c.name, got, err, c.want)
			}
		}
		// A closed site: nothing anonymous, submissions by signed-in users.
		closed := auth.Policy{Maintainers: st, Closed: true}
		for _, c := range []struct {
			name string
			who  *store.User
			want bool
		}{{"anonymous", nil, false}, {"unverified", user("u@example.org", false, true, false), false},
			{"user", user("u@example.org", true, true, false), true}, {"admin", user("a@example.org", true, true, true), true}} {
			if got, err := closed.Allowed(ctx, c.who, auth.SubmitLayer, nil); err != nil || got != c.want {
				t.Errorf("closed site, %s submits: %v %v, want %v", c.name, got, err, c.want)
			}
		}
		if !auth.NeedsChallenge(nil) || auth.NeedsChallenge(maint) || !auth.NeedsChallenge(user("x@y.org", false, true, false)) {
			t.Error("NeedsChallenge")
		}
	})
}

func TestLimiter(t *testing.T) {
	ctx := context.Background()
	conn := dbtest.Migrated(t, db.SQLite)
	l := auth.NewLimiter(store.New(conn.Gorm), []byte("secret"))
	lim := auth.Limit{Bucket: "test", Max: 3, Window: time.Hour}
	for i := 0; i < 3; i++ {
		if ok, _, err := l.Allow(ctx, lim, "203.0.113.5"); !ok || err != nil {
			t.Fatalf("attempt %d refused: %v", i, err)
		}
		l.Hit(ctx, lim, "203.0.113.5")
	}
	ok, wait, err := l.Allow(ctx, lim, "203.0.113.5")
	if ok || err != nil || wait <= 0 || wait > time.Hour {
		t.Fatalf("fourth attempt: %v %v %v", ok, wait, err)
	}
	if ok, _, _ := l.Allow(ctx, lim, "203.0.113.6"); !ok {
		t.Error("another key was limited")
	}
	if ok, _, _ := l.Allow(ctx, auth.Limit{Bucket: "other", Max: 3, Window: time.Hour}, "203.0.113.5"); !ok {
		t.Error("another bucket was limited")
	}
	var keys []string
	conn.Gorm.Model(&store.AuthAttempt{}).Pluck("key_hash", &keys)
	for _, k := range keys {
		if strings.Contains(k, "203.0.113") {
			t.Fatalf("the address is stored in clear: %q", k)
		}
	}
	l.Reset(ctx, lim, "203.0.113.5")
	if ok, _, _ := l.Allow(ctx, lim, "203.0.113.5"); !ok {
		t.Error("Reset did not clear the attempts")
	}
}

// TestSessions: a login rotates the token, the table keeps its hash and
// the account, a later request finds it, and ending the account's other
// sessions keeps only the current one.
func TestSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		st := store.New(conn.Gorm)
		u := &store.User{Email: "s@example.org", IsActive: true, Verified: true}
		st.CreateUser(ctx, u)
		sm := auth.NewSessions(st, true)
		if sm.Cookie.Name != "__Host-session" || !sm.Cookie.Secure || !sm.Cookie.HttpOnly {
			t.Errorf("secure cookie settings: %+v", sm.Cookie)
		}

		login := func() string {
			c, err := sm.Load(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			csrf := sm.CSRFToken(c)
			if err := sm.LogIn(c, u.ID); err != nil {
				t.Fatal(err)
			}
			if sm.CheckCSRF(c, csrf) || !sm.CheckCSRF(c, sm.ExistingCSRFToken(c)) || sm.CheckCSRF(c, "") {
				t.Error("the CSRF token was not replaced at login, or checks wrongly")
			}
			tok, _, err := sm.Commit(c)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		first, second := login(), login()
		sum := sha256.Sum256([]byte(first))
		var row store.Session
		if err := conn.Gorm.Where("token = ?", base64.RawURLEncoding.EncodeToString(sum[:])).Take(&row).Error; err != nil {
			t.Fatalf("no row under the token's hash: %v", err)
		}
		if row.UserID == nil || *row.UserID != u.ID {
			t.Errorf("session row user %v", row.UserID)
		}
		c, err := sm.Load(ctx, first)
		if err != nil || sm.UserID(c) != u.ID {
			t.Fatalf("loading the session: %v, user %d", err, sm.UserID(c))
		}
		if err := sm.EndOtherSessions(c, u.ID); err != nil {
			t.Fatal(err)
		}
		renewed, _, err := sm.Commit(c)
		if err != nil || renewed == first {
			t.Fatalf("renewed token %v", err)
		}
		for tok, want := range map[string]int64{first: 0, second: 0, renewed: u.ID} {
			c, _ := sm.Load(ctx, tok)
			if got := sm.UserID(c); got != want {
				t.Errorf("after ending other sessions, a token gives user %d, want %d", got, want)
			}
		}
		// Deleting the account deletes its sessions.
		st.DeleteUser(ctx, u.ID)
		var n int64
		conn.Gorm.Model(&store.Session{}).Where("user_id = ?", u.ID).Count(&n)
		if n != 0 {
			t.Errorf("%d sessions outlive their account", n)
		}
	})
}

func TestTokens(t *testing.T) {
	a, ha := auth.NewToken()
	b, hb := auth.NewToken()
	if a == b || ha == hb || len(a) < 40 || auth.HashToken(a) != ha || strings.Contains(ha, a) {
		t.Fatalf("tokens %q %q hashes %q %q", a, b, ha, hb)
	}
}
