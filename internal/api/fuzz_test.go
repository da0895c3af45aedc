package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"layerindex/internal/db"
)

// FuzzAPIQuery sends arbitrary ?filter=, ?orderby= and ?search= values to
// the API over HTTP, on SQLite with the fixture: every answer is 200 with a
// JSON array or object, or 400 with a JSON detail — never a 500, whatever
// names, lookups, operators or bytes the query holds.
func FuzzAPIQuery(f *testing.F) {
	e := newEnv(f, db.SQLite)
	resources := []string{"layerItems", "layerBranches", "recipes", "branches", "layerDependencies", "machines", "distros",
		"classes", "appends", "incFiles", "layerMaintainers", "layerNotes", "recipesExtended", "layers"}
	for _, s := range [][3]string{
		{"name:master", "", ""}, {"layerbranch__branch__name:master", "-pn", "zlib"}, {"pn__in:a,b", "pn:+", ""},
		{"layer__name!branch__name:meta-oe!master", "", ""}, {"pn:NOTzlibORglib", "", "a b"}, {"nosuch:1", "", ""},
		{"id__gt:x", "", ""}, {"layerbranch__isnull:maybe", "", ""}, {"pn__regex:(", "nosuch", ""}, {"\x00:\xff", "\xff", "\x00"},
		{"layerbranch__layer__layerbranch__layer__name:x", "", ""}, {"updated__lt:2020-01-01", "updated:-", ""},
	} {
		for i := range resources {
			f.Add(uint8(i), s[0], s[1], s[2])
		}
	}
	client := e.ts.Client()
	f.Fuzz(func(t *testing.T, which uint8, filter, orderby, search string) {
		q := url.Values{}
		if filter != "" {
			q.Set("filter", filter)
		}
		if orderby != "" {
			q.Set("orderby", orderby)
		}
		if search != "" {
			q.Set("search", search)
		}
		u := e.api + resources[int(which)%len(resources)] + "/?" + q.Encode()
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("%s: 200 without JSON: %v\n%.300s", u, err, body)
			}
		case http.StatusBadRequest:
			var d struct{ Detail string }
			if err := json.Unmarshal(body, &d); err != nil || d.Detail == "" {
				t.Fatalf("%s: 400 without a JSON detail: %.300s", u, body)
			}
		default:
			t.Fatalf("%s: status %d\n%.300s", u, resp.StatusCode, body)
		}
	})
}
