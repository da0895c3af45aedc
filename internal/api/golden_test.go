package api_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
)

// upstreamKeys are the JSON keys of each resource in response order, as
// listed in shared/docs/layerindex.md §4.2 (verified against upstream's
// serializers).
var upstreamKeys = map[string]string{
	"branches":          "id, name, bitbake_branch, short_description, sort_priority, updates_enabled, comparison, hidden, updated, update_environment",
	"layerItems":        "id, name, status, layer_type, summary, description, vcs_url, vcs_web_url, vcs_web_tree_base_url, vcs_web_file_base_url, vcs_web_commit_url, usage_url, mailing_list_url, index_preference, comparison, updated, master_for_compatible",
	"layerBranches":     "id, collection, version, vcs_subdir, vcs_last_fetch, vcs_last_rev, vcs_last_commit, actual_branch, local_path, updates_enabled, updated, layer, branch, yp_compatible_version, layerseries_compat, layerseries_corenames, follows_master",
	"layerDependencies": "id, required, layerbranch, dependency",
	"layerMaintainers":  "id, name, email, responsibility, status, layerbranch",
	"layerNotes":        "id, text, layer",
	"recipes":           "id, filename, filepath, pn, pv, pr, pe, summary, description, section, license, homepage, bugtracker, provides, bbclassextend, inherits, updated, blacklisted, configopts, srcrev, layerbranch",
	"recipesExtended":   "id, sources, patches, package_configs, staticbuilddeps, filedeps, filename, filepath, pn, pv, pr, pe, summary, description, section, license, homepage, bugtracker, provides, bbclassextend, inherits, updated, blacklisted, configopts, srcrev, layerbranch",
	"machines":          "id, name, description, updated, layerbranch",
	"distros":           "id, name, description, updated, layerbranch",
	"classes":           "id, name, bbclass_type, layerbranch",
	"layers":            "id, branch, layer, yp_compatible_version, maintainers, collection, version, vcs_subdir, vcs_last_fetch, vcs_last_rev, vcs_last_commit, actual_branch, local_path, updates_enabled, updated",
	"appends":           "id, filename, filepath, layerbranch",
	"incFiles":          "id, path, layerbranch",
	// Not upstream's (issue 14).
	"layerSets": "id, name, description, branch, layers, machine, distro, recommends, updated",
}

var subKeys = map[string]string{
	"sources":         "url, sha256sum",
	"patches":         "path, src_path, status, status_extra, apply_order, applied, striplevel",
	"package_configs": "builddeps, feature, with_option, without_option",
	"filedeps":        "path, layerbranch",
	"layers.branch":   "id, name",
	"layers.yp":       "id, name, description, image_url, link_url",
	"layers.maint":    "name, email, responsibility",
}

var rootOrder = []string{"branches", "layerItems", "layerBranches", "layerDependencies", "layerMaintainers", "layerNotes",
	"recipes", "recipesExtended", "machines", "distros", "classes", "layers", "appends", "incFiles", "layerSets"}

func split(s string) []string { return strings.Split(s, ", ") }

func checkKeys(t *testing.T, what string, raw []byte, want string) map[string]json.RawMessage {
	t.Helper()
	keys, vals := keyOrder(t, raw)
	if !slices.Equal(keys, split(want)) {
		t.Errorf("%s keys:\n got  %s\n want %s", what, strings.Join(keys, ", "), want)
	}
	return vals
}

