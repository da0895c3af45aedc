package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
)

// TestOpenAPI loads the served OpenAPI document, validates it, and checks
// real responses of every operation against it: the schemas list every key
// as required and forbid others, so a key missing from the document, or
// documented but not served, fails.
func TestOpenAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d)
		e.db.Gorm.Exec(`INSERT INTO yp_compatible_versions (name, description, image_url, link_url) VALUES ('5.0', 'YP 5.0', 'https://example.org/yp.png', 'https://example.org/yp')`)
		e.db.Gorm.Exec(`UPDATE layer_branches SET yp_compatible_version_id = (SELECT id FROM yp_compatible_versions)`)
		e.db.Gorm.Exec(`INSERT INTO recipe_patches (recipe_id, path, src_path, status, apply_order) VALUES (?, 'a.patch', 'files/a.patch', 'B', 1)`, e.fx.Recipes["openembedded-core/master/zlib"])

		r := get(t, e.api+"openapi.json")
		if r.code != 200 {
			t.Fatalf("openapi.json: %d", r.code)
		}
		ctx := context.Background()
		doc, err := openapi3.NewLoader().LoadFromData(r.body)
		if err != nil {
			t.Fatal(err)
		}
		if err := doc.Validate(ctx); err != nil {
			t.Fatalf("the document is not valid OpenAPI 3: %v", err)
		}
		if again := get(t, e.api+"openapi.json", "If-None-Match", r.hdr.Get("ETag")); again.code != 304 {
			t.Errorf("openapi.json revalidation: %d", again.code)
		}

		check := func(path, url string, code int) {
			t.Helper()
			op := doc.Paths.Find(path)
			if op == nil || op.Get == nil {
				t.Fatalf("%s is not documented", path)
			}
			resp := op.Get.Responses.Status(code)
			if resp == nil {
				t.Fatalf("%s: status %d not documented", path, code)
			}
			r := get(t, url)
			if r.code != code {
				t.Fatalf("GET %s: %d, want %d: %s", url, r.code, code, r.body)
			}
			var v any
			if err := json.Unmarshal(r.body, &v); err != nil {
				t.Fatalf("GET %s: %v", url, err)
			}
			schema := resp.Value.Content.Get("application/json").Schema.Value
			if err := schema.VisitJSON(v, openapi3.EnableFormatValidation(), openapi3.MultiErrors()); err != nil {
				t.Errorf("GET %s does not match the document:\n%v", url, err)
			}
		}
		check("/", e.api, 200)
		documented := 0
		for _, name := range rootOrder {
			path := "/" + name + "/"
			check(path, e.api+name+"/", 200)
			check(path, e.api+name+"/?filter=nosuch:1", 400)
			check("/"+name+"/{id}/", e.api+name+"/999999/", 404)
			body := get(t, e.api+name+"/").body
			var first struct{ ID int64 }
			if name == "recipesExtended" {
				var p struct{ Results []json.RawMessage }
				json.Unmarshal(body, &p)
				json.Unmarshal(p.Results[0], &first)
			} else {
				var items []json.RawMessage
				json.Unmarshal(body, &items)
				json.Unmarshal(items[0], &first)
			}
			check("/"+name+"/{id}/", e.api+name+"/"+strconv.FormatInt(first.ID, 10)+"/", 200)
			documented += 2
		}
		check("/recipesExtended/", e.api+"recipesExtended/?page=9", 404)
		// The one endpoint that acts is served by the web server (it needs
		// accounts); internal/web's TestAPITokens checks its responses.
		if op := doc.Paths.Find("/layerItems/{id}/reindex/"); op == nil || op.Post == nil {
			t.Error("POST /layerItems/{id}/reindex/ is not documented")
		}
		if n := doc.Paths.Len(); n != documented+3 {
			t.Errorf("the document has %d paths; %d are checked here and in internal/web", n, documented+3)
		}

		// The document states what the API really does with key parameters.
		desc := fmt.Sprint(doc.Components.Parameters["filter"].Value.Description)
		for _, s := range []string{"layerbranch__branch__name", "OR", "AND", "NOT", "isnull"} {
			if !strings.Contains(desc, s) {
				t.Errorf("filter description lacks %s", s)
			}
		}
	})
}
