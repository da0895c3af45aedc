package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file turns the REST API's query language (upstream's ?filter=,
// ?search= and ?orderby=, with Django lookup paths such as
// layerbranch__branch__name) into SQL. The API package parses the syntax;
// the names are resolved here, against a description of upstream's models,
// because they map to tables and columns.

// FilterOp says what an APIFilter node is.
type FilterOp int

const (
	FilterLeaf FilterOp = iota // Key compared with Value
	FilterAnd
	FilterOr
	FilterNot
)

// APIFilter is a parsed ?filter= expression: a tree of AND, OR and NOT over
// leaves that compare a Django lookup path (Key, e.g. "pn",
// "layerbranch__branch__name", "pn__icontains", "yp_compatible_version__isnull")
// with a string Value.
type APIFilter struct {
	Op    FilterOp
	Args  []*APIFilter // And, Or, Not (one)
	Key   string
	Value string
}

// APIOrder is one ?orderby= key.
type APIOrder struct {
	Field string
	Desc  bool
}

// APIQuery selects rows of an API resource.
type APIQuery struct {
	Filter  *APIFilter
	Search  []string // every term must appear in one of the model's text fields
	OrderBy []APIOrder
	ID      int64 // > 0: only this row (detail view)
}

// APIQueryError is a query the client got wrong (HTTP 400).
type APIQueryError struct {
	Param string // "filter", "orderby" or "search"
	Msg   string
}

func (e *APIQueryError) Error() string { return "invalid " + e.Param + ": " + e.Msg }

type fieldKind int

const (
	kText fieldKind = iota
	kInt
	kBool
	kTime
)

// apiField is a column of an upstream model under its Django name.
type apiField struct {
	name string
	col  string // column; "NULL" for a field upstream has and we do not
	kind fieldKind
	null bool // nullable: sorted last, isnull meaningful
	char bool // a Django CharField: searched by ?search=
}

// apiRel is a relation a lookup path can follow: a foreign key of this
// model (forward) or of another model pointing here (reverse).
type apiRel struct {
	name    string
	target  string // model name
	col     string // forward: our FK column; reverse: the target's FK column
	reverse bool
	null    bool
}

type apiModel struct {
	name    string
	table   string
	fields  []apiField
	rels    []apiRel
	visible string // predicate on alias %[1]s hiding unpublished layers; "" for none
	order   string // default ORDER BY on alias %[1]s, before the id
}

const (
	publishedLayers       = `SELECT pl.id FROM layers pl WHERE pl.status IN ('P', 'X')`
	publishedLayerBranchs = `SELECT plb.id FROM layer_branches plb JOIN layers pl ON pl.id = plb.layer_id WHERE pl.status IN ('P', 'X')`
	visibleByLayer        = `%[1]s.layer_id IN (` + publishedLayers + `)`
	visibleByLayerBranch  = `%[1]s.layer_branch_id IN (` + publishedLayerBranchs + `)`
)

func text(name string) apiField     { return apiField{name: name, col: name, kind: kText, char: true} }
func longText(name string) apiField { return apiField{name: name, col: name, kind: kText} }
func integer(name string) apiField  { return apiField{name: name, col: name, kind: kInt} }
func boolean(name string) apiField  { return apiField{name: name, col: name, kind: kBool} }
func updated() apiField             { return apiField{name: "updated", col: "updated_at", kind: kTime} }
func fk(name, target, col string) apiRel {
	return apiRel{name: name, target: target, col: col}
}
func rev(name, target, col string) apiRel {
	return apiRel{name: name, target: target, col: col, reverse: true}
}

var lbChildren = []apiRel{
	rev("recipe", "Recipe", "layer_branch_id"), rev("machine", "Machine", "layer_branch_id"),
	rev("distro", "Distro", "layer_branch_id"), rev("bbclass", "BBClass", "layer_branch_id"),
	rev("bbappend", "BBAppend", "layer_branch_id"), rev("incfile", "IncFile", "layer_branch_id"),
	rev("layermaintainer", "LayerMaintainer", "layer_branch_id"),
	rev("dependencies_set", "LayerDependency", "layer_branch_id"),
}

