package jobs_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"layerindex/internal/corpus"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/gitrepo"
	"layerindex/internal/ingest"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
)

// TestIngestJobStates: a permanent failure cancels the job (recorded, not
// retried for days); a transient one leaves it retryable; a second request
// for a pending layer branch is not queued twice.
func TestIngestJobStates(t *testing.T) {
	bare := corpus.Bare(t, "openembedded-core")
	unavailable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	defer unavailable.Close()

	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		conn := dbtest.Migrated(t, d)
		st := store.New(conn.Gorm)
		repos := gitrepo.NewCache(t.TempDir(), gitrepo.Policy{AllowLocal: true, AllowHTTP: true,
			Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, gitrepo.DefaultLimits)
		q, err := jobs.New(ctx, conn, jobs.Options{Work: true, PollInterval: 50 * time.Millisecond,
			Indexer: ingest.New(conn.Gorm, repos, nil), Repos: repos})
		if err != nil {
			t.Fatal(err)
		}

		b := &store.Branch{Name: "master", UpdatesEnabled: true}
		st.CreateBranch(ctx, b)
		addLB := func(name, url, actual string) *store.LayerBranch {
			l := &store.Layer{Name: name, Status: store.StatusPublished, LayerType: store.TypeMisc, VCSURL: url}
			if err := st.CreateLayer(ctx, l); err != nil {
				t.Fatal(err)
			}
			lb := &store.LayerBranch{LayerID: l.ID, BranchID: b.ID, VCSSubdir: "meta", ActualBranch: actual, UpdatesEnabled: true}
			if err := st.CreateLayerBranch(ctx, lb); err != nil {
				t.Fatal(err)
			}
			return lb
		}
		missing := addLB("no-branch", bare, "no-such-branch")
		flaky := addLB("flaky", unavailable.URL+"/repo.git", "")

		enqueue := func(lb *store.LayerBranch) *rivertype.JobInsertResult {
			res, err := q.Enqueue(ctx, jobs.UpdateLayerBranchArgs{LayerBranchID: lb.ID}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		j1 := enqueue(missing)
		if again := enqueue(missing); !again.UniqueSkippedAsDuplicate || again.Job.ID != j1.Job.ID {
			t.Errorf("second request for a pending update was queued again")
		}
		j2 := enqueue(flaky)

		events, stop := q.Client().Subscribe(river.EventKindJobCancelled, river.EventKindJobFailed, river.EventKindJobCompleted)
		defer stop()
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer q.Stop(context.Background())
		got := map[int64]*river.Event{}
		for len(got) < 2 {
			select {
			case ev := <-events:
				if ev.Job.ID == j1.Job.ID || ev.Job.ID == j2.Job.ID {
					got[ev.Job.ID] = ev
				}
			case <-ctx.Done():
				t.Fatalf("jobs not worked in time: %v", got)
			}
		}
		if ev := got[j1.Job.ID]; ev.Kind != river.EventKindJobCancelled || ev.Job.State != rivertype.JobStateCancelled {
			t.Errorf("missing branch: job %s (%s), want cancelled", ev.Kind, ev.Job.State)
		}
		// A failed attempt with attempts left is retried: River marks it
		// retryable, or available at once when the backoff is short.
		if ev := got[j2.Job.ID]; ev.Kind != river.EventKindJobFailed || len(ev.Job.Errors) != 1 ||
			(ev.Job.State != rivertype.JobStateRetryable && ev.Job.State != rivertype.JobStateAvailable) {
			t.Errorf("unavailable server: job %s (%s, %d errors), want a failed attempt to be retried", ev.Kind, ev.Job.State, len(ev.Job.Errors))
		}
		var lus []store.LayerUpdate
		conn.Gorm.Order("id").Find(&lus)
		if len(lus) < 2 {
			t.Fatalf("%d layer updates recorded", len(lus))
		}
		for _, lu := range lus {
			if lu.Status != store.UpdateFailed && lu.Status != store.UpdateRunning {
				t.Errorf("layer update %d: %s", lu.ID, lu.Status)
			}
		}
		// Once the job's end is stored (River completes jobs in batches, a
		// moment after the event), a later request is accepted again.
		for {
			j, err := q.Client().JobGet(ctx, j1.Job.ID)
			if err != nil {
				t.Fatal(err)
			}
			if j.State == rivertype.JobStateCancelled {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		// (The periodic refresh may have queued the same update meanwhile:
		// joining that pending job is right; joining the finished one is not.)
		if again := enqueue(missing); again.Job.ID == j1.Job.ID {
			t.Error("a request after the previous run finished was merged into it")
		}
	})
}
