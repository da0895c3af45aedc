package web_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"layerindex/internal/comparison"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/gitrepo"
	"layerindex/internal/ingest"
	"layerindex/internal/store"
)

// tinyLayer is a layer that parses on its own (its own bitbake.conf), for
// the comparison pages' matcher.
var tinyLayer = map[string]string{
	"conf/layer.conf": `BBPATH .= ":${LAYERDIR}"
BBFILES += "${LAYERDIR}/recipes-*/*/*.bb"
BBFILE_COLLECTIONS += "tiny"
BBFILE_PATTERN_tiny = "^${LAYERDIR}/"
BBFILE_PRIORITY_tiny = "5"
`,
	"conf/bitbake.conf": `PN = "${@bb.parse.vars_from_file(d.getVar('FILE', False),d)[0] or 'defaultpkgname'}"
PV = "${@bb.parse.vars_from_file(d.getVar('FILE', False),d)[1] or '1.0'}"
`,
	"classes-global/base.bbclass":           "# base\n",
	"recipes-core/zlib/zlib_1.3.1.bb":       "SUMMARY = \"Zlib compression library\"\nLICENSE = \"Zlib\"\n",
	"recipes-extended/gawk/gawk_5.3.1.bb":   "SUMMARY = \"GNU awk\"\nLICENSE = \"GPL-3.0-only\"\nPROVIDES += \"awk\"\n",
	"recipes-core/busybox/busybox_1.37.bb":  "SUMMARY = \"Busybox\"\nLICENSE = \"GPL-2.0-only\"\nBBCLASSEXTEND = \"native\"\n",
	"recipes-support/curl/curl_8.11.0.bb":   "SUMMARY = \"URL transfers\"\nLICENSE = \"curl\"\n",
	"recipes-support/other/other_1.0.bb":    "SUMMARY = \"Other\"\nLICENSE = \"MIT\"\n",
	"recipes-support/openssl/openssl_3.bb":  "SUMMARY = \"TLS\"\nLICENSE = \"Apache-2.0\"\n",
	"recipes-support/python/python3-x_1.bb": "SUMMARY = \"X\"\nLICENSE = \"MIT\"\n",
}

// indexTinyLayer adds tinyLayer to master and indexes it for real.
func (e *acctEnv) indexTinyLayer() *store.LayerBranch {
	e.t.Helper()
	ctx := context.Background()
	repo := gitRepo(e.t.(*testing.T), tinyLayer)
	l := &store.Layer{Name: "meta-tiny", Status: store.StatusPublished, LayerType: store.TypeSoftware, Summary: "Tiny", Description: "Tiny.", VCSURL: repo}
	if err := e.st.CreateLayer(ctx, l); err != nil {
		e.t.Fatal(err)
	}
	master, _ := e.st.BranchByName(ctx, "master")
	lb := &store.LayerBranch{LayerID: l.ID, BranchID: master.ID, UpdatesEnabled: true}
	if err := e.st.CreateLayerBranch(ctx, lb); err != nil {
		e.t.Fatal(err)
	}
	cache := gitrepo.NewCache(e.t.TempDir(), gitrepo.Policy{AllowLocal: true}, gitrepo.DefaultLimits)
	res, err := ingest.New(e.conn.Gorm, cache, nil).UpdateLayerBranch(ctx, ingest.Request{LayerBranchID: lb.ID})
	if err != nil || res.Status != store.UpdateSucceeded {
		e.t.Fatalf("indexing meta-tiny: %v %+v", err, res)
	}
	return lb
}

