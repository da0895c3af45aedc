package web_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"layerindex/internal/bitbake"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// TestParityOnCorpus checks issue 17's pages on the real oe-core, indexed
// on master and scarthgap, on both databases.
func TestParityOnCorpus(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		s := newCorpusSite(t, d)
		t.Run("BranchComparison", func(t *testing.T) { testBranchComparison(t, s) })
		t.Run("RecipeDeps", func(t *testing.T) { testRecipeDeps(t, s) })
		t.Run("BulkChange", func(t *testing.T) { testBulkChange(t, s) })
	})
}

// mapName is upstream's name mapping, written out again for the test.
func mapName(pn, pv string) string {
	if strings.HasPrefix(pn, "gcc-source-") {
		return strings.Replace(pn, "-"+pv, "", 1)
	}
	for _, suf := range []string{"-i586", "-i686", "-x86_64-oesdk-linux"} {
		if strings.HasSuffix(pn, suf) {
			return strings.TrimSuffix(pn, suf)
		}
	}
	return pn
}

// testBranchComparison computes the added, changed and removed recipes of
// oe-core from scarthgap to master from the database on its own, and checks
// the page, the plain text, the CSV and the JSON against it.
func testBranchComparison(t *testing.T, s *corpusSite) {
	versions := func(lbID int64) map[string][]string {
		var rows []struct{ PN, PV, SrcRev string }
		if err := s.conn.Gorm.Raw("SELECT pn, pv, srcrev AS src_rev FROM recipes WHERE layer_branch_id = ?", lbID).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, r := range rows {
			n := mapName(r.PN, r.PV)
			out[n] = append(out[n], r.PV+"\x00"+r.SrcRev)
		}
		return out
	}
	from, to := versions(s.coreLB["scarthgap"].ID), versions(s.coreLB["master"].ID)
	sameSet := func(a, b []string) bool {
		if len(a) != len(b) {
			return false
		}
		count := map[string]int{}
		for _, x := range a {
			count[x]++
		}
		for _, x := range b {
			count[x]--
		}
		for _, n := range count {
			if n != 0 {
				return false
			}
		}
		return true
	}
	var added, changed, removed int
	for n, v := range to {
		if _, ok := from[n]; !ok {
			added++
		} else if !sameSet(from[n], v) {
			changed++
		}
	}
	for n := range from {
		if _, ok := to[n]; !ok {
			removed++
		}
	}
	if added == 0 || changed == 0 || removed == 0 {
		t.Fatalf("the corpus should show every kind of change: %d added, %d changed, %d removed", added, changed, removed)
	}
	t.Logf("scarthgap → master: %d added, %d changed, %d removed", added, changed, removed)

	c := s.client()
	q := fmt.Sprintf("from_branch=%d&to_branch=%d", s.scarthgap.ID, s.master.ID)
	// The default is the core layer.
	r := c.get("/layerindex/branch_comparison/?" + q)
	if r.code != 200 {
		t.Fatalf("page: %d %s", r.code, r.body)
	}
	want := fmt.Sprintf("%d added, %d changed, %d removed", added, changed, removed)
	if !strings.Contains(r.body, want) {
		t.Errorf("page lacks %q", want)
	}
	// By name too, and with the layer named explicitly.
	if r2 := c.get(fmt.Sprintf("/layerindex/branch_comparison/?from_branch=scarthgap&to_branch=master&layers=%d", s.core.ID)); !strings.Contains(r2.body, want) {
		t.Errorf("by name: %d, lacks %q", r2.code, want)
	}

	var js struct {
		From, To                string
		Added, Changed, Removed []struct {
			PN   string
			From []struct {
				ID         int64
				PV, SrcRev string
			}
			To []struct {
				ID         int64
				PV, SrcRev string
			}
		}
	}
	r = c.get("/layerindex/branch_comparison/?" + q + "&format=json")
	if err := json.Unmarshal([]byte(r.body), &js); err != nil {
		t.Fatalf("json: %v\n%.300s", err, r.body)
	}
	if len(js.Added) != added || len(js.Changed) != changed || len(js.Removed) != removed {
		t.Errorf("json: %d/%d/%d, want %d/%d/%d", len(js.Added), len(js.Changed), len(js.Removed), added, changed, removed)
	}
	for _, e := range js.Changed {
		var a, b []string
		for _, v := range e.From {
			a = append(a, v.PV+"\x00"+v.SrcRev)
		}
		for _, v := range e.To {
			b = append(b, v.PV+"\x00"+v.SrcRev)
		}
		if sameSet(a, b) || !sameSet(a, from[e.PN]) || !sameSet(b, to[e.PN]) {
			t.Errorf("changed %s: %v → %v", e.PN, e.From, e.To)
		}
	}
	// gcc-source carries its version in its name: one changed entry, not an
	// addition and a removal.
	for _, e := range js.Added {
		if strings.HasPrefix(e.PN, "gcc-source") {
			t.Errorf("gcc-source added: %+v", e)
		}
	}

	r = c.get("/layerindex/branch_comparison/?" + q + "&format=csv")
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil || r.header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("csv: %v %s", err, r.header.Get("Content-Type"))
	}
	if len(rows) != 1+added+changed+removed {
		t.Errorf("csv: %d rows, want %d", len(rows), 1+added+changed+removed)
	}

	r = c.get("/layerindex/branch_comparison_plain/?" + q)
	for _, w := range []string{"Recipe changes from scarthgap to master in openembedded-core",
		fmt.Sprintf("Added (%d)", added), fmt.Sprintf("Changed (%d)", changed), fmt.Sprintf("Removed (%d)", removed)} {
		if !strings.Contains(r.body, w) || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Errorf("plain text lacks %q", w)
		}
	}

	// The layer list of each branch links to the comparison with the release
	// before it.
	r = c.get("/layerindex/branch/master/layers/")
	link := "/layerindex/branch_comparison/?" + strings.ReplaceAll(q, "&", "&amp;")
	if !strings.Contains(r.body, link) {
		t.Errorf("master's layer list does not link to %s", link)
	}
	// Junk is a 400 or 404, never a 500.
	for path, code := range map[string]int{
		"/layerindex/branch_comparison/?from_branch=nowhere&to_branch=master":                             404,
		"/layerindex/branch_comparison/?" + q + "&layers=x":                                               400,
		"/layerindex/branch_comparison/?" + q + "&format=xml":                                             400,
		"/layerindex/branch_comparison/?format=csv":                                                       400,
		"/layerindex/branch_comparison/":                                                                  200,
		"/layerindex/branch_comparison/?" + url.Values{"to_branch": {strings.Repeat("x", 5000)}}.Encode(): 400,
	} {
		if r := c.get(path); r.code != code {
			t.Errorf("%.80s: %d, want %d", path, r.code, code)
		}
	}
}