// apiModels describes upstream's models as the API exposes them, with the
// field and relation names its lookups use.
var apiModels = map[string]*apiModel{
	"Branch": {name: "Branch", table: "branches",
		fields: []apiField{integer("id"), text("name"), text("bitbake_branch"), text("short_description"),
			{name: "sort_priority", col: "sort_priority", kind: kInt, null: true},
			boolean("updates_enabled"), boolean("comparison"), boolean("hidden"), updated(),
			{name: "update_environment", col: "NULL", kind: kInt, null: true}},
		rels:  []apiRel{rev("layerbranch", "LayerBranch", "branch_id")},
		order: "(%[1]s.sort_priority IS NULL), %[1]s.sort_priority"},
	"LayerItem": {name: "LayerItem", table: "layers",
		fields: []apiField{integer("id"), text("name"), text("status"), text("layer_type"), text("summary"),
			longText("description"), text("vcs_url"), text("vcs_web_url"), text("vcs_web_tree_base_url"),
			text("vcs_web_file_base_url"), text("vcs_web_commit_url"), text("usage_url"), text("mailing_list_url"),
			integer("index_preference"), boolean("comparison"), updated(),
			// Issue 14, after upstream's fields.
			boolean("master_for_compatible")},
		rels: []apiRel{rev("layerbranch", "LayerBranch", "layer_id"), rev("layernote", "LayerNote", "layer_id"),
			rev("dependents_set", "LayerDependency", "dependency_id")},
		visible: `%[1]s.status IN ('P', 'X')`},
	"LayerBranch": {name: "LayerBranch", table: "layer_branches",
		fields: []apiField{integer("id"), text("collection"), text("version"), text("vcs_subdir"),
			{name: "vcs_last_fetch", col: "vcs_last_fetch", kind: kTime, null: true}, text("vcs_last_rev"),
			{name: "vcs_last_commit", col: "vcs_last_commit", kind: kTime, null: true},
			text("actual_branch"), text("local_path"), boolean("updates_enabled"), updated(),
			// Issue 14, after upstream's fields.
			{name: "layerseries_compat", col: "series_compat", kind: kText, char: true},
			{name: "layerseries_corenames", col: "series_corenames", kind: kText, char: true},
			boolean("follows_master")},
		rels: append([]apiRel{fk("layer", "LayerItem", "layer_id"), fk("branch", "Branch", "branch_id"),
			{name: "yp_compatible_version", target: "YPCompatibleVersion", col: "yp_compatible_version_id", null: true}},
			lbChildren...),
		visible: visibleByLayer},
	// LayerSet is not upstream's: the administrators' published layer sets
	// (issue 14), each a bitbake-setup configuration.
	"LayerSet": {name: "LayerSet", table: "layer_sets",
		fields: []apiField{integer("id"), text("name"), longText("description"), text("machine"), text("distro"),
			boolean("recommends"), updated()},
		rels:    []apiRel{fk("branch", "Branch", "branch_id")},
		visible: `%[1]s.published`,
		order:   "%[1]s.name"},
	"YPCompatibleVersion": {name: "YPCompatibleVersion", table: "yp_compatible_versions",
		fields: []apiField{integer("id"), text("name"), longText("description"), text("image_url"), text("link_url")},
		rels:   []apiRel{rev("layerbranch", "LayerBranch", "yp_compatible_version_id")},
		order:  "%[1]s.name"},
	"LayerDependency": {name: "LayerDependency", table: "layer_dependencies",
		fields:  []apiField{integer("id"), boolean("required")},
		rels:    []apiRel{fk("layerbranch", "LayerBranch", "layer_branch_id"), fk("dependency", "LayerItem", "dependency_id")},
		visible: visibleByLayerBranch},
	"LayerMaintainer": {name: "LayerMaintainer", table: "layer_maintainers",
		fields:  []apiField{integer("id"), text("name"), text("email"), text("responsibility"), text("status")},
		rels:    []apiRel{fk("layerbranch", "LayerBranch", "layer_branch_id")},
		visible: visibleByLayerBranch},
	"LayerNote": {name: "LayerNote", table: "layer_notes",
		fields:  []apiField{integer("id"), longText("text")},
		rels:    []apiRel{fk("layer", "LayerItem", "layer_id")},
		visible: visibleByLayer},
	"Recipe": {name: "Recipe", table: "recipes",
		fields: []apiField{integer("id"), text("filename"), text("filepath"), text("pn"), text("pv"), text("pr"), text("pe"),
			text("summary"), longText("description"), text("section"), text("license"), text("homepage"), text("bugtracker"),
			text("provides"), text("bbclassextend"), text("inherits"), updated(), text("blacklisted"), text("configopts"),
			text("srcrev")},
		rels: []apiRel{fk("layerbranch", "LayerBranch", "layer_branch_id"),
			rev("source", "Source", "recipe_id"), rev("patch", "Patch", "recipe_id"),
			rev("packageconfig", "PackageConfig", "recipe_id"), rev("staticbuilddep", "StaticBuildDep", "recipe_id"),
			rev("recipefiledependency", "RecipeFileDependency", "recipe_id")},
		visible: visibleByLayerBranch},
	"Source": {name: "Source", table: "recipe_sources",
		fields: []apiField{integer("id"), text("url"), text("sha256sum")},
		rels:   []apiRel{fk("recipe", "Recipe", "recipe_id")}},
	"Patch": {name: "Patch", table: "recipe_patches",
		fields: []apiField{integer("id"), text("path"), text("src_path"), text("status"), text("status_extra"),
			{name: "apply_order", col: "apply_order", kind: kInt, null: true}, boolean("applied"), integer("striplevel")},
		rels: []apiRel{fk("recipe", "Recipe", "recipe_id")}},
	"PackageConfig": {name: "PackageConfig", table: "recipe_package_configs",
		fields: []apiField{integer("id"), text("feature"), text("with_option"), text("without_option"),
			{name: "build_deps", col: "build_deps", kind: kText, char: true}},
		rels: []apiRel{fk("recipe", "Recipe", "recipe_id")}},
	"StaticBuildDep": {name: "StaticBuildDep", table: "recipe_build_deps",
		fields: []apiField{integer("id"), text("name")},
		rels:   []apiRel{fk("recipes", "Recipe", "recipe_id")}},
	"RecipeFileDependency": {name: "RecipeFileDependency", table: "recipe_file_deps",
		fields: []apiField{integer("id"), text("path")},
		rels:   []apiRel{fk("recipe", "Recipe", "recipe_id"), fk("layerbranch", "LayerBranch", "layer_branch_id")}},
	"Machine": {name: "Machine", table: "machines",
		fields:  []apiField{integer("id"), text("name"), text("description"), updated()},
		rels:    []apiRel{fk("layerbranch", "LayerBranch", "layer_branch_id")},
		visible: visibleByLayerBranch},
	"Distro": {name: "Distro", table: "distros",
		fields:  []apiField{integer("id"), text("name"), text("description"), updated()},
		rels:    []apiRel{fk("layerbranch", "LayerBranch", "layer_branch_id")},
		visible: visibleByLayerBranch},
	"BBClass": {name: "BBClass", table: "bbclasses",
		fields:  []apiField{integer("id"), text("name"), text("bbclass_type")},
		rels:    []apiRel{fk("layerbranch", "LayerBranch", "layer_branch_id")},
		visible: visibleByLayerBranch},
	"BBAppend": {name: "BBAppend", table: "bbappends",
		fields:  []apiField{integer("id"), text("filename"), text("filepath")},
		rels:    []apiRel{fk("layerbranch", "LayerBranch", "layer_branch_id")},
		visible: visibleByLayerBranch},
	"IncFile": {name: "IncFile", table: "inc_files",
		fields:  []apiField{integer("id"), text("path")},
		rels:    []apiRel{fk("layerbranch", "LayerBranch", "layer_branch_id")},
		visible: visibleByLayerBranch},
}