// postFile sends the import form as multipart/form-data with the
// client's CSRF token.
func (c *client) postFile(path string, fields map[string]string, filename string, content []byte) resp {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("csrf_token", c.csrf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", filename)
	fw.Write(content)
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.url(path), &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

const webPackages = `Package: zlib1g
Version: 1:1.3.dfsg-3.1
Section: libs
Description: compression library - runtime

Package: mawk
Version: 1.3.4-1
Section: interpreters
Provides: awk
Description: Pattern scanning and text processing language

Package: busybox-native
Version: 1.37
Section: utils
Description: =HYPERLINK("http://evil.example/","click")

Package: fortune-mod
Version: 1:1.99.1-7.3
Section: games
Description: provides fortune cookies on demand

Package: cowsay
Version: 3.03
Section: games
Description: configurable talking cow
`

// TestComparisonPages imports a gzipped Debian Packages file through the
// administrators' form, then uses every comparison page as an anonymous
// visitor, an editor and an administrator, on both databases.
func TestComparisonPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		e := newAcctEnv(t, d, envOpts{})
		e.indexTinyLayer()
		admin, anon, ed := e.client(), e.client(), e.client()
		admin.login("admin@example.org", adminPassword)
		editor := e.user("ed@example.org", "editor password", false)
		if _, err := comparison.New(e.conn.Gorm).SetEditor(ctx, editor.Email, true); err != nil {
			t.Fatal(err)
		}
		ed.login("ed@example.org", "editor password")

		// The nav links the list; the admin page links the import form.
		if r := anon.get("/layerindex/comparison/"); r.code != http.StatusOK || !strings.Contains(r.body, "No comparison yet") {
			t.Fatalf("empty list: %d", r.code)
		}
		if r := anon.get("/layerindex/about/"); !strings.Contains(r.body, `href="/layerindex/comparison/"`) {
			t.Error("the nav and about page do not link the comparison")
		}
		if r := admin.get("/layerindex/admin/"); !strings.Contains(r.body, `href="/layerindex/admin/comparison/"`) {
			t.Error("the admin page does not link the import form")
		}

		// Import: a malformed list is refused with its line number; a
		// gzipped one is imported and matched.
		admin.get("/layerindex/admin/comparison/")
		r := admin.postFile("/layerindex/admin/comparison/", map[string]string{"branch": "debian", "format": "deb"}, "Packages", []byte("Package: a\nnot a field\n"))
		if r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Packages:2: expected &#34;Field: value&#34;") {
			t.Errorf("malformed list: %d %v", r.code, fieldErrors(r.body))
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write([]byte(webPackages))
		zw.Close()
		r = admin.postFile("/layerindex/admin/comparison/", map[string]string{"branch": "debian", "format": "deb", "description": "Debian test"}, "Packages.gz", gz.Bytes())
		if r.code != http.StatusSeeOther || r.location != "/layerindex/comparison/recipes/debian/" {
			t.Fatalf("import: %d %s %v", r.code, r.location, fieldErrors(r.body))
		}
		r = admin.get(r.location)
		if !strings.Contains(r.body, "debian: 5 packages read (0 skipped); 5 added") {
			t.Errorf("no flash after the import")
		}
		ci, err := e.st.ComparisonBranchByName(ctx, "debian")
		if err != nil || ci.Packages != 5 || ci.Covered != 3 {
			t.Fatalf("stored comparison %+v %v", ci, err)
		}

		// The list, its filters, a package page, CSV and statistics.
		list := anon.get("/layerindex/comparison/recipes/debian/")
		for _, want := range []string{"Debian test", ">zlib1g</a>", "Direct match", "Replaced", "Provided (BBCLASSEXTEND)", ">fortune-mod</a>"} {
			if !strings.Contains(list.body, want) {
				t.Errorf("list lacks %q", want)
			}
		}
		zlibID := regexp.MustCompile(`/layerindex/comparison/recipe/(\d+)/">zlib1g<`).FindStringSubmatch(list.body)
		fortuneID := regexp.MustCompile(`/layerindex/comparison/recipe/(\d+)/">fortune-mod<`).FindStringSubmatch(list.body)
		if zlibID == nil || fortuneID == nil {
			t.Fatal("no package links")
		}
		if len(list.header.Values("Set-Cookie")) > 0 {
			t.Error("the public list set a cookie")
		}
		unknown := anon.get("/layerindex/comparison/recipes/debian/?cover_status=unknown")
		if !strings.Contains(unknown.body, ">fortune-mod</a>") || strings.Contains(unknown.body, ">zlib1g</a>") {
			t.Error("the unknown filter")
		}
		if r := anon.get("/layerindex/comparison/recipes/debian/?category=games&q=cow"); !strings.Contains(r.body, ">cowsay</a>") || strings.Contains(r.body, ">fortune-mod</a>") {
			t.Error("the category and text filters")
		}
		if r := anon.get("/layerindex/comparison/recipes/nothing/"); r.code != http.StatusNotFound {
			t.Errorf("unknown comparison: %d", r.code)
		}
		if r := anon.get("/layerindex/comparison/recipes/master/"); r.code != http.StatusNotFound {
			t.Errorf("a release branch as a comparison: %d", r.code)
		}
		c := anon.get("/layerindex/comparison/search-csv/debian/?cover_status=%23")
		rows, err := csv.NewReader(strings.NewReader(c.body)).ReadAll()
		if err != nil || c.header.Get("Content-Type") != "text/csv; charset=utf-8" || len(rows) != 4 {
			t.Fatalf("CSV: %v %q %d rows", err, c.header.Get("Content-Type"), len(rows))
		}
		if rows[0][0] != "name" || rows[0][5] != "cover_status" {
			t.Errorf("CSV header %v", rows[0])
		}
		for _, row := range rows[1:] {
			if row[0] == "busybox-native" && (row[2] != `'=HYPERLINK("http://evil.example/","click")` || row[7] != "busybox" || row[8] != "meta-tiny") {
				t.Errorf("busybox-native row %v (a formula must be inert)", row)
			}
		}
		st := anon.get("/layerindex/comparison/stats/debian/")
		if st.code != http.StatusOK || strings.Count(st.body, "<svg") != 3 || !strings.Contains(st.body, "Packages by cover status") ||
			!strings.Contains(st.body, `href="/layerindex/comparison/recipes/debian/?cover_status=D"`) {
			t.Errorf("stats page: %d, %d charts", st.code, strings.Count(st.body, "<svg"))
		}
		for _, svg := range regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(st.body, -1) {
			if strings.Contains(svg, "<script") || strings.Contains(svg, "<foreignObject") {
				t.Errorf("a chart carries a script: %s", svg)
			}
		}
		if regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(st.body) {
			t.Error("the stats page loads something from elsewhere")
		}
		page := anon.get("/layerindex/comparison/recipe/" + zlibID[1] + "/")
		if page.code != http.StatusOK || !strings.Contains(page.body, "known alias zlib1g → zlib") ||
			!strings.Contains(page.body, "Zlib compression library") || strings.Contains(page.body, "Confirm or change") {
			t.Errorf("package page (anonymous): %d", page.code)
		}

		// A recipe's page lists the packages it covers; anonymous pages are
		// cached, and a change of cover renders them again.
		zlibRecipe := regexp.MustCompile(`/layerindex/recipe/(\d+)/">zlib<`).FindStringSubmatch(list.body)
		if zlibRecipe == nil {
			t.Fatal("no link to the covering recipe")
		}
		if r := anon.get("/layerindex/recipe/" + zlibRecipe[1] + "/"); !strings.Contains(r.body, ">zlib1g 1:1.3.dfsg-3.1</a> in <a href=\"/layerindex/comparison/recipes/debian/\">debian</a>") {
			t.Error("the zlib recipe page does not list zlib1g")
		}
		var otherID int64
		e.conn.Gorm.Raw("SELECT id FROM recipes WHERE pn = 'other'").Scan(&otherID)
		otherPage := "/layerindex/recipe/" + int64s(otherID) + "/"
		if r := anon.get(otherPage); strings.Contains(r.body, "fortune-mod") {
			t.Error("other covers fortune-mod before anyone said so")
		}
		anon.get(otherPage) // now cached

		// The editor confirms and changes covers; errors keep the form.
		ed.get("/layerindex/comparison/recipe/" + fortuneID[1] + "/")
		r = ed.post("/layerindex/comparison/select/"+fortuneID[1]+"/", url.Values{"cover_status": {"D"}, "cover_pn": {""}})
		if r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Direct match needs the covering recipe") {
			t.Errorf("cover without a recipe: %d %v", r.code, fieldErrors(r.body))
		}
		r = ed.post("/layerindex/comparison/select/"+fortuneID[1]+"/", url.Values{"cover_status": {"E"}, "cover_pn": {"other"}, "cover_comment": {"<b>close enough</b>"}})
		if r.code != http.StatusSeeOther {
			t.Fatalf("set cover: %d %v", r.code, fieldErrors(r.body))
		}
		page = ed.get(r.location)
		for _, want := range []string{"The cover is saved.", "Equivalent functionality", "&lt;b&gt;close enough&lt;/b&gt;", "ed@example.org", "confirmed by an editor"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("package page after the change lacks %q", want)
			}
		}
		if r := anon.get(otherPage); !strings.Contains(r.body, ">fortune-mod 1:1.99.1-7.3</a>") || !strings.Contains(r.body, "Equivalent functionality") {
			t.Error("the cached recipe page was not rendered again after the change of cover")
		}
		if r := anon.get("/layerindex/comparison/recipes/debian/?cover_verified=yes"); !strings.Contains(r.body, ">fortune-mod</a>") || strings.Contains(r.body, ">zlib1g</a>") {
			t.Error("the verified filter")
		}
		// Editors cover; they do not import.
		if r := ed.post("/layerindex/admin/comparison/", url.Values{"branch": {"debian"}, "format": {"deb"}}); r.code != http.StatusForbidden {
			t.Errorf("editor import: %d", r.code)
		}
		if r := ed.post("/layerindex/admin/comparison/debian/match/", nil); r.code != http.StatusForbidden {
			t.Errorf("editor re-match: %d", r.code)
		}
		if r := admin.post("/layerindex/admin/comparison/debian/match/", nil); r.code != http.StatusSeeOther {
			t.Errorf("admin re-match: %d", r.code)
		}
		if p, _ := e.st.ComparisonPackage(ctx, mustID(t, fortuneID[1])); p.CoverStatus != store.CoverEquivalent || !p.CoverVerified {
			t.Errorf("the re-match changed a confirmed cover: %+v", p)
		}

		// Upstream's OE-Classic URLs lead to the comparison named oe-classic.
		for from, to := range map[string]string{"/layerindex/oe-classic/": "/layerindex/comparison/recipes/oe-classic/",
			"/layerindex/oe-classic/stats/": "/layerindex/comparison/stats/oe-classic/", "/layerindex/oe-classic/recipe/7/": "/layerindex/comparison/recipe/7/"} {
			if r := anon.get(from); r.code != http.StatusFound || r.location != to {
				t.Errorf("%s: %d %s", from, r.code, r.location)
			}
		}

		// An upload announced larger than the cap is refused before it is read.
		code := rawPost(t, e.ts.URL, "/layerindex/admin/comparison/", admin, comparison.MaxUpload+(1<<20))
		if code != http.StatusRequestEntityTooLarge {
			t.Errorf("oversized upload: %d, want 413", code)
		}
	})
}

func mustID(t *testing.T, s string) int64 {
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// rawPost sends only the headers of a POST announcing length bytes, with
// c's cookies, and returns the status the server answers with.
func rawPost(t *testing.T, base, path string, c *client, length int64) int {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var cookies []string
	for _, ck := range c.http.Jar.Cookies(u) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n\r\n",
		path, u.Host, strings.Join(cookies, "; "), length)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode
}
