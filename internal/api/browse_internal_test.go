package api

import (
	"encoding/json"
	"html"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestWantsHTML: DRF's content negotiation between its JSON and HTML
// renderers, as browsers and API clients ask.
func TestWantsHTML(t *testing.T) {
	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
	cases := []struct {
		target, accept string
		html           bool
	}{
		{"/layerindex/api/", browser, true},
		{"/layerindex/api/", "", false},                 // BitBake's layerindexlib (urllib), upstream's importer
		{"/layerindex/api/", "application/json", false}, // our importer
		{"/layerindex/api/", "*/*", false},              // curl, python-requests (kas)
		{"/layerindex/api/", "text/html", true},
		{"/layerindex/api/", "text/*", true},
		{"/layerindex/api/", "application/json, text/html", false},
		{"/layerindex/api/", "text/html, application/json;q=0.1", false},  // same precedence: JSON is DRF's first renderer
		{"/layerindex/api/", "text/html;level=1, application/json", true}, // more specific wins
		{"/layerindex/api/", "application/json;indent=4, text/html", false},
		{"/layerindex/api/", "image/png", false},
		{"/layerindex/api/", "garbage", false},
		{"/layerindex/api/?format=api", "", true},
		{"/layerindex/api/?format=api", "application/json", true},
		{"/layerindex/api/?format=json", browser, false},
		{"/layerindex/api/?format=json&format=api", "", true}, // the last one counts
		{"/layerindex/api/?format=api&format=json", browser, false},
		{"/layerindex/api/?format=", browser, true},
		{"/layerindex/api/recipes.json", browser, false},
		{"/layerindex/api/recipes/1.json?format=api", "", true},
	}
	for _, c := range cases {
		req := httptest.NewRequest("GET", c.target, nil)
		if c.accept != "" {
			req.Header.Set("Accept", c.accept)
		}
		if got := wantsHTML(req); got != c.html {
			t.Errorf("%s with Accept %q: HTML %v, want %v", c.target, c.accept, got, c.html)
		}
	}
}

var tags = regexp.MustCompile(`<[^>]*>`)

// TestPrettyJSON: the page's JSON is the response, indented; URLs are
// links only when they are http(s), and nothing in the data becomes markup.
func TestPrettyJSON(t *testing.T) {
	in := `{"id":1,"name":"<script>alert(1)</script>","url":"https://example.org/a?b=1&c=\"2\"","js":"javascript:alert(1)",` +
		`"nested":{"list":[1,2.5e3,true,null,"x"],"empty":[],"obj":{}},"quote":"\" onmouseover=\"alert(1)","u":"\u003cb\u003e"}`
	out := string(prettyJSON([]byte(in)))
	if strings.Contains(out, "<script") || strings.Contains(out, `href="javascript`) || strings.Contains(out, `" onmouseover`) {
		t.Fatalf("markup from the data:\n%s", out)
	}
	if !strings.Contains(out, `<a href="https://example.org/a?b=1&amp;c=&#34;2&#34;" rel="nofollow noopener">`) {
		t.Errorf("no link for the URL:\n%s", out)
	}
	if strings.Count(out, "<a ") != 1 {
		t.Errorf("%d links, want 1:\n%s", strings.Count(out, "<a "), out)
	}
	// Without the markup it is the same JSON, indented.
	text := html.UnescapeString(tags.ReplaceAllString(out, ""))
	var a, b any
	if err := json.Unmarshal([]byte(text), &a); err != nil {
		t.Fatalf("the text is not JSON: %v\n%s", err, text)
	}
	json.Unmarshal([]byte(in), &b)
	if x, y := mustJSON(a), mustJSON(b); x != y {
		t.Errorf("the text differs from the response:\n%s\n%s", x, y)
	}
	if !strings.Contains(text, "{\n    \"id\": 1,\n    \"name\"") || !strings.Contains(text, `"empty": [],`) {
		t.Errorf("not indented:\n%s", text)
	}
	// A prefix (a response cut short) still comes out, escaped.
	for n := 0; n < len(in); n += 7 {
		if p := string(prettyJSON([]byte(in[:n]))); strings.Contains(p, "<script") {
			t.Fatalf("prefix %d: %s", n, p)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
