// Package accuracy compares parser output with BitBake ground truth using
// the project's metrics: the core fields of shared/tools/accuracy.py
// (Compare) and every key layerindex stores, as
// shared/tools/accuracy_full.py measures them (CompareStored). Scalars are
// compared after whitespace folding with null == "", lists as sets of
// words, packageconfig as a map, skipped as a yes/no; a recipe missing
// from the output is a disagreement. It exists for the accuracy tests and
// for `layerindex parse --explain`.
package accuracy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
)

// Scalar and List are the core fields of the metric.
var (
	Scalar = []string{"PN", "PV", "SUMMARY", "DESCRIPTION", "SECTION", "LICENSE", "HOMEPAGE", "BUGTRACKER"}
	List   = []string{"PROVIDES", "DEPENDS", "BBCLASSEXTEND", "inherits", "sources"}
)

// ExtraScalar and ExtraList are the further keys layerindex stores;
// "packageconfig" (compared as a map) and "skipped" (compared as a
// yes/no) complete them.
var (
	ExtraScalar = []string{"BPN", "PE", "PR", "SRCREV", "configopts"}
	ExtraList   = []string{"SRC_URI", "filedeps", "inherits_all"}
)

// Fields is Scalar followed by List.
func Fields() []string { return append(append([]string(nil), Scalar...), List...) }

// StoredFields are all the keys layerindex stores, in accuracy_full.py's
// order: Fields, ExtraScalar, ExtraList, packageconfig, skipped.
func StoredFields() []string {
	out := append(Fields(), ExtraScalar...)
	out = append(out, ExtraList...)
	return append(out, "packageconfig", "skipped")
}

// Record is one recipe: field name to JSON value.
type Record map[string]any

// Load reads a JSONL file keyed by "path".
func Load(p string) (map[string]Record, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f)
}

// Read reads JSONL records keyed by "path".
func Read(r io.Reader) (map[string]Record, error) {
	out := map[string]Record{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var rec Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			continue
		}
		if p, ok := rec["path"].(string); ok {
			out[p] = rec
		}
	}
	return out, sc.Err()
}

var placeholder = regexp.MustCompile(`<(TOPDIR|LAYERDIR|COREBASE|META_OPENEMBEDDED|META_ARM|BITBAKE)>`)

// Norm folds a value like accuracy.py's norm.
func Norm(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		s = x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		s = strings.Join(parts, " ")
	case []string:
		s = strings.Join(x, " ")
	default:
		s = fmt.Sprint(x)
	}
	return strings.Join(strings.Fields(placeholder.ReplaceAllString(s, "")), " ")
}

func words(v any) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(Norm(v)) {
		m[w] = true
	}
	return m
}

func isList(field string) bool {
	for _, l := range List {
		if l == field {
			return true
		}
	}
	for _, l := range ExtraList {
		if l == field {
			return true
		}
	}
	return false
}

// Equal compares one field of two records by the metric.
func Equal(field string, gt, got any) bool {
	switch {
	case field == "packageconfig":
		return reflect.DeepEqual(orEmpty(gt), orEmpty(got))
	case field == "skipped":
		return truthy(gt) == truthy(got)
	case isList(field):
		a, b := words(gt), words(got)
		if len(a) != len(b) {
			return false
		}
		for w := range a {
			if !b[w] {
				return false
			}
		}
		return true
	}
	return Norm(gt) == Norm(got)
}

// orEmpty is Python's "v or {}" for a decoded JSON value.
func orEmpty(v any) any {
	if !truthy(v) {
		return map[string]any{}
	}
	return v
}

// truthy is Python's bool() for a decoded JSON value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case bool:
		return x
	case float64:
		return x != 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// Mismatch is one disagreeing field.
type Mismatch struct {
	Path, Field string
	Want, Got   string
}

// Report is the result of a comparison.
type Report struct {
	Total, Missing, Extra, AllAgree int
	// Fields are the compared keys, PerField the agreeing recipes per key.
	Fields   []string
	PerField map[string]int
	// Stored is set for CompareStored's report.
	Stored     bool
	Mismatches []Mismatch
	// Disagreeing lists the paths of recipes that differ on some field.
	Disagreeing []string
}

// Compare applies the core-field metric (accuracy.py) to candidate
// records against ground truth.
func Compare(gt, got map[string]Record) *Report { return compare(gt, got, Fields(), false) }

// CompareStored applies accuracy_full.py's metric: every key layerindex
// stores. A key the ground truth does not record (older ground truth
// lacks configopts and packageconfig) counts as agreeing, as there.
func CompareStored(gt, got map[string]Record) *Report {
	return compare(gt, got, StoredFields(), true)
}

func compare(gt, got map[string]Record, fields []string, stored bool) *Report {
	r := &Report{PerField: map[string]int{}, Fields: fields, Stored: stored}
	paths := make([]string, 0, len(gt))
	for p, rec := range gt {
		if _, bad := rec["error"]; bad {
			continue
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	r.Total = len(paths)
	for p := range got {
		if _, ok := gt[p]; !ok {
			r.Extra++
		}
	}
	for _, p := range paths {
		g := gt[p]
		c, ok := got[p]
		if !ok {
			r.Missing++
			r.Disagreeing = append(r.Disagreeing, p)
			continue
		}
		all := true
		for _, f := range fields {
			if _, recorded := g[f]; stored && !recorded && f != "skipped" {
				r.PerField[f]++
				continue
			}
			if Equal(f, g[f], c[f]) {
				r.PerField[f]++
				continue
			}
			all = false
			r.Mismatches = append(r.Mismatches, Mismatch{Path: p, Field: f, Want: Norm(g[f]), Got: Norm(c[f])})
		}
		if all {
			r.AllAgree++
		} else {
			r.Disagreeing = append(r.Disagreeing, p)
		}
	}
	return r
}

// Pct returns n as a percentage of the total.
func (r *Report) Pct(n int) float64 {
	if r.Total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(r.Total)
}

// Summary renders the per-field table and the headline.
func (r *Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "recipes: ground truth %d, missing %d, extra %d\n", r.Total, r.Missing, r.Extra)
	for _, f := range r.Fields {
		fmt.Fprintf(&b, "  %-14s %6.2f%%  (%d)\n", f, r.Pct(r.PerField[f]), r.Total-r.PerField[f]-r.Missing)
	}
	what := "all fields agree"
	if r.Stored {
		what = "all stored keys agree"
	}
	fmt.Fprintf(&b, "%s: %d/%d = %.2f%%\n", what, r.AllAgree, r.Total, r.Pct(r.AllAgree))
	return b.String()
}

// Diff describes a list-field mismatch as the words only in each side.
func Diff(m Mismatch) string {
	if isList(m.Field) {
		a, b := words(m.Want), words(m.Got)
		var miss, extra []string
		for w := range a {
			if !b[w] {
				miss = append(miss, w)
			}
		}
		for w := range b {
			if !a[w] {
				extra = append(extra, w)
			}
		}
		sort.Strings(miss)
		sort.Strings(extra)
		return fmt.Sprintf("missing %v extra %v", miss, extra)
	}
	return fmt.Sprintf("want %q got %q", clip(m.Want), clip(m.Got))
}

func clip(s string) string {
	if len(s) > 160 {
		return s[:160] + "..."
	}
	return s
}
