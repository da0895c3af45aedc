package web_test

import (
	"encoding/json"
	"encoding/xml"
	"html"
	"net/http"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// TestBadges: each badge is valid SVG with the expected text and cache
// headers, the shields.io endpoint JSON says the same, the "last update"
// badge turns to failing when an update fails, and the layer page shows
// the Markdown to copy.
func TestBadges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newAcctEnv(t, d, envOpts{})
		e.layer("meta-badge", store.StatusPublished, "maint@example.org")
		anon := e.client()
		base := "/layerindex/branch/master/layer/meta-badge/badge/"

		if got := badgeText(t, anon, base+"update.svg"); got != "last update: never" {
			t.Errorf("before any update: %q", got)
		}
		if got := badgeText(t, anon, base+"compat.svg"); got != "layer index: master ✗" {
			t.Errorf("compat before indexing: %q", got)
		}
		e.index("meta-badge")
		for file, want := range map[string]string{"compat.svg": "layer index: master ✓", "recipes.svg": "recipes: 1",
			"update.svg": "last update: passing"} {
			if got := badgeText(t, anon, base+file); got != want {
				t.Errorf("%s: %q, want %q", file, got, want)
			}
		}
		r := anon.get(base + "recipes.json")
		var sh struct {
			SchemaVersion         int
			Label, Message, Color string
		}
		if err := json.Unmarshal([]byte(r.body), &sh); err != nil || sh.SchemaVersion != 1 || sh.Label != "recipes" || sh.Message != "1" || sh.Color == "" {
			t.Errorf("shields endpoint: %v %+v %s", err, sh, r.body)
		}
		if r := anon.get(base + "nonsense.svg"); r.code != http.StatusNotFound {
			t.Errorf("unknown badge: %d", r.code)
		}
		if r := anon.get("/layerindex/branch/master/layer/meta-none/badge/update.svg"); r.code != http.StatusNotFound {
			t.Errorf("badge of no layer: %d", r.code)
		}

		// The layer breaks: the next update fails, and the badge says so.
		e.commit("break the layer", nil, "meta-test/conf/layer.conf")
		e.indexExpecting("meta-badge", store.UpdateFailed)
		if got := badgeText(t, anon, base+"update.svg"); got != "last update: failing" {
			t.Errorf("after a failed update: %q", got)
		}

		page := html.UnescapeString(anon.get("/layerindex/branch/master/layer/meta-badge/").body)
		want := "[![layer index](" + e.ts.URL + base + "compat.svg)](" + e.ts.URL + "/layerindex/branch/master/layer/meta-badge/)"
		if !strings.Contains(page, want) || !strings.Contains(page, `<img src="`+base+`update.svg"`) {
			t.Errorf("the layer page lacks the badges' Markdown %s", want)
		}
	})
}

// badgeText fetches a badge, checks it is SVG with cache headers, and
// returns its title ("label: message"), checking the drawn texts agree.
func badgeText(t *testing.T, c *client, path string) string {
	t.Helper()
	r := c.get(path)
	if r.code != 200 || r.header.Get("Content-Type") != "image/svg+xml; charset=utf-8" {
		t.Fatalf("%s: %d %s", path, r.code, r.header.Get("Content-Type"))
	}
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") || r.header.Get("ETag") == "" {
		t.Errorf("%s cache headers: %q ETag %q", path, cc, r.header.Get("ETag"))
	}
	var svg struct {
		XMLName xml.Name
		Title   string `xml:"title"`
		Groups  []struct {
			Texts []string `xml:"text"`
		} `xml:"g"`
	}
	if err := xml.Unmarshal([]byte(r.body), &svg); err != nil {
		t.Fatalf("%s is not XML: %v\n%s", path, err, r.body)
	}
	if svg.XMLName.Space != "http://www.w3.org/2000/svg" || svg.XMLName.Local != "svg" {
		t.Fatalf("%s root: %v", path, svg.XMLName)
	}
	var texts []string
	for _, g := range svg.Groups {
		texts = append(texts, g.Texts...)
	}
	if len(texts) != 4 || svg.Title != texts[1]+": "+texts[3] {
		t.Errorf("%s: title %q, texts %q", path, svg.Title, texts)
	}
	return svg.Title
}