func (m *apiModel) field(name string) *apiField {
	if name == "pk" {
		name = "id"
	}
	for i := range m.fields {
		if m.fields[i].name == name {
			return &m.fields[i]
		}
	}
	return nil
}

func (m *apiModel) rel(name string) *apiRel {
	for i := range m.rels {
		if m.rels[i].name == name {
			return &m.rels[i]
		}
	}
	return nil
}

// names lists what a lookup path may start with, for error messages.
func (m *apiModel) names() string {
	var ns []string
	for _, f := range m.fields {
		ns = append(ns, f.name)
	}
	for _, r := range m.rels {
		ns = append(ns, r.name)
	}
	return strings.Join(ns, ", ")
}

var lookups = map[string][]fieldKind{
	"exact": {kText, kInt, kBool, kTime}, "iexact": {kText},
	"contains": {kText}, "icontains": {kText}, "startswith": {kText}, "istartswith": {kText},
	"endswith": {kText}, "iendswith": {kText},
	"gt": {kText, kInt, kTime}, "gte": {kText, kInt, kTime}, "lt": {kText, kInt, kTime}, "lte": {kText, kInt, kTime},
	"in": {kText, kInt, kTime}, "isnull": {kText, kInt, kBool, kTime},
}

// sqlBuilder accumulates SQL and its arguments for one query.
type sqlBuilder struct {
	pg     bool
	args   []any
	nalias int
}

