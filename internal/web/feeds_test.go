package web_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"layerindex/internal/catalog"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// TestFeedsAfterIngestion: a real ingestion of a change to a layer (a
// recipe added, one upgraded) shows in the layer branch's feed, the recipe
// name's feed and the new-layers feed; each is valid Atom as RFC 4287
// requires, keeps its entry ids, and answers 304 to a reader that has it.
func TestFeedsAfterIngestion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newAcctEnv(t, d, envOpts{})
		e.layer("meta-feed", store.StatusPublished, "maint@example.org")
		e.index("meta-feed")

		// The layer's repository changes: world is added, hello upgraded.
		e.commit("new world, hello 1.1", map[string]string{
			"meta-test/recipes-example/world/world_2.0.bb": "SUMMARY = \"World\"\nLICENSE = \"MIT\"\n",
			"meta-test/recipes-example/hello/hello_1.1.bb": "SUMMARY = \"Hello world\"\nLICENSE = \"MIT\"\n",
		}, "meta-test/recipes-example/hello/hello_1.0.bb")
		e.index("meta-feed")

		anon := e.client()
		feedPath := "/layerindex/branch/master/layer/meta-feed/feed/"
		r := anon.get(feedPath)
		if r.code != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/atom+xml") {
			t.Fatalf("layer feed: %d %s\n%s", r.code, r.header.Get("Content-Type"), r.body)
		}
		f := parseAtom(t, r.body)
		if len(f.Entries) != 2 {
			t.Fatalf("layer feed entries: %+v", f.Entries)
		}
		newest, first := f.Entries[0], f.Entries[1]
		if newest.Title != "meta-feed (master): 1 added, 1 upgraded" || !strings.Contains(newest.Content, "hello upgraded 1.0 → 1.1") ||
			!strings.Contains(newest.Content, "world 2.0 added") {
			t.Errorf("newest entry: %+v", newest)
		}
		if first.Title != "meta-feed (master): 1 added" || !strings.Contains(first.Content, "hello 1.0 added") {
			t.Errorf("first entry: %+v", first)
		}
		if !strings.Contains(newest.Link, "/layerindex/layerupdate/") {
			t.Errorf("an entry links its update's log: %q", newest.Link)
		}

		// Validators: the same feed is not sent twice.
		etag, lm := r.header.Get("ETag"), r.header.Get("Last-Modified")
		if etag == "" || lm == "" {
			t.Fatalf("validators: ETag %q Last-Modified %q", etag, lm)
		}
		for _, h := range [][2]string{{"If-None-Match", etag}, {"If-Modified-Since", lm}} {
			req, _ := http.NewRequest(http.MethodGet, anon.url(feedPath), nil)
			req.Header.Set(h[0], h[1])
			if r := anon.do(req); r.code != http.StatusNotModified {
				t.Errorf("%s: %d, want 304", h[0], r.code)
			}
		}
		req, _ := http.NewRequest(http.MethodGet, anon.url(feedPath), nil)
		req.Header.Set("If-None-Match", `"other"`)
		if r := anon.do(req); r.code != 200 {
			t.Errorf("a stale ETag: %d, want 200", r.code)
		}

		// A forced re-index that changes nothing adds no entry and keeps the ids.
		if _, err := e.cat.RequestUpdate(context.Background(), catalog.CLI, catalog.UpdateRequest{Layer: "meta-feed", Force: true}); err != nil {
			t.Fatal(err)
		}
		e.waitIdle("meta-feed")
		again := parseAtom(t, anon.get(feedPath).body)
		if len(again.Entries) != 2 || again.Entries[0].ID != newest.ID || again.Entries[1].ID != first.ID {
			t.Errorf("entry ids changed: %v %v → %+v", newest.ID, first.ID, again.Entries)
		}

		// The recipe name's feed, across layers.
		rf := parseAtom(t, anon.get("/layerindex/feeds/recipe/hello/").body)
		if len(rf.Entries) != 2 || rf.Entries[0].Title != "hello upgraded 1.0 → 1.1 in meta-feed (master)" ||
			rf.Entries[1].Title != "hello 1.0 added in meta-feed (master)" {
			t.Errorf("recipe feed: %+v", rf.Entries)
		}
		if !strings.Contains(rf.Entries[0].Link, "/layerindex/recipe/") {
			t.Errorf("a recipe entry links the recipe: %q", rf.Entries[0].Link)
		}

		// Newly published layers.
		lf := parseAtom(t, anon.get("/layerindex/feeds/layers/").body)
		found := false
		for _, en := range lf.Entries {
			found = found || strings.HasPrefix(en.Title, "meta-feed: ")
		}
		if !found {
			t.Errorf("new layers feed: %+v", lf.Entries)
		}

		// Pages link their feeds.
		page := anon.get("/layerindex/branch/master/layer/meta-feed/").body
		for _, want := range []string{`<link rel="alternate" type="application/atom+xml" title="meta-feed on master: recipe changes" href="` + feedPath + `">`,
			`<link rel="alternate" type="application/atom+xml" title="Newly published layers" href="/layerindex/feeds/layers/">`} {
			if !strings.Contains(page, want) {
				t.Errorf("the layer page lacks %s", want)
			}
		}
		var rec store.Recipe
		e.conn.Gorm.Where("pn = ?", "hello").Take(&rec)
		if rp := anon.get("/layerindex/recipe/" + int64s(rec.ID) + "/").body; !strings.Contains(rp, `href="/layerindex/feeds/recipe/hello/"`) {
			t.Error("the recipe page does not link its feed")
		}
	})
}

