package api

import (
	"strings"
	"testing"

	"layerindex/internal/store"
)

// FuzzParseFilter: any ?filter= parses or is refused with an error; what
// parses is a tree within the query limits — every comparison has a field
// name with at most maxPathDepth relations, NOT has one operand, AND/OR at
// least two, and there are at most maxComparisons comparisons — so a
// crafted URL cannot make the database build an enormous query.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"", "name:master", "name:masterORscarthgap", "layer__name!branch__name:meta-oe!master",
		"pn:NOTzlib", "a__isnull:true", "x:aANDbORc", "vcs_url:https://x/y:z", "a!a:1!2", ":", "!:!", "a:", "ORAND:NOTOR",
		"a__b__c__d__e__f__g__h__i:1", "id__in:" + strings.Repeat("1,", 10), "k:" + strings.Repeat("aOR", 70), "\x00:\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := parseFilter(s)
		if err != nil || flt == nil {
			return
		}
		leaves := 0
		var walk func(n *store.APIFilter, depth int)
		walk = func(n *store.APIFilter, depth int) {
			if depth > 4 {
				t.Fatalf("%q: nesting deeper than AND/OR/AND/NOT: %d", s, depth)
			}
			switch n.Op {
			case store.FilterNot:
				if len(n.Args) != 1 {
					t.Fatalf("%q: NOT with %d operands", s, len(n.Args))
				}
			case store.FilterAnd, store.FilterOr:
				if len(n.Args) < 2 && !(depth == 0 && len(n.Args) >= 1) {
					t.Fatalf("%q: %v with %d operands", s, n.Op, len(n.Args))
				}
			}
			if len(n.Args) == 0 {
				leaves++
				if n.Key == "" {
					t.Fatalf("%q: comparison without a field", s)
				}
				if strings.Count(n.Key, "__") > maxPathDepth {
					t.Fatalf("%q: field %q follows too many relations", s, n.Key)
				}
				return
			}
			for _, a := range n.Args {
				walk(a, depth+1)
			}
		}
		walk(flt, 0)
		if leaves > maxComparisons {
			t.Fatalf("%q: %d comparisons, limit %d", s, leaves, maxComparisons)
		}
	})
}

// FuzzParseOrderBy: any ?orderby= parses within maxOrderKeys named fields
// or is refused.
func FuzzParseOrderBy(f *testing.F) {
	for _, s := range []string{"", "name", "-name,pn", "name:+", "name!pn:-!+", "a:x", ":", ",,", " - "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		keys, err := parseOrderBy(s)
		if err != nil {
			return
		}
		if len(keys) > maxOrderKeys {
			t.Fatalf("%q: %d keys", s, len(keys))
		}
		for _, k := range keys {
			if k.Field == "" {
				t.Fatalf("%q: empty field", s)
			}
		}
	})
}
