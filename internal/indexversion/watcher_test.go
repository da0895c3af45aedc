package indexversion_test

import (
	"context"
	"testing"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/indexversion"
	"layerindex/internal/store"
)

// The watcher's version follows every committed change (on PostgreSQL by
// notification, without a query per call), keeps being exact while its
// listening connection is lost, and resumes pushing once it is back.
func TestWatcherFollowsChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		conn := dbtest.Migrated(t, d)
		st := store.New(conn.Gorm)
		w := indexversion.Watch(conn, st, nil)
		defer w.Close()
		ctx := context.Background()

		// eventually waits until the watcher shows the database's version.
		eventually := func(what string) store.IndexVersion {
			t.Helper()
			want, err := st.APIIndexVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				got, err := w.Current(ctx)
				if err == nil && got.Version == want.Version && got.ChangedAt.Equal(want.ChangedAt) {
					return got
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: watcher at version %d (err %v), the database at %d", what, got.Version, err, want.Version)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		waitPushed := func() {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for !w.Pushed() {
				if time.Now().After(deadline) {
					t.Fatal("the listener never connected")
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		if d == db.Postgres {
			waitPushed()
		} else if w.Pushed() {
			t.Fatal("SQLite has no notifications to push versions")
		}
		v0 := eventually("at start")
		addBranch := func(name string) {
			t.Helper()
			if err := st.CreateBranch(ctx, &store.Branch{Name: name, BitbakeBranch: name}); err != nil {
				t.Fatal(err)
			}
		}
		changed := time.Now()
		addBranch("one")
		v := eventually("after a change")
		if v.Version <= v0.Version {
			t.Fatalf("version did not move: %d then %d", v0.Version, v.Version)
		}
		// A version settles two seconds after its change, never before
		// (only later on a loaded machine, so the check is one-sided).
		for !v.Settled {
			if time.Since(changed) > 10*time.Second {
				t.Fatal("a version changed 10 s ago is not settled")
			}
			time.Sleep(20 * time.Millisecond)
			var err error
			if v, err = w.Current(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if took := time.Since(changed); took < 1900*time.Millisecond {
			t.Fatalf("a version changed %s ago is reported settled", took)
		}
		if d != db.Postgres {
			// SQLite reads per call: exact at once.
			addBranch("two")
			got, _ := w.Current(ctx)
			if want, _ := st.APIIndexVersion(ctx); got.Version != want.Version {
				t.Fatalf("SQLite: %d right after a commit, want %d", got.Version, want.Version)
			}
			return
		}
		// A lost connection: Current reads from the database meanwhile, so a
		// change made during the outage is never hidden.
		if err := conn.Gorm.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?",
			indexversion.ApplicationName).Error; err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for w.Pushed() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		addBranch("during-outage")
		if !w.Pushed() {
			got, _ := w.Current(ctx)
			if want, _ := st.APIIndexVersion(ctx); got.Version != want.Version {
				t.Fatalf("during the outage: %d, want %d", got.Version, want.Version)
			}
		}
		waitPushed()
		eventually("after reconnecting")
		addBranch("after")
		eventually("a change after reconnecting")
	})
}
