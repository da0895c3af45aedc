package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
)

// browseFixture is the store fixture plus what only the pages need: an
// update run with logs, a partly evaluated recipe with patches.
type browseFixture struct {
	*storetest.Fixture
	conn          *db.DB
	ts            *httptest.Server
	updateID      int64
	layerUpdateID int64
	queries       *atomic.Int64 // SQL statements run, for N+1 checks
}

func loadBrowseFixture(t *testing.T, d db.Dialect) *browseFixture {
	t.Helper()
	conn := dbtest.Migrated(t, d)
	s := store.New(conn.Gorm)
	f := &browseFixture{Fixture: storetest.Load(t, s), conn: conn, queries: &atomic.Int64{}}
	ctx := context.Background()

	lb := f.LayerBranch["meta-raspberrypi/master"]
	r := storetest.Recipe("recipes-kernel/linux", "linux-raspberrypi_6.6.bb", "linux-raspberrypi", "6.6.63+git", "Linux kernel for Raspberry Pi",
		"GPL-2.0-only", []string{"bc-native"}, "git://github.com/raspberrypi/linux.git")
	r.Recipe.Unevaluated = 2
	order := 1
	r.Patches = []store.RecipePatch{{Path: "recipes-kernel/linux/files/0001-fix.patch", SrcPath: "0001-fix.patch", Status: "P", ApplyOrder: &order, Applied: true, Striplevel: 1}}
	if _, err := s.ApplyIndex(ctx, lb.ID, &store.IndexChange{Upserts: []store.RecipeData{r}}); err != nil {
		t.Fatal(err)
	}
	// A second zlib, in a layer of lower preference: a duplicate.
	dup := storetest.Recipe("recipes-python/zlib", "zlib_1.2.bb", "zlib", "1.2", "Old zlib kept for Python", "Zlib", nil)
	dupCh := &store.IndexChange{Upserts: []store.RecipeData{dup}}
	if _, err := s.ApplyIndex(ctx, f.LayerBranch["meta-python/master"].ID, dupCh); err != nil {
		t.Fatal(err)
	}
	f.Recipes["meta-python/master/zlib"] = dupCh.Upserts[0].Recipe.ID
	started := time.Now().Add(-2 * time.Hour).UTC()
	finished := started.Add(95 * time.Second)
	u := &store.Update{StartedAt: started, Log: "INFO: fetching\nWARNING: slow mirror\n"}
	if err := s.CreateUpdate(ctx, u); err != nil {
		t.Fatal(err)
	}
	lu := &store.LayerUpdate{UpdateID: u.ID, LayerID: f.Layers["meta-raspberrypi"].ID, BranchID: f.Branches["master"].ID,
		StartedAt: started, FinishedAt: &finished, Status: store.UpdateSucceeded, VCSBeforeRev: strings.Repeat("a", 40),
		VCSAfterRev: strings.Repeat("b", 40), RecipesChanged: 1, Errors: 1, Warnings: 0,
		Log: "INFO: parsing\nERROR: linux-raspberrypi_6.6.bb: could not evaluate ${@…}\nINFO: done\n"}
	if err := conn.Gorm.Create(lu).Error; err != nil {
		t.Fatal(err)
	}
	// An update of the unpublished layer must not show anywhere.
	hidden := &store.LayerUpdate{UpdateID: u.ID, LayerID: f.Layers["meta-submitted"].ID, BranchID: f.Branches["master"].ID,
		StartedAt: started, Status: store.UpdateFailed, Log: "secret"}
	if err := conn.Gorm.Create(hidden).Error; err != nil {
		t.Fatal(err)
	}
	f.updateID, f.layerUpdateID = u.ID, lu.ID
	// A published layer that no update has indexed yet.
	fresh := &store.Layer{Name: "meta-fresh", Status: store.StatusPublished, LayerType: store.TypeMisc, Summary: "Just published",
		VCSURL: "https://example.org/meta-fresh.git"}
	if err := s.CreateLayer(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLayerBranch(ctx, &store.LayerBranch{LayerID: fresh.ID, BranchID: f.Branches["master"].ID}); err != nil {
		t.Fatal(err)
	}

	count := func(*gorm.DB) { f.queries.Add(1) }
	cb := conn.Gorm.Callback()
	cb.Query().After("gorm:query").Register("test:count_query", count)
	cb.Row().After("gorm:row").Register("test:count_row", count)
	cb.Raw().After("gorm:raw").Register("test:count_raw", count)

	f.ts = newServer(t, conn)
	return f
}

// get fetches a path without following redirects.
func get(t *testing.T, base, path string) (int, string, http.Header) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestBrowsePages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		f := loadBrowseFixture(t, d)
		busybox := f.Recipes["openembedded-core/master/busybox"]
		glib := f.Recipes["openembedded-core/master/glib-2.0"]
		kernel := f.Recipes["meta-raspberrypi/master/linux-raspberrypi"]
		cases := []struct {
			path   string
			status int
			want   []string
			not    []string
		}{
			{"/layerindex/branch/master/layers/", 200,
				[]string{"openembedded-core", "meta-raspberrypi", "meta-python", "5 published layers", "not indexed yet", "Machine (BSP)", "https://github.com/agherzan/meta-raspberrypi/tree/master/"},
				[]string{"meta-submitted"}},
			{"/layerindex/branch/scarthgap/layers/", 200, []string{"openembedded-core", "meta-oe"}, []string{"meta-raspberrypi", "meta-submitted"}},
			{"/layerindex/branch/master/layers/?type=B", 200, []string{"meta-raspberrypi"}, []string{">meta-python<", ">openembedded-core<"}},
			{"/layerindex/branch/master/layers/?q=python", 200, []string{">meta-python<"}, []string{">meta-raspberrypi<"}},
			{"/layerindex/branch/master/layers/?q=zzzz", 200, []string{"No layer matches"}, nil},
			{"/layerindex/branch/master/layers/?sort=-name", 200, []string{`aria-sort="descending"`}, nil},
			{"/layerindex/branch/nowhere/layers/", 404, []string{"There is no release branch named"}, nil},

			{"/layerindex/branch/master/layer/meta-raspberrypi/", 200,
				[]string{"Raspberry Pi BSP", "Use the kirkstone branch for the Pi 1.", "Maintainer of meta-raspberrypi", "linux-raspberrypi",
					`href="/layerindex/branch/master/layer/openembedded-core/"`, "Recommends", "meta-python", "partly evaluated",
					"https://github.com/agherzan/meta-raspberrypi/commit/"},
				[]string{"Former Maintainer"}},
			{"/layerindex/branch/master/layer/meta-raspberrypi/?tab=machines", 200,
				[]string{"raspberrypi5", "RaspberryPi 5 Development Board", "https://github.com/agherzan/meta-raspberrypi/blob/master/conf/machine/raspberrypi5.conf"}, nil},
			{"/layerindex/branch/master/layer/meta-raspberrypi/?tab=classes", 200, []string{"sdcard_image-rpi"}, nil},
			{"/layerindex/branch/master/layer/meta-raspberrypi/?tab=appends", 200, []string{"busybox_%.bbappend"}, nil},
			{"/layerindex/branch/master/layer/meta-raspberrypi/?tab=updates", 200, []string{"succeeded", fmt.Sprintf("/layerindex/layerupdate/%d/", f.layerUpdateID)}, nil},
			{"/layerindex/branch/master/layer/openembedded-core/?tab=distros", 200, []string{"defaultsetup"}, nil},
			{"/layerindex/branch/master/layer/openembedded-core/?q=zlib", 200, []string{">zlib<"}, []string{">busybox<"}},
			{"/layerindex/branch/master/layer/openembedded-core/?tab=bogus", 200, []string{">busybox<"}, nil},
			{"/layerindex/branch/scarthgap/layer/meta-raspberrypi/", 404, []string{"not on scarthgap", `href="/layerindex/branch/master/layer/meta-raspberrypi/"`}, nil},
			{"/layerindex/branch/master/layer/meta-fresh/", 200, []string{"Not indexed yet"}, nil},
			{"/layerindex/branch/master/layer/meta-submitted/", 404, nil, []string{"Awaiting review"}},
			{"/layerindex/branch/master/layer/meta-nowhere/", 404, []string{"no published layer named"}, nil},

			{"/layerindex/branch/master/recipes/?q=glib", 200, []string{"glib-2.0", "glibmm", "2 recipes found"}, nil},
			{"/layerindex/branch/master/recipes/?q=library&sort=layer", 200, []string{"glibmm", "sort by relevance"}, nil},
			{"/layerindex/branch/master/recipes/", 200, []string{"All recipes on master", "core-image-minimal", `title="Builds an image"`}, nil},
			{"/layerindex/branch/master/recipes/?q=%22unclosed", 400, []string{"unclosed quote", `value="&#34;unclosed"`}, nil},
			{"/layerindex/branch/master/recipes/?q=layer:meta-nowhere", 200, []string{"No layer &#34;meta-nowhere&#34; was found"}, nil},
			{"/layerindex/branch/master/recipes/?q=nothing-at-all", 200, []string{"No recipe matches"}, nil},

			{fmt.Sprintf("/layerindex/recipe/%d/", busybox), 200,
				[]string{"busybox", "1.38.0", "GPL-2.0-only &amp; bzip2-1.0.4", "https://busybox.net/downloads/busybox-1.38.0.tar.bz2",
					"kernel-headers", "virtual/crypt", "no provider found", "meta-oe", "meta-raspberrypi", "busybox_%.bbappend", "1.36.1", "scarthgap",
					"https://git.openembedded.org/openembedded-core/tree/meta/recipes-core/busybox/busybox_1.38.0.bb?h=master",
					"recipes-core/busybox/busybox.inc", "inherits%3Aautotools"}, nil},
			{fmt.Sprintf("/layerindex/recipe/%d/", glib), 200,
				[]string{"zlib", fmt.Sprintf(`href="/layerindex/recipe/%d/"`, f.Recipes["openembedded-core/master/zlib"]), "PACKAGECONFIG", "openssl"}, nil},
			{fmt.Sprintf("/layerindex/recipe/%d/", kernel), 200,
				[]string{"Partly evaluated", "2 inline Python expressions", "0001-fix.patch", "Pending", "https://github.com/raspberrypi/linux"}, nil},
			{"/layerindex/recipe/999999/", 404, []string{"There is no recipe"}, nil},

			{"/layerindex/branch/master/machines/", 200, []string{"qemux86", "raspberrypi5", "All 4 machines"}, nil},
			{"/layerindex/branch/master/machines/?q=raspberrypi+64bit", 200, []string{"raspberrypi4-64"}, []string{"raspberrypi5"}},
			{"/layerindex/branch/master/distros/?q=default", 200, []string{"defaultsetup"}, nil},
			{"/layerindex/branch/master/classes/?q=image", 200, []string{"image", "sdcard_image-rpi", "recipes using it"}, []string{">autotools<"}},
			{"/layerindex/branch/master/duplicates/", 200, []string{"1 duplicated name", "<code>zlib</code>",
				fmt.Sprintf(`<li class="muted" title="A layer with a higher preference has it too">
      <a href="/layerindex/recipe/%d/">zlib 1.2</a>`, f.Recipes["meta-python/master/zlib"]),
				fmt.Sprintf(`<a href="/layerindex/recipe/%d/">zlib 1.3.1</a>`, f.Recipes["openembedded-core/master/zlib"])}, nil},
			{fmt.Sprintf("/layerindex/branch/master/duplicates/?l=%d", f.Layers["meta-oe"].ID), 200, []string{"No duplicated recipes among these layers"}, nil},
			{"/layerindex/branch/master/duplicates/?show=classes", 200, []string{"No duplicated classes"}, nil},
			{"/layerindex/stats/", 200, []string{"distinct recipes", "scarthgap", "master"}, nil},
			{"/layerindex/updates/", 200, []string{"succeeded", fmt.Sprintf("/layerindex/updates/%d/", f.updateID), "1m35s"}, nil},
			{fmt.Sprintf("/layerindex/updates/%d/", f.updateID), 200, []string{"meta-raspberrypi", "slow mirror", "log-warning"}, []string{"meta-submitted"}},
			{fmt.Sprintf("/layerindex/layerupdate/%d/", f.layerUpdateID), 200,
				[]string{"could not evaluate", "log-error", "https://github.com/agherzan/meta-raspberrypi/commit/bbbbbbbbbbbb"}, nil},
			{fmt.Sprintf("/layerindex/layerupdate/%d/", f.layerUpdateID+1), 404, nil, []string{"secret"}},
		}
		for _, c := range cases {
			code, body, hdr := get(t, f.ts.URL, c.path)
			if code != c.status {
				t.Errorf("%s: status %d, want %d", c.path, code, c.status)
			}
			if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("%s: content type %q", c.path, ct)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s: missing %q", c.path, w)
				}
			}
			for _, w := range c.not {
				if strings.Contains(body, w) {
					t.Errorf("%s: should not contain %q", c.path, w)
				}
			}
		}
	})
}

