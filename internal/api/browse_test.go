package api_test

import (
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
)

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

var (
	tagRe     = regexp.MustCompile(`<[^>]*>`)
	preBodyRe = regexp.MustCompile(`(?s)<pre class="api-response">.*?<b>Vary:</b> Accept\n\n(.*)</pre>`)
)

// pageJSON is the JSON shown in a browsable API page, as text.
func pageJSON(t *testing.T, page []byte) string {
	t.Helper()
	m := preBodyRe.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no response in the page:\n%s", page)
	}
	return html.UnescapeString(tagRe.ReplaceAllString(string(m[1]), ""))
}

// TestBrowsableAPI: a browser gets each resource as a page (the request,
// the status, the JSON indented with its URLs as links), as upstream's
// Django REST framework serves it; ?format=json, a .json suffix and API
// clients (no Accept, application/json, */*) get the JSON itself, and the
// two have different validators.
func TestBrowsableAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d)
		l := e.fx.Layers["meta-oe"]
		if err := e.db.Gorm.Exec(`UPDATE layers SET summary = ?, vcs_web_url = ?, usage_url = ? WHERE id = ?`,
			"<script>alert(1)</script>", "javascript:alert(1)", `https://example.org/use?a=1&b="x"`, l.ID).Error; err != nil {
			t.Fatal(err)
		}

		for _, path := range []string{"", "branches/", "layerItems/", "recipesExtended/", "layerItems/" + itoa(l.ID) + "/", "recipes/?filter=pn:zlib"} {
			u := e.api + path
			jsonResp := get(t, u)
			page := get(t, u, "Accept", browserAccept)
			if page.code != 200 || !strings.HasPrefix(page.hdr.Get("Content-Type"), "text/html") {
				t.Fatalf("%s as a browser: %d %s", path, page.code, page.hdr.Get("Content-Type"))
			}
			if !strings.Contains(strings.Join(page.hdr.Values("Vary"), ","), "Accept") || !strings.Contains(strings.Join(jsonResp.hdr.Values("Vary"), ","), "Accept") {
				t.Errorf("%s: no Vary: Accept", path)
			}
			var a, b any
			if err := json.Unmarshal([]byte(pageJSON(t, page.body)), &a); err != nil {
				t.Fatalf("%s: the page's JSON does not parse: %v", path, err)
			}
			json.Unmarshal(jsonResp.body, &b)
			if x, y := mustJSON(a), mustJSON(b); x != y {
				t.Errorf("%s: the page shows other data than the JSON:\n%s\n%s", path, x, y)
			}
			if !strings.Contains(string(page.body), "<b>GET</b> /layerindex/api/"+html.EscapeString(path)) ||
				!strings.Contains(string(page.body), "<b>HTTP 200 OK</b>") {
				t.Errorf("%s: the page lacks the request or the status", path)
			}
			for _, bad := range []string{"<script>alert", `href="javascript:`} {
				if strings.Contains(string(page.body), bad) {
					t.Errorf("%s: the page contains %q", path, bad)
				}
			}
			if page.hdr.Get("ETag") == "" || page.hdr.Get("ETag") == jsonResp.hdr.Get("ETag") {
				t.Errorf("%s: ETags page %q, JSON %q", path, page.hdr.Get("ETag"), jsonResp.hdr.Get("ETag"))
			}
			if r := get(t, u, "Accept", browserAccept, "If-None-Match", page.hdr.Get("ETag")); r.code != 304 {
				t.Errorf("%s: the page's ETag again: %d", path, r.code)
			}
			if r := get(t, u, "Accept", browserAccept, "If-None-Match", jsonResp.hdr.Get("ETag")); r.code != 200 || !strings.HasPrefix(r.hdr.Get("Content-Type"), "text/html") {
				t.Errorf("%s: the JSON's ETag answered the page: %d", path, r.code)
			}
		}

		// The root's links lead on, as links.
		root := string(get(t, e.api, "Accept", browserAccept).body)
		if !strings.Contains(root, `"<a href="`+e.api+`branches/" rel="nofollow noopener">`+e.api+`branches/</a>"`) {
			t.Errorf("the root's URLs are not links:\n%s", root)
		}
		item := string(get(t, e.api+"layerItems/"+itoa(l.ID)+"/", "Accept", browserAccept).body)
		if !strings.Contains(item, `<a href="https://example.org/use?a=1&amp;b=&#34;x&#34;" rel="nofollow noopener">`) ||
			!strings.Contains(item, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(item, "Layer Items Instance") {
			t.Errorf("the layer's page:\n%s", item)
		}

		// ?format=api asks for the page without Accept; JSON stays JSON.
		for _, c := range []struct {
			path, accept string
			html         bool
		}{
			{"branches/?format=api", "", true},
			{"branches/?format=json", browserAccept, false},
			{"branches.json", browserAccept, false},
			{"branches/", "", false},
			{"branches/", "application/json", false},
			{"branches/", "*/*", false},
		} {
			var r response
			if c.accept == "" {
				r = get(t, e.api+c.path)
			} else {
				r = get(t, e.api+c.path, "Accept", c.accept)
			}
			if isHTML := strings.HasPrefix(r.hdr.Get("Content-Type"), "text/html"); r.code != 200 || isHTML != c.html {
				t.Errorf("%s with Accept %q: %d %s", c.path, c.accept, r.code, r.hdr.Get("Content-Type"))
			}
		}
		if r := get(t, e.api+"branches/?format=api"); !strings.Contains(string(r.body), `href="/layerindex/api/branches/?format=json"`) {
			t.Errorf("no link to the JSON:\n%s", r.body)
		}

		// Errors are pages too, with their status; gzip is not applied to the JSON inside.
		r := get(t, e.api+"branches/999999/", "Accept", browserAccept, "Accept-Encoding", "gzip")
		if r.code != 404 || !strings.Contains(string(r.body), "<b>HTTP 404 Not Found</b>") || !strings.Contains(pageJSON(t, r.body), `"Not found."`) {
			t.Errorf("404 as a page: %d\n%s", r.code, r.body)
		}
		r = get(t, e.api+"recipesExtended/?page=abc&format=api")
		if r.code != 404 || !strings.Contains(pageJSON(t, r.body), `"Invalid page."`) {
			t.Errorf("invalid page as a page: %d\n%s", r.code, r.body)
		}
	})
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
