// Package releasediff compares the recipes of two release branches: which
// were added, which changed version (PV or SRCREV) and which were removed.
// Release managers write release notes from it. It is upstream's
// BranchCompareView logic without the database: the caller reads the
// recipes of each branch and hands them over.
package releasediff

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Recipe is one recipe of one branch, as the comparison needs it.
type Recipe struct {
	ID        int64
	PN        string
	PV        string
	SrcRev    string
	ShortDesc string // SUMMARY, or DESCRIPTION when there is no summary
	Layer     string
}

// Version is one version of a compared recipe on one side.
type Version struct {
	ID     int64  `json:"id"`
	PV     string `json:"pv"`
	SrcRev string `json:"srcrev,omitempty"`
	Layer  string `json:"layer"`
}

// Entry is one recipe name (after MapName) with its versions on each side.
type Entry struct {
	PN        string    `json:"pn"`
	ShortDesc string    `json:"summary"`
	From      []Version `json:"from"`
	To        []Version `json:"to"`
}

// PVChanged reports whether the versions differ, not only the revisions.
func (e Entry) PVChanged() bool {
	return !slices.EqualFunc(e.From, e.To, func(a, b Version) bool { return a.PV == b.PV })
}

// RecipeID is the recipe to link to: the newest version on the "to" side,
// or on the "from" side for a removed recipe.
func (e Entry) RecipeID() int64 {
	if n := len(e.To); n > 0 {
		return e.To[n-1].ID
	}
	if n := len(e.From); n > 0 {
		return e.From[n-1].ID
	}
	return 0
}

// Result is a comparison: each list is sorted by name.
type Result struct {
	Added   []Entry `json:"added"`
	Changed []Entry `json:"changed"`
	Removed []Entry `json:"removed"`
}

// MapName is upstream's name mapping: recipes whose name carries a
// version or an architecture are compared as one (gcc-source-13.2.0 is
// gcc-source, binutils-cross-i686 is binutils-cross,
// gcc-crosssdk-x86_64-oesdk-linux is gcc-crosssdk), so that a new version
// or a different default architecture is a change, not an addition and a
// removal.
func MapName(pn, pv string) string {
	switch {
	case strings.HasPrefix(pn, "gcc-source-"):
		return strings.Replace(pn, "-"+pv, "", 1)
	case strings.HasSuffix(pn, "-i586"), strings.HasSuffix(pn, "-i686"):
		return pn[:len(pn)-5]
	case strings.HasSuffix(pn, "-x86_64-oesdk-linux"):
		return pn[:len(pn)-len("-x86_64-oesdk-linux")]
	}
	return pn
}

// Compare compares the recipes of two branches. A name present only on
// the "to" side is added, only on the "from" side removed; a name on both
// changed when its (PV, SRCREV) pairs differ, in version order.
func Compare(from, to []Recipe) Result {
	entries := map[string]*Entry{}
	get := func(r Recipe) *Entry {
		pn := MapName(r.PN, r.PV)
		e := entries[pn]
		if e == nil {
			e = &Entry{PN: pn, ShortDesc: r.ShortDesc}
			entries[pn] = e
		}
		return e
	}
	for _, r := range from {
		e := get(r)
		e.From = append(e.From, Version{ID: r.ID, PV: r.PV, SrcRev: r.SrcRev, Layer: r.Layer})
	}
	for _, r := range to {
		e := get(r)
		e.To = append(e.To, Version{ID: r.ID, PV: r.PV, SrcRev: r.SrcRev, Layer: r.Layer})
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	slices.Sort(names)
	var res Result
	byVersion := func(a, b Version) int {
		if c := LooseCompare(a.PV, b.PV); c != 0 {
			return c
		}
		return cmp.Compare(a.SrcRev, b.SrcRev)
	}
	same := func(a, b Version) bool { return a.PV == b.PV && a.SrcRev == b.SrcRev }
	for _, n := range names {
		e := entries[n]
		slices.SortStableFunc(e.From, byVersion)
		slices.SortStableFunc(e.To, byVersion)
		switch {
		case len(e.From) == 0:
			res.Added = append(res.Added, *e)
		case len(e.To) == 0:
			res.Removed = append(res.Removed, *e)
		case !slices.EqualFunc(e.From, e.To, same):
			res.Changed = append(res.Changed, *e)
		}
	}
	return res
}

// LooseCompare orders versions as Python's distutils LooseVersion, which
// upstream sorts by: runs of digits compare as numbers, runs of letters as
// strings, and dots separate. Where LooseVersion would fail (a number
// against letters) a number sorts first.
func LooseCompare(a, b string) int {
	pa, pb := looseParts(a), looseParts(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, y := pa[i], pb[i]
		switch {
		case x.num && y.num:
			if c := cmp.Compare(x.n, y.n); c != 0 {
				return c
			}
		case x.num:
			return -1
		case y.num:
			return 1
		default:
			if c := cmp.Compare(x.s, y.s); c != 0 {
				return c
			}
		}
	}
	return cmp.Compare(len(pa), len(pb))
}

type loosePart struct {
	num bool
	n   uint64
	s   string
}

// looseParts splits like LooseVersion's component_re, (\d+ | [a-z]+ | \.),
// dropping the dots; what lies between matches is a string part.
func looseParts(v string) []loosePart {
	var out []loosePart
	for i := 0; i < len(v); {
		c := v[i]
		j := i + 1
		switch {
		case c == '.':
			i = j
			continue
		case c >= '0' && c <= '9':
			for j < len(v) && v[j] >= '0' && v[j] <= '9' {
				j++
			}
			n, err := strconv.ParseUint(v[i:j], 10, 64)
			if err != nil {
				out = append(out, loosePart{s: v[i:j]})
			} else {
				out = append(out, loosePart{num: true, n: n})
			}
		case c >= 'a' && c <= 'z':
			for j < len(v) && v[j] >= 'a' && v[j] <= 'z' {
				j++
			}
			out = append(out, loosePart{s: v[i:j]})
		default:
			// What the pattern does not match stays as one string.
			for j < len(v) && v[j] != '.' && !(v[j] >= '0' && v[j] <= '9') && !(v[j] >= 'a' && v[j] <= 'z') {
				j++
			}
			out = append(out, loosePart{s: v[i:j]})
		}
		i = j
	}
	return out
}