func TestRedirects(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		f := loadBrowseFixture(t, d)
		cases := []struct{ path, to string }{
			{"/layerindex/", "/layerindex/branch/master/layers/"},
			{"/layerindex/layers/", "/layerindex/branch/master/layers/"},
			{"/layerindex/layer/meta-oe/", "/layerindex/branch/master/layer/meta-oe/"},
			{"/layerindex/recipes/?q=busybox", "/layerindex/branch/master/recipes/?q=busybox"},
			{"/layerindex/machines/", "/layerindex/branch/master/machines/"},
			{"/layerindex/distros/", "/layerindex/branch/master/distros/"},
			{"/layerindex/classes/", "/layerindex/branch/master/classes/"},
			{"/layerindex/branch/scarthgap/", "/layerindex/branch/scarthgap/layers/"},
			{"/layerindex/branch/master/recipes/?q=pn:busybox", fmt.Sprintf("/layerindex/recipe/%d/", f.Recipes["openembedded-core/master/busybox"])},
			{"/layerindex/branch/scarthgap/recipes/?q=busybox", fmt.Sprintf("/layerindex/recipe/%d/", f.Recipes["openembedded-core/scarthgap/busybox"])},
		}
		for _, c := range cases {
			code, _, hdr := get(t, f.ts.URL, c.path)
			if code != http.StatusFound || hdr.Get("Location") != c.to {
				t.Errorf("%s: %d → %q, want 302 → %q", c.path, code, hdr.Get("Location"), c.to)
			}
		}
		code, _, hdr := get(t, f.ts.URL, "/layerindex/branch/master/layers?q=x")
		if code != http.StatusMovedPermanently || hdr.Get("Location") != "/layerindex/branch/master/layers/?q=x" {
			t.Errorf("missing slash: %d %q", code, hdr.Get("Location"))
		}
	})
}