// atomFeed is what a reader takes from a feed.
type atomFeed struct {
	Title   string
	Entries []atomEntry
}

type atomEntry struct{ ID, Title, Updated, Link, Content string }

// parseAtom checks body against RFC 4287's requirements (§4.1.1 feed,
// §4.1.2 entry, §3.3 dates, §4.2.6 ids) and returns what it holds.
func parseAtom(t *testing.T, body string) atomFeed {
	t.Helper()
	const ns = "http://www.w3.org/2005/Atom"
	type link struct {
		Href string `xml:"href,attr"`
		Rel  string `xml:"rel,attr"`
		Type string `xml:"type,attr"`
	}
	type text struct {
		Type string `xml:"type,attr"`
		Body string `xml:",chardata"`
	}
	type person struct {
		Name []string `xml:"http://www.w3.org/2005/Atom name"`
	}
	type entry struct {
		ID      []string `xml:"http://www.w3.org/2005/Atom id"`
		Title   []text   `xml:"http://www.w3.org/2005/Atom title"`
		Updated []string `xml:"http://www.w3.org/2005/Atom updated"`
		Links   []link   `xml:"http://www.w3.org/2005/Atom link"`
		Content []text   `xml:"http://www.w3.org/2005/Atom content"`
		Summary []text   `xml:"http://www.w3.org/2005/Atom summary"`
		Authors []person `xml:"http://www.w3.org/2005/Atom author"`
	}
	var f struct {
		XMLName xml.Name
		ID      []string `xml:"http://www.w3.org/2005/Atom id"`
		Title   []text   `xml:"http://www.w3.org/2005/Atom title"`
		Updated []string `xml:"http://www.w3.org/2005/Atom updated"`
		Links   []link   `xml:"http://www.w3.org/2005/Atom link"`
		Authors []person `xml:"http://www.w3.org/2005/Atom author"`
		Entries []entry  `xml:"http://www.w3.org/2005/Atom entry"`
	}
	if err := xml.Unmarshal([]byte(body), &f); err != nil {
		t.Fatalf("not XML: %v\n%s", err, body)
	}
	if f.XMLName.Space != ns || f.XMLName.Local != "feed" {
		t.Fatalf("root element %v, want atom:feed", f.XMLName)
	}
	iri := func(what, s string) {
		if u, err := url.Parse(s); err != nil || u.Scheme == "" {
			t.Errorf("%s %q is not an absolute IRI", what, s)
		}
	}
	date := func(what, s string) {
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			t.Errorf("%s %q is not an RFC 3339 date", what, s)
		}
	}
	one := func(what string, n int) bool {
		if n != 1 {
			t.Errorf("%s appears %d times, must be exactly once", what, n)
		}
		return n == 1
	}
	if one("feed id", len(f.ID)) {
		iri("feed id", f.ID[0])
	}
	one("feed title", len(f.Title))
	if one("feed updated", len(f.Updated)) {
		date("feed updated", f.Updated[0])
	}
	alternates := func(what string, ls []link) string {
		href, n := "", 0
		for _, l := range ls {
			iri(what+" link", l.Href)
			if l.Rel == "" || l.Rel == "alternate" {
				href = l.Href
				n++
			}
		}
		if n > 1 {
			t.Errorf("%s has %d alternate links", what, n)
		}
		return href
	}
	alternates("feed", f.Links)
	out := atomFeed{Title: f.Title[0].Body}
	ids := map[string]bool{}
	for i, en := range f.Entries {
		if len(f.Authors) == 0 && len(en.Authors) == 0 {
			t.Errorf("entry %d has no author and neither has the feed", i)
		}
		if !one("entry id", len(en.ID)) || !one("entry title", len(en.Title)) || !one("entry updated", len(en.Updated)) {
			continue
		}
		iri("entry id", en.ID[0])
		date("entry updated", en.Updated[0])
		if ids[en.ID[0]] {
			t.Errorf("entry id %s repeated", en.ID[0])
		}
		ids[en.ID[0]] = true
		href := alternates("entry", en.Links)
		if len(en.Content) == 0 && href == "" {
			t.Errorf("entry %s has neither content nor an alternate link", en.ID[0])
		}
		if len(en.Content) > 1 {
			t.Errorf("entry %s has %d contents", en.ID[0], len(en.Content))
		}
		x := atomEntry{ID: en.ID[0], Title: en.Title[0].Body, Updated: en.Updated[0], Link: href}
		if len(en.Content) == 1 {
			x.Content = en.Content[0].Body
		}
		out.Entries = append(out.Entries, x)
	}
	return out
}