func (b *sqlBuilder) alias() string {
	b.nalias++
	return "t" + strconv.Itoa(b.nalias)
}

func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "?"
}

func visible(m *apiModel, alias string) string {
	if m.visible == "" {
		return ""
	}
	return fmt.Sprintf(m.visible, alias)
}

func and(parts ...string) string {
	var ps []string
	for _, p := range parts {
		if p != "" {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return "TRUE"
	}
	return strings.Join(ps, " AND ")
}

// filter compiles a filter tree on model m at alias a.
func (b *sqlBuilder) filter(m *apiModel, a string, f *APIFilter) (string, error) {
	switch f.Op {
	case FilterAnd, FilterOr:
		op := " AND "
		args := f.Args
		var parts []string
		if f.Op == FilterOr {
			op = " OR "
		} else {
			var err error
			if parts, args, err = b.sameRow(m, a, args); err != nil {
				return "", err
			}
		}
		for _, x := range args {
			s, err := b.filter(m, a, x)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return "(" + strings.Join(parts, op) + ")", nil
	case FilterNot:
		s, err := b.filter(m, a, f.Args[0])
		if err != nil {
			return "", err
		}
		// IS NOT TRUE also keeps rows where the comparison is NULL, as
		// Django's exclude() does.
		return "((" + s + ") IS NOT TRUE)", nil
	}
	if f.Key == "" {
		return "", &APIQueryError{"filter", "empty field name"}
	}
	return b.leaf(m, a, strings.Split(f.Key, "__"), f.Key, f.Value)
}

// sameRow compiles the AND-ed comparisons that go through the same
// multi-valued (reverse) relation as one subquery, so they must hold for
// the same related row: Django joins such a relation once per filter(), so
// layerItems?filter=layerbranch__branch__name!layerbranch__version:master!14
// wants a layer branch on master with version 14, not any two. It returns
// the compiled groups and the conditions left to compile one by one.
func (b *sqlBuilder) sameRow(m *apiModel, a string, args []*APIFilter) (parts []string, rest []*APIFilter, err error) {
	groups := map[string][]*APIFilter{}
	var order []string
	for _, x := range args {
		seg := throughRel(x)
		if r := m.rel(seg); seg == "" || r == nil || !r.reverse {
			rest = append(rest, x)
			continue
		}
		if groups[seg] == nil {
			order = append(order, seg)
		}
		groups[seg] = append(groups[seg], x)
	}
	for _, seg := range order {
		g := groups[seg]
		if len(g) == 1 { // one condition: compiled alone, it means the same
			rest = append(rest, g[0])
			continue
		}
		r := m.rel(seg)
		target := apiModels[r.target]
		inner := &APIFilter{Op: FilterAnd}
		for _, x := range g {
			inner.Args = append(inner.Args, stripRel(x))
		}
		t := b.alias()
		c, err := b.filter(target, t, inner)
		if err != nil {
			return nil, nil, err
		}
		parts = append(parts, fmt.Sprintf("%s.id IN (SELECT %s.%s FROM %s %s WHERE %s)", a, t, r.col, target.table, t, and(visible(target, t), c)))
	}
	return parts, rest, nil
}

// throughRel returns the first path segment every comparison in x starts
// with, or "" when they differ, when x holds a NOT (Django excludes through
// a subquery of its own), or an isnull on the relation itself.
func throughRel(x *APIFilter) string {
	switch x.Op {
	case FilterNot:
		return ""
	case FilterAnd, FilterOr:
		seg := ""
		for i, y := range x.Args {
			s := throughRel(y)
			if s == "" || (i > 0 && s != seg) {
				return ""
			}
			seg = s
		}
		return seg
	}
	seg, tail, _ := strings.Cut(x.Key, "__")
	if tail == "isnull" {
		return ""
	}
	return seg
}

// stripRel copies x with the first path segment of each key removed; a
// comparison of the relation itself becomes one of the related row's id.
func stripRel(x *APIFilter) *APIFilter {
	if x.Op != FilterLeaf {
		y := &APIFilter{Op: x.Op}
		for _, a := range x.Args {
			y.Args = append(y.Args, stripRel(a))
		}
		return y
	}
	_, tail, _ := strings.Cut(x.Key, "__")
	switch {
	case tail == "":
		tail = "id"
	case lookups[tail] != nil:
		tail = "id__" + tail
	}
	return &APIFilter{Key: tail, Value: x.Value}
}

// leaf compiles one comparison: path is the lookup path split on "__".
func (b *sqlBuilder) leaf(m *apiModel, a string, path []string, key, value string) (string, error) {
	seg, rest := path[0], path[1:]
	if fd := m.field(seg); fd != nil {
		lookup := "exact"
		switch {
		case len(rest) == 1 && lookups[rest[0]] != nil:
			lookup = rest[0]
		case len(rest) > 0:
			return "", &APIQueryError{"filter", fmt.Sprintf("%q: %s.%s is a field, not a relation, and %q is not a lookup", key, m.name, seg, rest[0])}
		}
		col := fd.col
		if col != "NULL" {
			col = a + "." + col
		}
		return b.compare(col, fd, lookup, key, value)
	}
	r := m.rel(seg)
	if r == nil {
		return "", &APIQueryError{"filter", fmt.Sprintf("%q: %s has no field %q (it has %s)", key, m.name, seg, m.names())}
	}
	target := apiModels[r.target]
	// A relation compared directly, or through its id, compares the key.
	lookup := ""
	switch {
	case len(rest) == 0:
		lookup = "exact"
	case len(rest) == 1 && lookups[rest[0]] != nil:
		lookup = rest[0]
	case (rest[0] == "id" || rest[0] == "pk") && len(rest) == 1:
		lookup = "exact"
	case (rest[0] == "id" || rest[0] == "pk") && len(rest) == 2 && lookups[rest[1]] != nil:
		lookup = rest[1]
	}
	idField := &apiField{name: seg, kind: kInt, null: r.null}
	if lookup != "" && !r.reverse {
		return b.compare(a+"."+r.col, idField, lookup, key, value)
	}
	t := b.alias()
	var inner string
	var err error
	if lookup != "" {
		if lookup == "isnull" {
			isNull, err := parseBool(value)
			if err != nil {
				return "", &APIQueryError{"filter", fmt.Sprintf("%q: %v", key, err)}
			}
			sub := fmt.Sprintf("%s.id IN (SELECT %s.%s FROM %s %s WHERE %s)", a, t, r.col, target.table, t, and(visible(target, t)))
			if isNull {
				return "(NOT " + sub + ")", nil
			}
			return sub, nil
		}
		inner, err = b.compare(t+".id", idField, lookup, key, value)
	} else {
		inner, err = b.leaf(target, t, rest, key, value)
	}
	if err != nil {
		return "", err
	}
	if r.reverse {
		return fmt.Sprintf("%s.id IN (SELECT %s.%s FROM %s %s WHERE %s)", a, t, r.col, target.table, t, and(visible(target, t), inner)), nil
	}
	return fmt.Sprintf("%s.%s IN (SELECT %s.id FROM %s %s WHERE %s)", a, r.col, t, target.table, t, and(visible(target, t), inner)), nil
}

// compare compiles "col <lookup> value" with the value converted to the
// field's type.
func (b *sqlBuilder) compare(col string, fd *apiField, lookup, key, value string) (string, error) {
	if !slices.Contains(lookups[lookup], fd.kind) {
		return "", &APIQueryError{"filter", fmt.Sprintf("%q: lookup %q does not apply to %s", key, lookup, fd.name)}
	}
	bad := func(err error) error { return &APIQueryError{"filter", fmt.Sprintf("%q: %v", key, err)} }
	if lookup == "isnull" {
		isNull, err := parseBool(value)
		if err != nil {
			return "", bad(err)
		}
		if isNull {
			return col + " IS NULL", nil
		}
		return col + " IS NOT NULL", nil
	}
	if lookup == "in" {
		var ps []string
		for _, v := range strings.Split(value, ",") {
			x, err := convert(fd.kind, v)
			if err != nil {
				return "", bad(err)
			}
			ps = append(ps, b.arg(x))
		}
		return col + " IN (" + strings.Join(ps, ", ") + ")", nil
	}
	x, err := convert(fd.kind, value)
	if err != nil {
		return "", bad(err)
	}
	pos := "instr"
	if b.pg {
		pos = "strpos"
	}
	lower := strings.ToLower(value)
	switch lookup {
	case "exact":
		return col + " = " + b.arg(x), nil
	case "iexact":
		return "lower(" + col + ") = " + b.arg(lower), nil
	case "contains":
		return pos + "(" + col + ", " + b.arg(value) + ") > 0", nil
	case "icontains":
		return pos + "(lower(" + col + "), " + b.arg(lower) + ") > 0", nil
	case "startswith":
		return "substr(" + col + ", 1, " + strconv.Itoa(len([]rune(value))) + ") = " + b.arg(value), nil
	case "istartswith":
		return "lower(substr(" + col + ", 1, " + strconv.Itoa(len([]rune(value))) + ")) = " + b.arg(lower), nil
	case "endswith", "iendswith":
		n := len([]rune(value))
		expr := "substr(" + col + ", length(" + col + ") - " + strconv.Itoa(n-1) + ")"
		if n == 0 {
			return "TRUE", nil
		}
		if lookup == "iendswith" {
			return "(length(" + col + ") >= " + strconv.Itoa(n) + " AND lower(" + expr + ") = " + b.arg(lower) + ")", nil
		}
		return "(length(" + col + ") >= " + strconv.Itoa(n) + " AND " + expr + " = " + b.arg(value) + ")", nil
	case "gt":
		return col + " > " + b.arg(x), nil
	case "gte":
		return col + " >= " + b.arg(x), nil
	case "lt":
		return col + " < " + b.arg(x), nil
	case "lte":
		return col + " <= " + b.arg(x), nil
	}
	return "", bad(fmt.Errorf("unknown lookup %q", lookup))
}

func convert(k fieldKind, v string) (any, error) {
	switch k {
	case kInt:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", v)
		}
		return n, nil
	case kBool:
		return parseBool(v)
	case kTime:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05-0700", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t.UTC(), nil
			}
		}
		return nil, fmt.Errorf("%q is not a date and time (use 2006-01-02T15:04:05+00:00)", v)
	}
	return v, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "t", "1":
		return true, nil
	case "false", "f", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", v)
}

