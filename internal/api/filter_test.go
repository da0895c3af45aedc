package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
)

// names returns the sorted values of key in the rows.
func names(rows []map[string]any, key string) string {
	s := strs(rows, key)
	sort.Strings(s)
	return strings.Join(s, " ")
}

// TestFilters runs upstream's filter language against the fixture: the
// cases clients use (bitbake's OR of branch names, relation paths,
// several fields), the operators, and orderby and search.
func TestFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d)
		lbID := func(k string) int64 { return e.fx.LayerBranch[k].ID }
		layerName := map[float64]string{}
		for n, l := range e.fx.Layers {
			layerName[float64(l.ID)] = n
		}
		lbName := map[float64]string{}
		for k, lb := range e.fx.LayerBranch {
			lbName[float64(lb.ID)] = k
		}
		mapped := func(rows []map[string]any, key string, m map[float64]string) string {
			var s []string
			for _, r := range rows {
				s = append(s, m[r[key].(float64)])
			}
			sort.Strings(s)
			return strings.Join(s, " ")
		}

		cases := []struct {
			url, key, want string
		}{
			// bitbake's requests
			{"branches/?filter=name:masterORscarthgap", "name", "master scarthgap"},
			{"branches/?filter=name:master", "name", "master"},
			{"branches/?filter=name:nosuch", "name", ""},
			{"layerItems/", "name", "meta-oe meta-python meta-raspberrypi openembedded-core"},
			{"layerBranches/?filter=branch__name:scarthgap", "layer", "meta-oe openembedded-core"},
			{"recipes/?filter=layerbranch__branch__name:scarthgap", "pn", "busybox zlib"},
			{"machines/?filter=layerbranch__branch__name:master", "name", "qemuarm64 qemux86 raspberrypi4-64 raspberrypi5"},
			{"distros/?filter=layerbranch__branch__name:master", "name", "defaultsetup"},
			// several fields, relations both ways, the example from the doc
			{"recipes/?filter=pn!layerbranch__branch__name:zlib!master", "layerbranch", "openembedded-core/master"},
			{"recipes/?filter=layerbranch__layer__name:meta-oe", "pn", "glibmm zlib-ng"},
			{"layerItems/?filter=layerbranch__branch__name:scarthgap", "name", "meta-oe openembedded-core"},
			{"branches/?filter=layerbranch__layer__name:meta-python", "name", "master"},
			{"layerItems/?filter=dependents_set__layerbranch__layer__name:meta-python", "name", "meta-oe openembedded-core"},
			{"layerDependencies/?filter=dependency__name!required:meta-python!false", "layerbranch", "meta-raspberrypi/master"},
			{"layerMaintainers/?filter=layerbranch__layer__name!status:meta-oe!A", "layerbranch", "meta-oe/master meta-oe/scarthgap"},
			{"layerNotes/?filter=layer__name:meta-raspberrypi", "layer", "meta-raspberrypi"},
			{"classes/?filter=bbclass_type:Recipe", "name", "autotools image"},
			{"appends/?filter=filename:busybox_%.bbappend", "layerbranch", "meta-oe/master meta-raspberrypi/master"},
			{"incFiles/?filter=layerbranch__layer__name:openembedded-core", "path", "recipes-core/busybox/busybox.inc"},
			{fmt.Sprintf("recipes/?filter=layerbranch:%d", lbID("meta-raspberrypi/master")), "pn", "linux-raspberrypi"},
			{fmt.Sprintf("recipes/?filter=layerbranch__id:%d", lbID("meta-raspberrypi/master")), "pn", "linux-raspberrypi"},
			{"recipes/?filter=source__url__contains:github.com", "pn", "linux-raspberrypi zlib-ng"},
			{"recipes/?filter=staticbuilddep__name:virtual/crypt", "pn", "busybox"},
			// conditions through one multi-valued relation hold for the same row, as in Django
			{"layerItems/?filter=layerbranch__branch__name!layerbranch__version:master!14", "name", ""},
			{"layerItems/?filter=layerbranch__branch__name!layerbranch__version:scarthgap!14", "name", "openembedded-core"},
			{"layerItems/?filter=layerbranch__branch__name!layerbranch__version:masterORscarthgap!14", "name", "openembedded-core"},
			{"layerItems/?filter=layerbranch__branch__name!layerbranch__version:masterORnosuch!14", "name", ""},
			{"layerItems/?filter=layerbranch__branch__name!layerbranch__version:master!NOT15", "name", "meta-oe meta-python meta-raspberrypi"}, // NOT excludes through its own subquery, as Django does
			{"branches/?filter=layerbranch__layer__name!layerbranch__vcs_subdir:meta-oe!meta", "name", ""},
			{"branches/?filter=layerbranch__layer__name!layerbranch__vcs_subdir:openembedded-core!meta", "name", "master scarthgap"},
			// NOT, AND, OR with AND, lookups
			{"branches/?filter=name:NOTmaster", "name", "scarthgap"},
			{"layerItems/?filter=name__contains:metaANDpython", "name", "meta-python"},
			{"layerItems/?filter=name:meta-oeORmeta-pythonANDnosuch", "name", "meta-oe"},
			{"recipes/?filter=pn__startswith!layerbranch__branch__name:glib!master", "pn", "glib-2.0 glibmm"},
			{"recipes/?filter=pn__endswith:-ng", "pn", "zlib-ng"},
			{"recipes/?filter=summary__icontains:ZLIB", "pn", "zlib zlib zlib-ng"},
			{"recipes/?filter=pn__iexact:ZLIB", "pn", "zlib zlib"},
			{"recipes/?filter=pn__in!layerbranch__branch__name:zlib,busybox!master", "pn", "busybox zlib"},
			{"layerItems/?filter=index_preference__gt:0", "name", "openembedded-core"},
			{"layerBranches/?filter=yp_compatible_version__isnull:false", "layer", ""},
			{"layerBranches/?filter=yp_compatible_version__isnull!branch__name:true!scarthgap", "layer", "meta-oe openembedded-core"},
			{"layerItems/?filter=layernote__isnull:false", "name", "meta-raspberrypi"},
			{"layerBranches/?filter=vcs_last_commit__lt:2026-08-23", "layer", "meta-oe meta-oe meta-python meta-raspberrypi openembedded-core openembedded-core"},
			{"layerBranches/?filter=vcs_last_commit__gt:2026-08-22T13:45:59%2B00:00", "layer", ""},
			// colons in values (upstream split on every colon)
			{"layerItems/?filter=vcs_url:https://github.com/agherzan/meta-raspberrypi", "name", "meta-raspberrypi"},
			// unpublished layers are invisible everywhere, even through relations
			{"layerItems/?filter=name:meta-submitted", "name", ""},
			{"layerBranches/?filter=actual_branch:main", "layer", ""},
			{"branches/?filter=layerbranch__layer__name:meta-submitted", "name", ""},
			{"layerMaintainers/?filter=email:meta-submitted@lists.example.org", "name", ""},
			// search
			{"recipes/?search=busybox+1.38", "pv", "1.38.0"},
			{"recipes/?search=ZLIB+scarthgap", "pn", ""},
			{"layerItems/?search=python", "name", "meta-python"},
			{"machines/?search=raspberrypi+board", "name", "raspberrypi4-64 raspberrypi5"},
			// a parameter given twice has its last value, as in Django's QueryDict
			{"branches/?filter=name:master&filter=name:scarthgap", "name", "scarthgap"},
			{"branches/?filter=name:master&filter=", "name", "master scarthgap"},
			{"layerItems/?search=nosuch&search=python", "name", "meta-python"},
		}
		for _, c := range cases {
			rows := list(t, e.api+c.url)
			var got string
			switch c.key {
			case "layer":
				got = mapped(rows, "layer", layerName)
			case "layerbranch":
				got = mapped(rows, "layerbranch", lbName)
			default:
				got = names(rows, c.key)
			}
			if got != c.want {
				t.Errorf("%s: %s = %q, want %q", c.url, c.key, got, c.want)
			}
		}

		// orderby works (upstream parsed and ignored it), ties break on id
		order := []struct{ url, key, want string }{
			{"recipes/?filter=layerbranch__branch__name:master&orderby=pn:-", "pn", "zlib-ng zlib linux-raspberrypi glibmm glib-2.0 core-image-minimal busybox"},
			{"recipes/?filter=layerbranch__branch__name:master&orderby=pn:%2B", "pn", "busybox core-image-minimal glib-2.0 glibmm linux-raspberrypi zlib zlib-ng"},
			{"recipes/?filter=layerbranch__branch__name:master&orderby=pn:+", "pn", "busybox core-image-minimal glib-2.0 glibmm linux-raspberrypi zlib zlib-ng"},
			{"recipes/?filter=layerbranch__branch__name:master&orderby=-pn", "pn", "zlib-ng zlib linux-raspberrypi glibmm glib-2.0 core-image-minimal busybox"},
			{"layerItems/?orderby=index_preference!name:-!+", "name", "openembedded-core meta-oe meta-python meta-raspberrypi"},
			{"branches/", "name", "master scarthgap"},
			{"branches/?orderby=name:-", "name", "scarthgap master"},
			{"branches/?orderby=name:-&orderby=name:%2B", "name", "master scarthgap"},
		}
		for _, c := range order {
			if got := strings.Join(strs(list(t, e.api+c.url), c.key), " "); got != c.want {
				t.Errorf("%s: %q, want %q", c.url, got, c.want)
			}
		}
		// Default order is by id, so a list is stable between requests.
		rows := list(t, e.api+"recipes/")
		if got := ids(rows); !slices.IsSorted(got) || len(got) != 9 {
			t.Errorf("recipes default order: %v", got)
		}
	})
}