func TestReleaseSelectorKeepsThePage(t *testing.T) {
	f := loadBrowseFixture(t, db.SQLite)
	_, body, _ := get(t, f.ts.URL, "/layerindex/branch/master/machines/?q=qemu&page=1")
	if !strings.Contains(body, `href="/layerindex/branch/scarthgap/machines/?q=qemu"`) {
		t.Errorf("release selector does not keep the page:\n%s", body)
	}
	_, body, _ = get(t, f.ts.URL, fmt.Sprintf("/layerindex/recipe/%d/", f.Recipes["openembedded-core/master/busybox"]))
	if !strings.Contains(body, `href="/layerindex/branch/scarthgap/recipes/?q=pn%3Abusybox&#43;layer%3Aopenembedded-core"`) {
		t.Errorf("release selector on a recipe does not lead to the recipe on the other branch")
	}
	_, body, _ = get(t, f.ts.URL, "/layerindex/branch/scarthgap/recipes/?q=pn%3Abusybox+layer%3Aopenembedded-core")
	_ = body
}

func TestLayerRecipesCSV(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		f := loadBrowseFixture(t, d)
		code, body, hdr := get(t, f.ts.URL, "/layerindex/branch/master/layer/openembedded-core/recipes/csv/")
		if code != 200 || hdr.Get("Content-Type") != "text/csv; charset=utf-8" ||
			hdr.Get("Content-Disposition") != `attachment; filename="recipes_openembedded-core_master.csv"` {
			t.Fatalf("csv: %d %v", code, hdr)
		}
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(rows) != 4 || strings.Join(rows[0], ",") != "busybox,1.38.0,GPL-2.0-only & bzip2-1.0.4" {
			t.Errorf("csv rows: %v %v", rows, err)
		}
		_, body, _ = get(t, f.ts.URL, "/layerindex/branch/master/layer/openembedded-core/recipes/csv/?fields=pn,homepage,id")
		if !strings.HasPrefix(body, fmt.Sprintf("busybox,https://example.org/busybox,%d\n", f.Recipes["openembedded-core/master/busybox"])) {
			t.Errorf("csv with fields: %q", body)
		}
		for _, bad := range []string{"?fields=password", "?fields=pn,,pv", "?fields=" + strings.Repeat("pn,", 100)} {
			if code, _, _ := get(t, f.ts.URL, "/layerindex/branch/master/layer/openembedded-core/recipes/csv/"+bad); code != 400 {
				t.Errorf("csv %s: %d, want 400", bad, code)
			}
		}
		if code, _, _ := get(t, f.ts.URL, "/layerindex/branch/scarthgap/layer/meta-raspberrypi/recipes/csv/"); code != 404 {
			t.Errorf("csv of a layer not on the branch: %d", code)
		}
	})
}