// TestKeysAndOrder is the golden test: for the fixture index, every
// resource's list and detail objects have upstream's keys in upstream's
// order, the root lists every resource, and nested objects match too.
func TestKeysAndOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d)
		// A Yocto Project Compatible badge, so "layers" nests one.
		e.db.Gorm.Exec(`INSERT INTO yp_compatible_versions (name, description, image_url, link_url) VALUES ('5.0', 'Yocto Project 5.0', 'https://example.org/yp.png', 'https://example.org/yp')`)
		e.db.Gorm.Exec(`UPDATE layer_branches SET yp_compatible_version_id = (SELECT id FROM yp_compatible_versions) WHERE id = ?`, e.fx.LayerBranch["meta-raspberrypi/master"].ID)
		e.db.Gorm.Exec(`INSERT INTO recipe_patches (recipe_id, path, src_path, status, apply_order) VALUES (?, 'recipes-core/zlib/files/fix.patch', 'files/fix.patch', 'B', 1)`, e.fx.Recipes["openembedded-core/master/zlib"])

		root := get(t, e.api)
		if root.code != 200 {
			t.Fatalf("root: %d %s", root.code, root.body)
		}
		keys, vals := keyOrder(t, root.body)
		if !slices.Equal(keys, rootOrder) {
			t.Errorf("root keys %v", keys)
		}
		for _, k := range keys {
			var u string
			json.Unmarshal(vals[k], &u)
			if u != e.api+k+"/" {
				t.Errorf("root link %s = %s", k, u)
			}
		}

		for name, want := range upstreamKeys {
			url := e.api + name + "/"
			r := get(t, url)
			if r.code != 200 {
				t.Fatalf("%s: %d %s", name, r.code, r.body)
			}
			body := r.body
			if name == "recipesExtended" {
				pk, pv := keyOrder(t, body)
				if !slices.Equal(pk, []string{"count", "next", "previous", "results"}) {
					t.Errorf("recipesExtended envelope %v", pk)
				}
				body = pv["results"]
			}
			items := rawItems(t, body)
			if len(items) == 0 {
				t.Fatalf("%s: empty in the fixture", name)
			}
			for _, it := range items {
				v := checkKeys(t, name, it, want)
				switch name {
				case "recipesExtended":
					for _, sub := range []string{"sources", "patches", "package_configs", "filedeps"} {
						for _, x := range rawItems(t, v[sub]) {
							checkKeys(t, name+"."+sub, x, subKeys[sub])
						}
					}
				case "layers":
					checkKeys(t, "layers.branch", v["branch"], subKeys["layers.branch"])
					checkKeys(t, "layers.layer", v["layer"], upstreamKeys["layerItems"])
					if string(v["yp_compatible_version"]) != "null" {
						checkKeys(t, "layers.yp_compatible_version", v["yp_compatible_version"], subKeys["layers.yp"])
					}
					for _, x := range rawItems(t, v["maintainers"]) {
						checkKeys(t, "layers.maintainers", x, subKeys["layers.maint"])
					}
				}
			}
			// The detail view of the first row is the same object.
			first := map[string]any{}
			json.Unmarshal(items[0], &first)
			id := first["id"].(float64)
			dr := get(t, url+jsonNumber(id)+"/")
			if dr.code != 200 {
				t.Fatalf("%s detail: %d %s", name, dr.code, dr.body)
			}
			if string(dr.body) != string(items[0]) {
				t.Errorf("%s detail differs from its list entry:\n%s\n%s", name, dr.body, items[0])
			}
		}

		// Every kind of nested content appeared at least once.
		ext := get(t, e.api+"recipesExtended/?filter=pn:zlib").body
		for _, s := range []string{`"patches":[{"path":"recipes-core/zlib/files/fix.patch"`, `"builddeps":["openssl"]`, `"filedeps":[{"path":"recipes-core/zlib/zlib.inc"`, `"sources":[{"url":"https://zlib.net/zlib-1.3.1.tar.xz","sha256sum":""}]`} {
			if !strings.Contains(string(ext), s) {
				t.Errorf("recipesExtended lacks %s:\n%s", s, ext)
			}
		}
		layers := get(t, e.api+"layers/?filter=layer__name:meta-raspberrypi").body
		if !strings.Contains(string(layers), `"yp_compatible_version":{"id":`) || strings.Contains(string(layers), "Former Maintainer") {
			t.Errorf("layers: nested badge missing or inactive maintainer listed:\n%s", layers)
		}
	})
}

func jsonNumber(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// TestDates checks that dates are real ISO 8601 with the offset: the
// fixture's commit time 13:45:59 in August is served as such, where
// upstream's format gave "…T13:08:59+0000".
func TestDates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d)
		rows := list(t, e.api+"layerBranches/?filter=layer__name!branch__name:meta-oe!master")
		if len(rows) != 1 {
			t.Fatalf("%d rows", len(rows))
		}
		if got := rows[0]["vcs_last_commit"]; got != "2026-08-22T13:45:59+00:00" {
			t.Errorf("vcs_last_commit = %v", got)
		}
		iso := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$`)
		for _, u := range []string{"branches/", "layerItems/", "layerBranches/", "recipes/", "machines/", "distros/"} {
			for _, r := range list(t, e.api+u) {
				for _, k := range []string{"updated", "vcs_last_fetch", "vcs_last_commit"} {
					if v, ok := r[k]; ok && v != nil && !iso.MatchString(v.(string)) {
						t.Errorf("%s %s = %q is not ISO 8601 to the second with offset", u, k, v)
					}
				}
			}
		}
	})
}