// search compiles ?search=: every term appears, case-insensitively, in at
// least one of the model's text fields.
func (b *sqlBuilder) search(m *apiModel, a string, terms []string) (string, error) {
	var cols []string
	for _, f := range m.fields {
		if f.char && f.col != "NULL" {
			cols = append(cols, f.col)
		}
	}
	if len(cols) == 0 {
		return "", &APIQueryError{"search", m.name + " has no text fields to search"}
	}
	pos := "instr"
	if b.pg {
		pos = "strpos"
	}
	var ands []string
	for _, term := range terms {
		var ors []string
		for _, c := range cols {
			ors = append(ors, pos+"(lower("+a+"."+c+"), "+b.arg(strings.ToLower(term))+") > 0")
		}
		ands = append(ands, "("+strings.Join(ors, " OR ")+")")
	}
	return strings.Join(ands, " AND "), nil
}

// orderBy compiles ?orderby= keys: direct fields and foreign keys.
func (b *sqlBuilder) orderBy(m *apiModel, a string, keys []APIOrder) (string, error) {
	var parts []string
	for _, k := range keys {
		col, null, isText := "", false, false
		if fd := m.field(k.Field); fd != nil && fd.col != "NULL" {
			col, null, isText = a+"."+fd.col, fd.null, fd.kind == kText
		} else if r := m.rel(k.Field); r != nil && !r.reverse {
			col, null = a+"."+r.col, r.null
		} else {
			var ns []string
			for _, f := range m.fields {
				if f.col != "NULL" {
					ns = append(ns, f.name)
				}
			}
			for _, r := range m.rels {
				if !r.reverse {
					ns = append(ns, r.name)
				}
			}
			return "", &APIQueryError{"orderby", fmt.Sprintf("cannot order %s by %q (fields: %s)", m.name, k.Field, strings.Join(ns, ", "))}
		}
		if null {
			parts = append(parts, "("+col+" IS NULL)")
		}
		if isText && b.pg {
			col += ` COLLATE "C"` // byte order, as on SQLite
		}
		if k.Desc {
			col += " DESC"
		}
		parts = append(parts, col)
	}
	return strings.Join(parts, ", "), nil
}