// TestQueriesPerPage counts the SQL statements each page runs, so a list
// that queries once per row (N+1) fails here: the same pages must cost the
// same number of queries however many rows they show.
func TestQueriesPerPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		f := loadBrowseFixture(t, d)
		pages := map[string]string{
			"layer list":   "/layerindex/branch/master/layers/",
			"layer detail": "/layerindex/branch/master/layer/openembedded-core/",
			"layer tab":    "/layerindex/branch/master/layer/openembedded-core/?tab=machines",
			"search":       "/layerindex/branch/master/recipes/?q=library",
			"search all":   "/layerindex/branch/master/recipes/",
			"recipe":       fmt.Sprintf("/layerindex/recipe/%d/", f.Recipes["openembedded-core/master/glib-2.0"]),
			"machines":     "/layerindex/branch/master/machines/",
			"duplicates":   "/layerindex/branch/master/duplicates/",
			"updates":      "/layerindex/updates/",
			"update":       fmt.Sprintf("/layerindex/updates/%d/", f.updateID),
		}
		// The layer page also reads its newest run; the updates list the
		// layers of each request; the recipe page the other distributions'
		// packages it covers.
		limits := map[string]int64{"layer list": 2, "layer detail": 10, "layer tab": 10, "search": 2, "search all": 2,
			"recipe": 6, "machines": 2, "duplicates": 5, "updates": 4, "update": 3}
		measure := func() map[string]int64 {
			out := map[string]int64{}
			for name, p := range pages {
				// What pages derive from the whole index (branches, a
				// branch's providers) is read once per index version, by
				// the first page that needs it: count a page's own queries.
				get(t, f.ts.URL, p)
				// A search also starts building the branch's in-memory
				// index in the background: let its queries pass.
				for last, still := f.queries.Load(), 0; still < 10; still++ {
					time.Sleep(50 * time.Millisecond)
					if n := f.queries.Load(); n != last {
						last, still = n, 0
					}
				}
				before := f.queries.Load()
				if code, _, _ := get(t, f.ts.URL, p); code != 200 {
					t.Fatalf("%s: %d", p, code)
				}
				out[name] = f.queries.Load() - before
			}
			return out
		}
		small := measure()
		for name, n := range small {
			if n > limits[name] {
				t.Errorf("%s runs %d queries, at most %d expected", name, n, limits[name])
			}
		}
		// Grow every list the pages show and measure again.
		ctx := context.Background()
		s := store.New(f.conn.Gorm)
		lb := f.LayerBranch["openembedded-core/master"]
		ch := &store.IndexChange{}
		for i := range 30 {
			pn := fmt.Sprintf("extra%02d", i)
			ch.Upserts = append(ch.Upserts, storetest.Recipe("recipes-extra", pn+"_1.0.bb", pn, "1.0", "An extra library", "MIT",
				[]string{"zlib", "glib-2.0", fmt.Sprintf("dep%d", i)}, "https://example.org/"+pn+".tar.gz"))
			ch.Machines = append(ch.Machines, store.Machine{Name: fmt.Sprintf("machine%02d", i)})
		}
		if _, err := s.ApplyIndex(ctx, lb.ID, ch); err != nil {
			t.Fatal(err)
		}
		glib := storetest.Recipe("recipes-core/glib-2.0", "glib-2.0_2.86.0.bb", "glib-2.0", "2.86.0", "A general-purpose utility library",
			"LGPL-2.1-or-later", []string{"zlib", "libffi", "virtual/libiconv", "extra01", "extra02", "extra03", "extra04"},
			"https://download.gnome.org/sources/glib/2.86/glib-2.86.0.tar.xz", "https://example.org/second.tar.gz")
		if _, err := s.ApplyIndex(ctx, lb.ID, &store.IndexChange{Upserts: []store.RecipeData{glib}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetMaintainers(ctx, lb.ID, []store.LayerMaintainer{{Name: "A", Email: "a@x"}, {Name: "B", Email: "b@x"}, {Name: "C", Email: "c@x"}}); err != nil {
			t.Fatal(err)
		}
		big := measure()
		for name := range pages {
			if big[name] != small[name] {
				t.Errorf("%s: %d queries with more rows, %d before (a query per row?)", name, big[name], small[name])
			}
		}
		t.Logf("queries per page: %v", big)
	})
}

