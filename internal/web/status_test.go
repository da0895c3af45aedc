package web_test

import (
	"context"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"layerindex/internal/catalog"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/prereq"
	"layerindex/internal/store"
)

// gatedGitServer serves a bare clone of dir over smart HTTP, as
// httpGitServer does, but holds every request until open is called: an
// update fetching from it stays running for as long as a test needs.
func gatedGitServer(t testing.TB, dir string) (url string, open func()) {
	t.Helper()
	backend := prereq.File(t, "/usr/lib/git-core/git-http-backend", "Debian's git package")
	root := t.TempDir()
	if out, err := exec.Command("git", "clone", "-q", "--bare", dir, filepath.Join(root, "meta-test.git")).CombinedOutput(); err != nil {
		t.Fatalf("git clone --bare: %v\n%s", err, out)
	}
	gate := make(chan struct{})
	var once sync.Once
	open = func() { once.Do(func() { close(gate) }) }
	h := &cgi.Handler{Path: backend, Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(open) // runs first: nothing stays blocked
	return srv.URL + "/meta-test.git", open
}

// statusScene is a site in the middle of indexing: meta-broken's last
// update failed, meta-status's update is running (held in its fetch, its
// first log lines saved), and meta-wait's is queued behind it (one
// ingestion at a time). open lets meta-status's update go on.
type statusScene struct {
	e    *acctEnv
	open func()
	run  store.LayerUpdate // meta-status's run
}

func newStatusScene(t *testing.T, d db.Dialect) *statusScene {
	e := newAcctEnv(t, d, envOpts{timing: catalog.Timing{Progress: 50 * time.Millisecond}, noStartRefresh: true})
	broken := e.layer("meta-broken", store.StatusPublished)
	if err := e.conn.Gorm.Model(&store.LayerBranch{}).Where("layer_id = ?", broken.ID).Update("vcs_subdir", "meta-missing").Error; err != nil {
		t.Fatal(err)
	}
	e.indexExpecting("meta-broken", store.UpdateFailed)

	url, open := gatedGitServer(t, e.repo)
	l := e.layer("meta-status", store.StatusPublished)
	if err := e.conn.Gorm.Model(&store.Layer{}).Where("id = ?", l.ID).Update("vcs_url", url).Error; err != nil {
		t.Fatal(err)
	}
	e.layer("meta-wait", store.StatusPublished)
	ctx := context.Background()
	req, err := e.cat.RequestUpdate(ctx, catalog.CLI, catalog.UpdateRequest{Layer: "meta-status"})
	if err != nil || len(req.Runs) != 1 {
		t.Fatalf("update of meta-status: %v %+v", err, req)
	}
	s := &statusScene{e: e, open: open}
	deadline := time.Now().Add(30 * time.Second)
	for {
		e.conn.Gorm.Where("id = ?", req.Runs[0].Run.ID).Take(&s.run)
		if s.run.Status == store.UpdateRunning && strings.Contains(s.run.Log, "updating layer meta-status on branch master") {
			break
		}
		if time.Now().After(deadline) {
			e.debugJobs()
			var runs []store.LayerUpdate
			e.conn.Gorm.Order("id").Find(&runs)
			for _, r := range runs {
				t.Logf("run %d layer %d: %s attempt %d job %v: %s\n%s", r.ID, r.LayerID, r.Status, r.Attempt, r.JobID, r.Reason, r.Log)
			}
			t.Fatal("timed out waiting for meta-status's run to save its first log lines")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := e.cat.RequestUpdate(ctx, catalog.CLI, catalog.UpdateRequest{Layer: "meta-wait"}); err != nil {
		t.Fatal(err)
	}
	return s
}

// section is the HTML of the status page's section headed title.
func statusSection(t *testing.T, body, title string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<h2>` + title + ` <span class="n">\d+</span></h2>(.*?)(?:<h2>|</main>)`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %q section in the status page", title)
	}
	return m[1]
}

// TestIndexingStatus: the public status page shows what the update runs
// are, with real ingestion on both databases — the running update with
// its log so far, the one queued behind it, and the layer whose last
// update failed with its reason — and, once the running update is let go,
// that it ended; the layer pages and the navigation link it.
func TestIndexingStatus(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		s := newStatusScene(t, d)
		e := s.e
		c := e.client()
		r := c.get("/layerindex/status/")
		if r.code != http.StatusOK {
			t.Fatalf("status page: %d", r.code)
		}
		if cc := r.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
		running := statusSection(t, r.body, "Running")
		if !strings.Contains(running, ">meta-status</a> on master") || !strings.Contains(running, "updating layer meta-status on branch master") ||
			!strings.Contains(running, `/layerindex/layerupdate/`+int64s(s.run.ID)+`/`) {
			t.Errorf("the running update and its log so far are not shown:\n%s", running)
		}
		waiting := statusSection(t, r.body, "Waiting")
		if !strings.Contains(waiting, ">meta-wait</a>") || !strings.Contains(waiting, "queued") || strings.Contains(waiting, "meta-status") {
			t.Errorf("waiting section:\n%s", waiting)
		}
		failing := statusSection(t, r.body, "Failing")
		if !strings.Contains(failing, ">meta-broken</a>") || !strings.Contains(failing, "subdirectory not found") ||
			strings.Contains(failing, "meta-status") || strings.Contains(failing, "meta-wait") {
			t.Errorf("failing section:\n%s", failing)
		}
		// The run's own page shows the same log so far.
		if r := c.get("/layerindex/layerupdate/" + int64s(s.run.ID) + "/"); !strings.Contains(r.body, "updating layer meta-status on branch master") {
			t.Errorf("the running update's log page lacks its log so far")
		}
		// Linked from the navigation and the layer page.
		if !strings.Contains(r.body, `href="/layerindex/status/" aria-current="page"`) {
			t.Error("the navigation does not link the status page")
		}
		if r := c.get("/layerindex/branch/master/layer/meta-status/"); !strings.Contains(r.body, `<a href="/layerindex/status/">follow it live</a>`) {
			t.Errorf("the layer page of a layer being updated does not link the status page: %d", r.code)
		}

		// Let it go: it ends, and the page says so.
		s.open()
		e.waitIdle("meta-status")
		e.waitIdle("meta-wait")
		r = c.get("/layerindex/status/")
		if !strings.Contains(statusSection(t, r.body, "Running"), "No update is running.") ||
			!strings.Contains(statusSection(t, r.body, "Waiting"), "No update is waiting.") {
			t.Errorf("ended updates still shown as running or waiting:\n%s", r.body)
		}
		failing = statusSection(t, r.body, "Failing")
		if !strings.Contains(failing, "meta-broken") || strings.Contains(failing, "meta-status") || strings.Contains(failing, "meta-wait") {
			t.Errorf("failing section after the updates:\n%s", failing)
		}
		// A fixed layer leaves the failing list.
		if err := e.conn.Gorm.Model(&store.LayerBranch{}).Where("layer_id = ?", e.layerByName("meta-broken").ID).Update("vcs_subdir", "meta-test").Error; err != nil {
			t.Fatal(err)
		}
		e.index("meta-broken")
		if r := c.get("/layerindex/status/"); !strings.Contains(statusSection(t, r.body, "Failing"), "No layer's last update failed.") {
			t.Errorf("a layer whose update works again is still failing:\n%s", r.body)
		}
	})
}