// APIMatchIDs returns the ids of the rows of model (an upstream model name:
// Branch, LayerItem, LayerBranch, …) that q selects, in the order they are
// served. Mistakes in q are *APIQueryError.
func (s *Store) APIMatchIDs(ctx context.Context, model string, q *APIQuery) ([]int64, error) {
	sql, args, err := s.apiSelect(model, q, "t0.id")
	if err != nil {
		return nil, err
	}
	rows, err := s.with(ctx).Raw(sql, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// apiSelect compiles q on model into one SELECT of cols (expressions on the
// alias t0 of the model's table) in the order rows are served: by the
// model's default order or ?orderby=, then by id.
func (s *Store) apiSelect(model string, q *APIQuery, cols string) (string, []any, error) {
	return s.apiSelectWhere(model, q, cols, "")
}

// apiSelectWhere is apiSelect with one more condition on t0 (SQL without
// arguments; "" for none).
func (s *Store) apiSelectWhere(model string, q *APIQuery, cols, extra string) (string, []any, error) {
	m := apiModels[model]
	if m == nil {
		return "", nil, fmt.Errorf("no API model %q", model)
	}
	b := &sqlBuilder{pg: s.db.Dialector.Name() == "postgres"}
	query, err := b.selectWhere(m, q, cols, extra)
	return query, b.args, err
}

// selectWhere compiles q on m as apiSelectWhere does, its arguments added
// to b's.
func (b *sqlBuilder) selectWhere(m *apiModel, q *APIQuery, cols, extra string) (string, error) {
	const a = "t0"
	conds := []string{visible(m, a)}
	if q.Filter != nil {
		c, err := b.filter(m, a, q.Filter)
		if err != nil {
			return "", err
		}
		conds = append(conds, c)
	}
	if len(q.Search) > 0 {
		c, err := b.search(m, a, q.Search)
		if err != nil {
			return "", err
		}
		conds = append(conds, c)
	}
	if q.ID > 0 {
		conds = append(conds, a+".id = "+b.arg(q.ID))
	}
	if extra != "" {
		conds = append(conds, extra)
	}
	order := ""
	if len(q.OrderBy) > 0 {
		o, err := b.orderBy(m, a, q.OrderBy)
		if err != nil {
			return "", err
		}
		order = o + ", "
	} else if m.order != "" {
		order = fmt.Sprintf(m.order, a) + ", "
	}
	return "SELECT " + cols + " FROM " + m.table + " " + a + " WHERE " + and(conds...) + " ORDER BY " + order + a + ".id", nil
}
