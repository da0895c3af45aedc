package store_test

import (
	"context"
	"errors"
	"reflect"
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

// TestLastRunsScansEveryColumn: the layer page's last run is scanned by
// position; every column must land in its field, as GORM reads it, and only
// each layer branch's newest run is returned.
func TestLastRunsScansEveryColumn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		s := store.New(conn.Gorm)
		storetest.Load(t, s)
		var lbs []store.LayerBranch
		if err := conn.Gorm.Order("id").Limit(3).Find(&lbs).Error; err != nil || len(lbs) < 3 {
			t.Fatalf("layer branches: %d %v", len(lbs), err)
		}
		user := &store.User{Email: "runner@example.org", IsActive: true}
		if err := s.CreateUser(ctx, user); err != nil {
			t.Fatal(err)
		}
		u := &store.Update{StartedAt: time.Now()}
		if err := s.CreateUpdate(ctx, u); err != nil {
			t.Fatal(err)
		}
		started := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
		finished, next := started.Add(90*time.Second), started.Add(time.Hour)
		var newest []int64
		for i, lb := range lbs[:2] {
			for j := range 2 {
				lu := &store.LayerUpdate{UpdateID: u.ID, LayerID: lb.LayerID, BranchID: lb.BranchID, LayerBranchID: &lb.ID,
					StartedAt: started.Add(time.Duration(j) * time.Minute), Status: store.UpdateQueued, Origin: store.OriginRefresh,
					VCSBeforeRev: "before", RecipesAdded: 1 + i, RecipesChanged: 2, RecipesRemoved: 3, Errors: 4, Warnings: 5,
					Attempt: 1, MaxAttempts: 7, Reason: "why", Log: "the log is not read"}
				if j == 0 { // only one run of a layer branch may wait
					lu.Status, lu.FinishedAt = store.UpdateSucceeded, &finished
				}
				if j == 1 && i == 0 {
					lu.Status, lu.FinishedAt, lu.VCSAfterRev, lu.TriggeredByID, lu.Force, lu.NextAttemptAt =
						store.UpdateFailed, &finished, "after", &user.ID, true, &next
				}
				if err := conn.Gorm.Create(lu).Error; err != nil {
					t.Fatal(err)
				}
				if j == 1 {
					newest = append(newest, lu.ID)
				}
			}
		}
		got, err := s.LastRuns(ctx, []int64{lbs[0].ID, lbs[1].ID, lbs[2].ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("got runs of %d layer branches, want 2: %+v", len(got), got)
		}
		for i, id := range newest {
			var want store.LayerUpdate
			if err := conn.Gorm.Take(&want, id).Error; err != nil {
				t.Fatal(err)
			}
			want.Log, want.RequestedAt = "", nil
			g := got[lbs[i].ID]
			if !g.StartedAt.Equal(want.StartedAt) || (g.FinishedAt == nil) != (want.FinishedAt == nil) ||
				(g.FinishedAt != nil && !g.FinishedAt.Equal(*want.FinishedAt)) ||
				(g.NextAttemptAt == nil) != (want.NextAttemptAt == nil) ||
				(g.NextAttemptAt != nil && !g.NextAttemptAt.Equal(*want.NextAttemptAt)) {
				t.Errorf("layer branch %d: times %v %v %v, want %v %v %v", lbs[i].ID, g.StartedAt, g.FinishedAt, g.NextAttemptAt,
					want.StartedAt, want.FinishedAt, want.NextAttemptAt)
			}
			g.StartedAt, g.FinishedAt, g.NextAttemptAt = want.StartedAt, want.FinishedAt, want.NextAttemptAt
			if !reflect.DeepEqual(g, want) {
				t.Errorf("layer branch %d:\n got  %+v\n want %+v", lbs[i].ID, g, want)
			}
		}
		if r := got[lbs[0].ID]; r.TriggeredByID == nil || *r.TriggeredByID != user.ID || !r.Force || r.Status != store.UpdateFailed {
			t.Errorf("newest run of the first layer branch: %+v", r)
		}
	})
}
