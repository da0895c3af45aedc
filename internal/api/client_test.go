package api_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"layerindex/internal/corpus"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/prereq"
)

// bbIndex is what bitbake's layerindexlib keeps of an index: objects by id
// per endpoint, in the order they were added.
type bbIndex struct {
	apilinks map[string]string
	objs     map[string]map[int64]map[string]any
	order    map[string][]int64
}

// bbFetch does what bitbake's restapi plugin (lib/layerindexlib/restapi.py)
// does for `bitbake-layers layerindex-fetch`, request by request: the root
// link map, branches filtered by an OR of names, every layerItem, then per
// branch its layerBranches and the endpoints in load filtered by
// layerbranch__branch__name. Like bitbake it insists on JSON arrays of
// objects with integer ids and rejects a repeated id with other content.
func bbFetch(t *testing.T, apiURL string, branches []string, load []string) *bbIndex {
	t.Helper()
	getJSON := func(u string) any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("User-Agent", "Mozilla/5.0 (bitbake/lib/layerindex)")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("bitbake would fail: GET %s: HTTP %d", u, resp.StatusCode)
		}
		var v any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		return v
	}
	idx := &bbIndex{objs: map[string]map[int64]map[string]any{}, order: map[string][]int64{}}
	root, ok := getJSON(apiURL).(map[string]any)
	if !ok {
		t.Fatalf("root is not an object")
	}
	idx.apilinks = map[string]string{}
	for k, v := range root {
		idx.apilinks[k] = v.(string)
	}
	add := func(name string, v any) {
		t.Helper()
		items, ok := v.([]any)
		if !ok {
			t.Fatalf("%s: TypeError: data (%T) is not a dict", name, v) // what bitbake raises on an envelope
		}
		if idx.objs[name] == nil {
			idx.objs[name] = map[int64]map[string]any{}
		}
		for _, it := range items {
			o, ok := it.(map[string]any)
			if !ok {
				t.Fatalf("%s: an item is not an object", name)
			}
			f, ok := o["id"].(float64)
			if !ok || f != math.Trunc(f) {
				t.Fatalf("%s: id %v is not an integer", name, o["id"])
			}
			id := int64(f)
			if old, dup := idx.objs[name][id]; dup {
				if !reflect.DeepEqual(old, o) {
					t.Fatalf("%s: Conflict adding object (%d)", name, id)
				}
				continue
			}
			idx.objs[name][id] = o
			idx.order[name] = append(idx.order[name], id)
		}
	}
	add("branches", getJSON(idx.apilinks["branches"]+"?filter=name:"+strings.Join(branches, "OR")))
	add("layerItems", getJSON(idx.apilinks["layerItems"]))
	for _, bid := range idx.order["branches"] {
		b := idx.objs["branches"][bid]["name"].(string)
		add("layerBranches", getJSON(idx.apilinks["layerBranches"]+"?filter=branch__name:"+b))
		for _, l := range load {
			add(l, getJSON(idx.apilinks[l]+"?filter=layerbranch__branch__name:"+b))
		}
	}
	return idx
}

func num(o map[string]any, k string) int64 { return int64(o[k].(float64)) }

// layerBranch finds a layer's layer branch on the first branch loaded
// (bitbake's find_layerbranch).
func (x *bbIndex) layerBranch(t *testing.T, layerID, branchID int64) map[string]any {
	for _, id := range x.order["layerBranches"] {
		lb := x.objs["layerBranches"][id]
		if num(lb, "layer") == layerID && num(lb, "branch") == branchID {
			return lb
		}
	}
	t.Fatalf("LayerBranch does not exist for layer %d on branch %d", layerID, branchID)
	return nil
}

// dependencies is bitbake's find_dependencies for one layer name on the
// first branch: depth-first over layerDependencies, each dependency's layer
// branch found as (dependency layer, same branch). It returns "fetch plan"
// lines: name, vcs_url, the git branch (actual_branch or the branch name)
// and the subdirectory, in bblayers order.
func (x *bbIndex) dependencies(t *testing.T, name string) []string {
	branchID := x.order["branches"][0]
	var layerID int64
	for id, l := range x.objs["layerItems"] {
		if l["name"] == name {
			layerID = id
		}
	}
	if layerID == 0 {
		t.Fatalf("layer %s not in the index", name)
	}
	var order []string
	done := map[string]bool{}
	var resolve func(lb map[string]any, processing []string)
	resolve = func(lb map[string]any, processing []string) {
		for _, id := range x.order["layerDependencies"] {
			dep := x.objs["layerDependencies"][id]
			if num(dep, "layerbranch") != num(lb, "id") {
				continue
			}
			_ = dep["required"].(bool)
			dlb := x.layerBranch(t, num(dep, "dependency"), branchID)
			dname := x.objs["layerItems"][num(dlb, "layer")]["name"].(string)
			if strings.Contains(strings.Join(processing, " "), dname) {
				continue
			}
			if !done[dname] {
				resolve(dlb, append(append([]string{}, processing...), dname))
			}
			if !done[dname] {
				done[dname] = true
				order = append(order, x.plan(dlb))
			}
		}
	}
	lb := x.layerBranch(t, layerID, branchID)
	resolve(lb, nil)
	return append(order, x.plan(lb))
}

func (x *bbIndex) plan(lb map[string]any) string {
	layer := x.objs["layerItems"][num(lb, "layer")]
	branch := x.objs["branches"][num(lb, "branch")]
	gitBranch := lb["actual_branch"].(string)
	if gitBranch == "" {
		gitBranch = branch["name"].(string)
	}
	_ = branch["bitbake_branch"].(string)
	_ = branch["short_description"].(string)
	_ = layer["summary"].(string)
	_ = lb["collection"].(string)
	_ = lb["version"].(string)
	return fmt.Sprintf("%s %s %s %s", layer["name"], layer["vcs_url"], gitBranch, lb["vcs_subdir"])
}