// TestJunkParameters throws junk at every parameter of every page: the
// answer is a page or a 4xx with a message, never a server error.
func TestJunkParameters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		f := loadBrowseFixture(t, d)
		junk := []string{"", "'", `"`, `'"`, "%", "_", `\`, "\x00", "%00", "-1", "0", "1e9", "99999999999999999999", "9223372036854775808",
			"NaN", "a:b", "pn:", "layer:", "depends:'", "<script>alert(1)</script>", "' OR 1=1 --", "..", "../../etc/passwd",
			strings.Repeat("x", 300), strings.Repeat("é", 200), "\u202e", "%ff%fe", "[]", "{}", "ü:ä", "*", "pn:*", "type=B&type=B",
			"\"\"\"", "layer:oe-core layer:meta-oe", strings.Repeat("a ", 40)}
		pages := []struct {
			path   string
			params []string
		}{
			{"/layerindex/branch/master/layers/", []string{"q", "type", "sort", "page"}},
			{"/layerindex/branch/master/layer/openembedded-core/", []string{"tab", "q", "sort", "page"}},
			{"/layerindex/branch/master/layer/openembedded-core/recipes/csv/", []string{"fields"}},
			{"/layerindex/branch/master/recipes/", []string{"q", "sort", "page"}},
			{"/layerindex/branch/master/machines/", []string{"q", "sort", "page"}},
			{"/layerindex/branch/master/distros/", []string{"q", "sort", "page"}},
			{"/layerindex/branch/master/classes/", []string{"q", "sort", "page"}},
			{"/layerindex/branch/master/duplicates/", []string{"show", "l", "page"}},
			{"/layerindex/updates/", []string{"page"}},
			{"/layerindex/stats/", []string{"x"}},
		}
		check := func(p string) {
			t.Helper()
			code, body, _ := get(t, f.ts.URL, p)
			if code >= 500 || code < 200 {
				t.Errorf("%s: status %d", p, code)
			}
			if code >= 400 && !strings.Contains(body, "<h1>") && !strings.Contains(body, "alert") {
				t.Errorf("%s: %d without a message", p, code)
			}
			if strings.Contains(body, "<script>alert(1)</script>") {
				t.Errorf("%s: reflected unescaped input", p)
			}
		}
		for _, pg := range pages {
			for _, param := range pg.params {
				for _, j := range junk {
					check(pg.path + "?" + param + "=" + url.QueryEscape(j))
				}
			}
		}
		// Junk in path parameters.
		for _, j := range junk {
			if j == "" {
				continue
			}
			e := url.PathEscape(j)
			for _, p := range []string{"/layerindex/branch/" + e + "/layers/", "/layerindex/branch/master/layer/" + e + "/",
				"/layerindex/recipe/" + e + "/", "/layerindex/updates/" + e + "/", "/layerindex/layerupdate/" + e + "/",
				"/layerindex/layer/" + e + "/", "/layerindex/branch/" + e + "/recipes/?q=x"} {
				check(p)
			}
		}
		if code, _, _ := get(t, f.ts.URL, "/layerindex/branch/master/recipes/?page=2"); code != 404 {
			t.Errorf("page past the end: %d, want 404", code)
		}
		if code, _, _ := get(t, f.ts.URL, "/layerindex/branch/master/recipes/?page=abc"); code != 400 {
			t.Errorf("non-numeric page: %d, want 400", code)
		}
	})
}

func TestHead(t *testing.T) {
	f := loadBrowseFixture(t, db.SQLite)
	for path, want := range map[string]int{"/": 200, "/layerindex/branch/master/layers/": 200,
		"/layerindex/branch/nowhere/layers/": 404, "/layerindex/": 302} {
		req, _ := http.NewRequest(http.MethodHead, f.ts.URL+path, nil)
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || len(b) != 0 {
			t.Errorf("HEAD %s: %d with %d bytes, want %d and no body", path, resp.StatusCode, len(b), want)
		}
	}
}