// TestBadInput sends every resource the mistakes a client can make: each
// gets a JSON error with the right code, never a 500.
func TestBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d)
		unpublished := e.fx.LayerBranch["meta-submitted/master"].ID
		expect := func(method, u string, code int, want string) {
			t.Helper()
			r := do(t, method, u)
			var body map[string]string
			if r.code != code || json.Unmarshal(r.body, &body) != nil || !strings.Contains(body["detail"], want) ||
				!strings.HasPrefix(r.hdr.Get("Content-Type"), "application/json") {
				t.Errorf("%s %s: %d %s, want %d with %q", method, u, r.code, r.body, code, want)
			}
			if r.hdr.Get("ETag") != "" {
				t.Errorf("%s %s: an error carries an ETag", method, u)
			}
		}
		for _, name := range rootOrder {
			base := e.api + name + "/"
			expect("GET", base+"999999/", 404, "Not found.")
			expect("GET", base+"abc/", 404, "Not found.")
			expect("GET", base+"0/", 404, "Not found.")
			expect("GET", base+"-1/", 404, "Not found.")
			expect("GET", base+"?filter=nosuchfield:x", 400, `no field "nosuchfield"`)
			expect("GET", base+"?filter=junk", 400, "expected field:value")
			expect("GET", base+"?filter=id!id:1", 400, "2 fields but 1 values")
			expect("GET", base+"?filter=id:abc", 400, "not an integer")
			expect("GET", base+"?filter=id__regex:a", 400, "not a lookup")
			expect("GET", base+"?filter=:x", 400, "empty field name")
			expect("GET", base+"?filter=id__isnull:maybe", 400, "not true or false")
			expect("GET", base+"?filter=id__in:1,x", 400, "not an integer")
			expect("GET", base+"?filter=id__icontains:1", 400, "does not apply")
			expect("GET", base+"?orderby=nosuch:%2B", 400, "cannot order")
			expect("GET", base+"?orderby=id:sideways", 400, "neither + nor -")
			expect("GET", base+"?orderby=id!name:-", 400, "2 fields but 1 directions")
			expect("GET", base+"?filter=id:1%zz", 400, `"1%zz" is not an integer`)
			expect("GET", base+"?filter=id:%00", 400, "not UTF-8 text")
			expect("GET", base+"?search=%ff", 400, "not UTF-8 text")
			expect("GET", base+"?format=xml", 404, "Not found.")
			for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
				expect(m, base, 403, "Authentication credentials were not provided.")
				expect(m, base+"1/", 403, "Authentication credentials were not provided.")
			}
		}
		expect("GET", e.api+"recipes/?filter=layerbranch__nosuch__name:x", 400, `LayerBranch has no field "nosuch"`)
		expect("GET", e.api+"recipes/?filter=pn__name:x", 400, "is a field, not a relation")
		expect("GET", e.api+"recipes/?filter=updated__gt:yesterday", 400, "not a date")
		expect("GET", e.api+"layerBranches/?filter=updates_enabled:maybe", 400, "not true or false")
		expect("GET", e.api+"layerDependencies/?search=x", 400, "no text fields")
		expect("GET", e.api+"recipes/?filter=layerbranch"+strings.Repeat("__layer__layerbranch", 5)+"__id:1", 400, "more than 8 relations")
		expect("GET", e.api+"recipes/?filter=pn:"+strings.Repeat("aOR", 70), 400, "more than 64 comparisons")
		expect("GET", e.api+"recipes/?filter=id__in:"+strings.Repeat("1,", 1000)+"1", 400, "more than 1000 values")
		expect("GET", e.api+"recipes/?search="+strings.Repeat("a+", 17), 400, "more than 16 terms")
		expect("GET", e.api+"recipes/?orderby="+strings.Repeat("pn,", 9), 400, "more than 8 fields")
		if r := get(t, e.api+"recipes/?filter=layerbranch__layer__layerbranch__branch__name:master"); r.code != 200 {
			t.Errorf("a deep but reasonable path: %d %s", r.code, r.body)
		}
		// Upstream (DRF's PageNumberPagination) answers every bad page so.
		for _, p := range []string{"abc", "0", "-1", "2", "1.0", "99999999999999999999"} {
			expect("GET", e.api+"recipesExtended/?page="+p, 404, "Invalid page.")
		}
		expect("GET", e.api+"layerItems/"+fmt.Sprint(e.fx.Layers["meta-submitted"].ID)+"/", 404, "Not found.")
		expect("GET", e.api+"layerBranches/"+fmt.Sprint(unpublished)+"/", 404, "Not found.")
		expect("GET", e.api+"layers/"+fmt.Sprint(unpublished)+"/", 404, "Not found.")
		expect("GET", e.api+"nosuch/", 404, "Not found.")
		expect("GET", e.api+"recipes/1/extra/", 404, "Not")
		expect("POST", e.api, 403, "Authentication credentials were not provided.")

		// Junk that upstream tolerated stays tolerated.
		for _, u := range []string{"recipes/?filter=", "recipes/?search=", "recipes/?orderby=", "recipes/?unknown=1",
			"recipes/?format=json", "recipes.json", "recipes/1.json", ".json", "recipesExtended/?page=last",
			"recipesExtended/?page=1", "recipesExtended/?page=+1", "recipesExtended/?page=%201%20", "recipes/?page=abc",
			"recipes/?filter=pn:" + url.QueryEscape("'\";--") + "%"} {
			if r := get(t, e.api+u); r.code != 200 {
				t.Errorf("%s: %d %s", u, r.code, r.body)
			}
		}
		// OPTIONS answers like upstream's; a CORS preflight is allowed.
		if r := do(t, http.MethodOptions, e.api+"recipes/"); r.code != 204 || !strings.Contains(r.hdr.Get("Allow"), "GET") {
			t.Errorf("OPTIONS: %d %v", r.code, r.hdr)
		}
		r := do(t, http.MethodOptions, e.api+"recipes/", "Origin", "https://example.org", "Access-Control-Request-Method", "GET")
		if r.code >= 300 || r.hdr.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("preflight: %d %v", r.code, r.hdr)
		}
	})
}