// TestBitbakeClient runs a client that does what `bitbake-layers
// layerindex-fetch` does and resolves dependency chains from the fixture.
func TestBitbakeClient(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d)
		oe := "https://git.openembedded.org/meta-openembedded"
		core := "openembedded-core https://git.openembedded.org/openembedded-core master meta"

		x := bbFetch(t, e.api, []string{"master"}, []string{"layerDependencies"})
		if got := len(x.objs["layerBranches"]); got != 4 {
			t.Errorf("%d layer branches on master, want the 4 published", got)
		}
		for _, c := range []struct {
			layer string
			want  []string
		}{
			{"openembedded-core", []string{core}},
			{"meta-python", []string{core, "meta-oe " + oe + " master meta-oe", "meta-python " + oe + " master meta-python"}},
			{"meta-raspberrypi", []string{core, "meta-oe " + oe + " master meta-oe", "meta-python " + oe + " master meta-python",
				"meta-raspberrypi https://github.com/agherzan/meta-raspberrypi master "}},
		} {
			if got := x.dependencies(t, c.layer); !reflect.DeepEqual(got, c.want) {
				t.Errorf("dependencies of %s:\n got  %q\n want %q", c.layer, got, c.want)
			}
		}

		// Two branches at once, as with LAYERSERIES_CORENAMES: no id
		// conflicts, and the older branch resolves on its own.
		x = bbFetch(t, e.api, []string{"scarthgap", "master"}, []string{"layerDependencies", "recipes", "machines", "distros"})
		if len(x.objs["branches"]) != 2 || len(x.objs["layerBranches"]) != 6 || len(x.objs["recipes"]) != 9 {
			t.Errorf("two branches: %d branches, %d layer branches, %d recipes", len(x.objs["branches"]), len(x.objs["layerBranches"]), len(x.objs["recipes"]))
		}
		x.order["branches"] = []int64{e.fx.Branches["scarthgap"].ID}
		if got := x.dependencies(t, "meta-oe"); !reflect.DeepEqual(got, []string{
			"openembedded-core https://git.openembedded.org/openembedded-core scarthgap meta", "meta-oe " + oe + " scarthgap meta-oe"}) {
			t.Errorf("scarthgap meta-oe: %q", got)
		}
		// Toaster's fields (and the dates it stores) are there.
		for _, id := range x.order["recipes"] {
			r := x.objs["recipes"][id]
			for _, k := range []string{"pn", "pv", "filename", "filepath", "inherits", "summary", "description", "section", "license", "homepage", "bugtracker"} {
				if _, ok := r[k].(string); !ok {
					t.Fatalf("recipe %d: %s missing", id, k)
				}
			}
			if _, err := time.Parse(time.RFC3339, r["updated"].(string)); err != nil {
				t.Errorf("recipe updated: %v", err)
			}
		}
	})
}

// bitbakeScript runs bitbake's own layerindexlib against the server, then
// parses every date the way import_layers.py and Django do.
const bitbakeScript = `
import sys, datetime, json
sys.path.insert(0, sys.argv[1] + '/lib')
import layerindexlib
idx = layerindexlib.LayerIndex({'DUMMY': 'VALUE'})
idx.load_layerindex(sys.argv[2] + ';branch=master', load=['layerDependencies', 'recipes', 'machines', 'distros'])
deps, invalid = idx.find_dependencies(names=['meta-raspberrypi'])
out = []
for name, entries in deps.items():
    lb = entries[0]
    out.append('%s %s %s %s' % (lb.layer.name, lb.layer.vcs_url, lb.actual_branch, lb.vcs_subdir))
    for when in (lb.layer.updated, lb.updated):
        datetime.datetime.strptime(when, '%Y-%m-%dT%H:%M:%S%z')
        datetime.datetime.fromisoformat(when)
print(json.dumps({'deps': out, 'invalid': invalid, 'recipes': len(idx.indexes[0].recipes)}))
`

// TestRealBitbake runs bitbake's real client (lib/layerindexlib, with no
// build environment) against the server: BitBake from the shared corpus,
// or the checkout $LAYERINDEX_BITBAKE points at. It shows the date fix
// does not disturb it.
func TestRealBitbake(t *testing.T) {
	dir := os.Getenv("LAYERINDEX_BITBAKE")
	if dir == "" {
		dir = corpus.Tree(t, corpus.Bare(t, "bitbake"), "HEAD", "lib")
	}
	py := prereq.Command(t, "python3", "apt-get install python3")
	e := newEnv(t, db.SQLite)
	script := filepath.Join(t.TempDir(), "client.py")
	os.WriteFile(script, []byte(bitbakeScript), 0o644)
	out, err := exec.Command(py, "-S", "-I", script, dir, e.api).Output()
	if err != nil {
		t.Fatalf("bitbake's client failed: %v\n%s", err, out)
	}
	var res struct {
		Deps    []string
		Invalid []string
		Recipes int
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	oe := "https://git.openembedded.org/meta-openembedded"
	want := []string{"openembedded-core https://git.openembedded.org/openembedded-core master meta",
		"meta-oe " + oe + " master meta-oe", "meta-python " + oe + " master meta-python",
		"meta-raspberrypi https://github.com/agherzan/meta-raspberrypi master "}
	if !reflect.DeepEqual(res.Deps, want) || len(res.Invalid) != 0 || res.Recipes != 7 {
		t.Errorf("bitbake resolved %+v", res)
	}
}