// testRecipeDeps checks the dependency report against the index's own
// provider resolution (virtual/ names included), the cross-layer and
// exclusion options on a small layer over oe-core, and the reverse view on
// the recipe page.
func testRecipeDeps(t *testing.T, s *corpusSite) {
	ctx := s.ctx
	deps := &store.Layer{Name: "meta-deps", Status: store.StatusPublished, LayerType: store.TypeSoftware,
		Summary: "Deps", Description: "Deps.", VCSURL: gitRepo(t, depsLayer)}
	if err := s.st.CreateLayer(ctx, deps); err != nil {
		t.Fatal(err)
	}
	s.addLayerBranch(deps, s.master, "meta-deps")
	c := s.client()

	// The core layer on master, everything: each dependency's providers are
	// the ones the recipe pages resolve.
	x, err := s.st.LoadBranchIndex(ctx, s.master.ID)
	if err != nil {
		t.Fatal(err)
	}
	r := c.get(fmt.Sprintf("/layerindex/recipe_deps/?branch=%d&layer=%d&format=csv", s.master.ID, s.core.ID))
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil || r.code != 200 {
		t.Fatalf("csv: %d %v", r.code, err)
	}
	got := map[string][]string{} // recipe|dep → providers
	virtual := 0
	for _, row := range rows[1:] {
		k := row[0] + "|" + row[3] + "|" + row[4]
		if row[5] != "" {
			got[k] = append(got[k], row[5]+"/"+row[8])
		} else if _, ok := got[k]; !ok {
			got[k] = []string{}
		}
		if strings.HasPrefix(row[3], "virtual/") && row[5] != "" {
			virtual++
		}
	}
	var wantPairs []struct{ PN, Name, Kind string }
	s.conn.Gorm.Raw(`SELECT r.pn, d.name, 'DEPENDS' AS kind FROM recipe_build_deps d JOIN recipes r ON r.id = d.recipe_id WHERE r.layer_branch_id = ?
UNION SELECT r.pn, d.name, 'PACKAGECONFIG' FROM recipe_package_config_deps d JOIN recipes r ON r.id = d.recipe_id WHERE r.layer_branch_id = ?`,
		s.coreLB["master"].ID, s.coreLB["master"].ID).Scan(&wantPairs)
	if len(wantPairs) < 1000 || virtual == 0 {
		t.Fatalf("%d dependencies in oe-core, %d resolved virtual/ rows: the corpus should have many", len(wantPairs), virtual)
	}
	mismatch := 0
	for _, p := range wantPairs {
		var want []string
		for _, pr := range x.Providers(p.Name) {
			want = append(want, pr.PN+"/"+pr.LayerName)
		}
		g, ok := got[p.PN+"|"+p.Name+"|"+p.Kind]
		if !ok || strings.Join(g, " ") != strings.Join(want, " ") {
			if mismatch++; mismatch < 5 {
				t.Errorf("%s needs %s: report %v, index %v", p.PN, p.Name, g, want)
			}
		}
	}
	if len(got) != len(wantPairs) {
		t.Errorf("report has %d recipe dependencies, the database %d", len(got), len(wantPairs))
	}

	// meta-deps: everything, then only what other layers provide, then
	// with the core layer left out as a provider.
	base := "/layerindex/recipe_deps/?branch=master&layer=meta-deps"
	r = c.get(base)
	for _, w := range []string{">own-lib<", ">zlib<", ">openssl<", "(PACKAGECONFIG)", "2 recipes of"} {
		if !strings.Contains(r.body, w) {
			t.Errorf("report of meta-deps lacks %q", w)
		}
	}
	r = c.get(base + "&crosslayer=1&format=csv")
	if strings.Contains(r.body, "app,1.0,MIT,own-lib,") || !strings.Contains(r.body, "app,1.0,MIT,zlib,DEPENDS,zlib,") ||
		!strings.Contains(r.body, "app,1.0,MIT,openssl,PACKAGECONFIG,openssl,") {
		t.Errorf("crosslayer report:\n%s", r.body)
	}
	r = c.get(base + fmt.Sprintf("&crosslayer=1&excludelayers=%d&format=csv", s.core.ID))
	if !strings.Contains(r.body, "app,1.0,MIT,zlib,DEPENDS,,,,\n") {
		t.Errorf("with the core layer left out, zlib has no provider:\n%s", r.body)
	}

	// The reverse view: zlib's page lists app (another layer) among the
	// recipes that depend on it.
	var zlib int64
	s.conn.Gorm.Raw("SELECT id FROM recipes WHERE layer_branch_id = ? AND pn = 'zlib'", s.coreLB["master"].ID).Scan(&zlib)
	r = c.get(fmt.Sprintf("/layerindex/recipe/%d/", zlib))
	if i := strings.Index(r.body, `id="dependents"`); i < 0 || !strings.Contains(r.body[i:], ">app</a>") || !strings.Contains(r.body[i:], "meta-deps") {
		t.Errorf("zlib's page does not list app as a dependent")
	}
	var own int64
	s.conn.Gorm.Raw("SELECT r.id FROM recipes r JOIN layer_branches lb ON lb.id = r.layer_branch_id WHERE lb.layer_id = ? AND r.pn = 'own-lib'", deps.ID).Scan(&own)
	r = c.get(fmt.Sprintf("/layerindex/recipe/%d/", own))
	if !strings.Contains(r.body, "1 recipe on master name") {
		t.Errorf("own-lib's page: dependents not counted")
	}
	for path, code := range map[string]int{
		"/layerindex/recipe_deps/":                                               200,
		"/layerindex/recipe_deps/?branch=master&layer=nowhere":                   404,
		"/layerindex/recipe_deps/?branch=master&layer=meta-deps&excludelayers=x": 400,
		"/layerindex/recipe_deps/?format=csv":                                    400,
		"/layerindex/recipe_deps/?branch=scarthgap&layer=meta-deps":              200,
	} {
		if r := c.get(path); r.code != code {
			t.Errorf("%s: %d, want %d", path, r.code, code)
		}
	}
}

