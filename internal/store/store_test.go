package store_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm/schema"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
)

// TestModelsMatchSchema checks every GORM model against the migrated tables
// on both databases: same table name, same columns.
func TestModelsMatchSchema(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		conn := dbtest.Migrated(t, d)
		for _, m := range store.Models {
			sch, err := schema.Parse(m, &sync.Map{}, conn.Gorm.NamingStrategy)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, f := range sch.Fields {
				if f.DBName != "" {
					want = append(want, f.DBName)
				}
			}
			sort.Strings(want)
			cols, err := conn.Gorm.Migrator().ColumnTypes(m)
			if err != nil {
				t.Fatalf("%s: %v", sch.Table, err)
			}
			var got []string
			for _, c := range cols {
				got = append(got, c.Name())
			}
			sort.Strings(got)
			if len(got) == 0 {
				t.Errorf("model %T: table %q does not exist", m, sch.Table)
				continue
			}
			if !slices.Equal(got, want) {
				t.Errorf("model %T (table %s):\n  model:  %v\n  schema: %v", m, sch.Table, want, got)
			}
		}
	})
}

func TestUserEmailUniqueIgnoringCase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		s := store.New(dbtest.Migrated(t, d).Gorm)
		if err := s.CreateUser(ctx, &store.User{Email: "Ann@Example.org", IsActive: true}); err != nil {
			t.Fatal(err)
		}
		err := s.CreateUser(ctx, &store.User{Email: "ann@example.ORG"})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second account with the same email: got %v, want ErrConflict", err)
		}
		u, err := s.UserByEmail(ctx, " ANN@example.org ")
		if err != nil || u.Email != "Ann@Example.org" {
			t.Fatalf("lookup: %+v %v", u, err)
		}
		if _, err := s.UserByEmail(ctx, "bob@example.org"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown email: got %v", err)
		}
	})
}

func TestPurgeUpdatesKeepsRecentAndRunning(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		s := store.New(conn.Gorm)
		storetest.Load(t, s)
		var lb store.LayerBranch
		if err := conn.Gorm.Order("id").Take(&lb).Error; err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-40 * 24 * time.Hour)
		for _, c := range []struct {
			started time.Time
			status  string
		}{{old, store.UpdateSucceeded}, {old, store.UpdateRunning}, {time.Now(), store.UpdateFailed}} {
			u := &store.Update{StartedAt: c.started}
			if err := s.CreateUpdate(ctx, u); err != nil {
				t.Fatal(err)
			}
			lu := &store.LayerUpdate{UpdateID: u.ID, LayerID: lb.LayerID, BranchID: lb.BranchID, LayerBranchID: &lb.ID,
				StartedAt: c.started, Status: c.status, Origin: store.OriginRefresh}
			if err := conn.Gorm.Create(lu).Error; err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.PurgeUpdates(ctx, time.Now().Add(-30*24*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("purged %d (%v), want 1", n, err)
		}
	})
}

// TestQueueRunWhileRunsStart: requests join or queue a layer branch's
// waiting run while a worker keeps starting and ending such runs. On
// PostgreSQL the waiting run an insert conflicted with could start before
// QueueRun read it, and the request failed with "not found" (a replayed
// webhook delivery answered 404 instead of 409). Every request must get a
// waiting run.
func TestQueueRunWhileRunsStart(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		s := store.New(conn.Gorm)
		storetest.Load(t, s)
		var lb store.LayerBranch
		if err := conn.Gorm.Order("id").Take(&lb).Error; err != nil {
			t.Fatal(err)
		}
		u := &store.Update{StartedAt: time.Now()}
		if err := s.CreateUpdate(ctx, u); err != nil {
			t.Fatal(err)
		}
		const requests = 300
		done := make(chan struct{})
		var wg sync.WaitGroup
		var started int
		wg.Add(1)
		go func() { // the worker
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				w, err := s.WaitingRun(ctx, lb.ID)
				if errors.Is(err, store.ErrNotFound) {
					continue
				} else if err != nil {
					t.Error(err)
					return
				}
				run, err := s.StartRun(ctx, w.ID, w.JobID, "")
				if errors.Is(err, store.ErrStale) {
					continue
				} else if err != nil {
					t.Error(err)
					return
				}
				started++
				run.Status = store.UpdateSucceeded
				if err := s.FinishRun(ctx, run); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		for i := 0; i < requests; i++ {
			run, _, err := s.QueueRun(ctx, &store.LayerUpdate{UpdateID: u.ID, LayerID: lb.LayerID, BranchID: lb.BranchID,
				LayerBranchID: &lb.ID, Origin: store.OriginWebhook})
			if err != nil || run.ID == 0 {
				t.Errorf("request %d: %v (run %+v)", i, err, run)
				break
			}
		}
		close(done)
		wg.Wait()
		if t.Failed() {
			return
		}
		if started == 0 {
			t.Fatal("the worker started no run: the requests never raced it")
		}
		t.Logf("%d requests, %d runs started meanwhile", requests, started)
	})
}