// index queues an update of a layer from the command line and waits for
// every run of it to end, failing the test unless the last succeeded or
// found nothing new.
func (e *acctEnv) index(layer string) {
	e.t.Helper()
	e.indexExpecting(layer, store.UpdateSucceeded, store.UpdateUnchanged)
}

// indexExpecting is index, expecting the runs to end in one of the
// statuses.
func (e *acctEnv) indexExpecting(layer string, statuses ...string) {
	e.t.Helper()
	req, err := e.cat.RequestUpdate(context.Background(), catalog.CLI, catalog.UpdateRequest{Layer: layer})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, q := range req.Runs {
		var run store.LayerUpdate
		waitFor(e.t.(*testing.T), "the update of "+layer, func() bool {
			e.conn.Gorm.Where("id = ?", q.Run.ID).Take(&run)
			return run.Final()
		})
		if !slices.Contains(statuses, run.Status) {
			e.debugJobs()
			e.t.Fatalf("update of %s: %s: %s\n%s", layer, run.Status, run.Reason, run.Log)
		}
		// The health the run left (stale marker, digest, alerts) is
		// stored with its end, never after it.
		var judged *int64
		e.conn.Gorm.Raw(`SELECT last_run_id FROM layer_branch_alerts WHERE layer_branch_id = ?`, *run.LayerBranchID).Scan(&judged)
		if judged == nil || *judged < run.ID {
			e.t.Fatalf("update of %s ended (run %d) before its alert state was stored (last judged run %v)", layer, run.ID, judged)
		}
	}
}

// waitIdle waits until no run of the layer waits or runs.
func (e *acctEnv) waitIdle(layer string) {
	e.t.Helper()
	l := e.layerByName(layer)
	waitFor(e.t.(*testing.T), "the runs of "+layer+" to end", func() bool {
		var n int64
		e.conn.Gorm.Model(&store.LayerUpdate{}).Where("layer_id = ? AND status IN ?", l.ID,
			[]string{store.UpdateQueued, store.UpdateRunning, store.UpdateRetrying}).Count(&n)
		return n == 0
	})
}

// commit writes files into the test repository (and removes others) as a
// new commit.
func (e *acctEnv) commit(msg string, files map[string]string, remove ...string) {
	e.t.Helper()
	for p, c := range files {
		full := filepath.Join(e.repo, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			e.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
	for _, p := range remove {
		if err := os.Remove(filepath.Join(e.repo, p)); err != nil {
			e.t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"add", "-A", "."}, {"commit", "-qm", msg}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = e.repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			e.t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}