// testBulkChange: a user collects zlib and busybox, edits their metadata,
// reviews, downloads the patch; `git am` applies it to a checkout of the
// indexed revision and the parser reads the new values back. Another user
// and anonymous visitors cannot see or touch the changeset.
func testBulkChange(t *testing.T, s *corpusSite) {
	s.user("alice@example.org", "alice password 1")
	s.user("bob@example.org", "bob password 1")
	alice, bob, anon := s.client(), s.client(), s.client()
	alice.login("alice@example.org", "alice password 1")
	bob.login("bob@example.org", "bob password 1")

	alice.get("/layerindex/bulkchange/")
	r := alice.post("/layerindex/bulkchange/", url.Values{"name": {"metadata fixes"}})
	if r.code != 303 || !strings.HasSuffix(r.location, "/search/") {
		t.Fatalf("create: %d %s", r.code, r.location)
	}
	base := strings.TrimSuffix(r.location, "search/")
	ids := map[string]int64{}
	for _, pn := range []string{"zlib", "busybox"} {
		r = alice.get(base + "search/?field=pn&match=equals&value=" + pn)
		var id int64
		s.conn.Gorm.Raw("SELECT id FROM recipes WHERE layer_branch_id = ? AND pn = ?", s.coreLB["master"].ID, pn).Scan(&id)
		if !strings.Contains(r.body, fmt.Sprintf(`name="recipe" value="%d"`, id)) {
			t.Fatalf("search for %s does not offer recipe %d", pn, id)
		}
		ids[pn] = id
		if r = alice.post(base+"search/", url.Values{"action": {"add"}, "recipe": {fmt.Sprint(id)}}); r.code != 303 {
			t.Fatalf("add %s: %d %s", pn, r.code, r.body)
		}
	}
	var changes []store.RecipeChange
	s.conn.Gorm.Order("id").Find(&changes)
	if len(changes) != 2 {
		t.Fatalf("%d changes stored", len(changes))
	}
	r = alice.get(base + "edit/")
	form := url.Values{}
	for _, ch := range changes {
		p := fmt.Sprintf("c%d-", ch.ID)
		form.Set(p+"summary", ch.Summary)
		form.Set(p+"description", ch.Description)
		form.Set(p+"section", ch.Section)
		form.Set(p+"license", ch.License)
		form.Set(p+"homepage", ch.Homepage)
		form.Set(p+"bugtracker", ch.Bugtracker)
		if ch.RecipeID == ids["zlib"] {
			form.Set(p+"summary", "Zlib compression library, edited")
			form.Set(p+"description", "A new\\ndescription with \"quotes\".")
			form.Set(p+"bugtracker", "https://github.com/madler/zlib/issues")
		} else {
			form.Set(p+"homepage", "https://busybox.net/edited")
		}
	}
	if r = alice.post(base+"edit/", form); r.code != 303 {
		t.Fatalf("edit: %d %v", r.code, fieldErrors(r.body))
	}
	r = alice.get(base + "review/")
	for _, w := range []string{"Zlib compression library, edited", "added to the recipe", "busybox.inc, which the recipe includes", "Download openembedded-core_master.patch"} {
		if !strings.Contains(r.body, html.EscapeString(w)) {
			t.Errorf("review lacks %q", w)
		}
	}
	r = alice.get(base + "patches/")
	if r.code != 200 || !strings.HasPrefix(r.body, "From ") {
		t.Fatalf("patches: %d %.300s", r.code, r.body)
	}

	// Others: 404 for every changeset page and action; anonymous visitors
	// are sent to log in (GET) or refused (POST).
	for _, p := range []string{"search/", "edit/", "review/", "patches/"} {
		if r := bob.get(base + p); r.code != 404 {
			t.Errorf("bob GET %s: %d", p, r.code)
		}
		if r := anon.get(base + p); r.code != 303 || !strings.Contains(r.location, "/accounts/login/") {
			t.Errorf("anonymous GET %s: %d %s", p, r.code, r.location)
		}
	}
	bob.get("/layerindex/bulkchange/")
	for p, f := range map[string]url.Values{"search/": {"action": {"removeall"}}, "edit/": form, "delete/": nil} {
		if r := bob.post(base+p, f); r.code != 404 {
			t.Errorf("bob POST %s: %d", p, r.code)
		}
		if r := anon.postRaw(base+p, f); r.code != 403 {
			t.Errorf("anonymous POST %s: %d", p, r.code)
		}
	}
	if r := bob.get("/layerindex/bulkchange/"); strings.Contains(r.body, "metadata fixes") {
		t.Errorf("bob sees alice's changeset")
	}

	// git am on a checkout of the indexed revision, then parse again.
	work := filepath.Join(t.TempDir(), "oe-core")
	gitIn(t, filepath.Dir(work), "clone", "-q", s.bare, work)
	var rev string
	s.conn.Gorm.Raw("SELECT vcs_last_rev FROM layer_branches WHERE id = ?", s.coreLB["master"].ID).Scan(&rev)
	gitIn(t, work, "checkout", "-q", rev)
	patchFile := filepath.Join(t.TempDir(), "fix.patch")
	if err := os.WriteFile(patchFile, []byte(r.body), 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(t, work, "am", patchFile)
	if log := gitIn(t, work, "log", "-1", "--format=%an <%ae>%n%s"); !strings.Contains(log, "<alice@example.org>") ||
		!strings.Contains(log, "busybox, zlib: update recipe metadata") {
		t.Errorf("commit: %s", log)
	}
	var paths []string
	for _, id := range []int64{ids["zlib"], ids["busybox"]} {
		var rec store.Recipe
		s.conn.Gorm.Take(&rec, id)
		paths = append(paths, rec.Path())
	}
	cfg, err := bitbake.NewConfig(bitbake.Layer{Name: "meta", FS: os.DirFS(filepath.Join(work, "meta"))}, nil, bitbake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.ParseRecipes(s.ctx, paths)
	if len(got) != 2 {
		t.Fatalf("parsed %d recipes", len(got))
	}
	z, b := got[0], got[1]
	if z.Summary != "Zlib compression library, edited" || z.Description != `A new\ndescription with "quotes".` ||
		z.BugTracker != "https://github.com/madler/zlib/issues" || z.Homepage != "http://zlib.net/" {
		t.Errorf("zlib after the patch: %q %q %q %q", z.Summary, z.Description, z.BugTracker, z.Homepage)
	}
	if b.Homepage != "https://busybox.net/edited" || !strings.HasPrefix(b.Summary, "Tiny versions") {
		t.Errorf("busybox after the patch: %q %q", b.Homepage, b.Summary)
	}

	if r := alice.post(base+"delete/", nil); r.code != 303 {
		t.Errorf("delete: %d", r.code)
	}
	if r := alice.get(base + "review/"); r.code != 404 {
		t.Errorf("deleted changeset: %d", r.code)
	}
}

// TestAboutPage: the about page names the version and links the OpenAPI
// document, and every page's footer links to it.
func TestAboutPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ts := newServer(t, dbtest.Migrated(t, d))
		code, body, _ := fetch(t, ts.URL+"/layerindex/about/")
		for _, w := range []string{"layerindex version <strong>test</strong>", `href="/layerindex/api/openapi.json"`} {
			if code != 200 || !strings.Contains(body, w) {
				t.Errorf("about page: %d, lacks %q", code, w)
			}
		}
		if _, body, _ := fetch(t, ts.URL+"/layerindex/stats/"); !strings.Contains(body, `<a href="/layerindex/about/">About</a>`) {
			t.Errorf("footer lacks the about link")
		}
	})
}
