package api

import (
	"fmt"
	"strings"

	"layerindex/internal/store"
)

// Limits on query size: far above what clients send, low enough that a
// crafted URL cannot make the database build an enormous query.
const (
	maxComparisons = 64 // leaves of a filter, after OR/AND splitting
	maxPathDepth   = 8  // relations a lookup path may follow
	maxInValues    = 1000
	maxSearchTerms = 16
	maxOrderKeys   = 8
)

// parseFilter reads upstream's ?filter= syntax (querysethelper.py):
// "key1!key2:value1!value2" pairs keys and values by position; a value may
// hold alternatives joined by OR, conjunctions joined by AND (OR binds
// looser), and a NOT prefix; keys ending in __isnull take true or false.
// Unlike upstream, only the first colon separates keys from values, so
// values may contain colons (URLs). Names are checked by the store.
func parseFilter(s string) (*store.APIFilter, error) {
	if s == "" {
		return nil, nil
	}
	i := strings.IndexByte(s, ':')
	if i < 0 {
		return nil, fmt.Errorf("%q: expected field:value (fields and values each separated by !)", s)
	}
	keys := strings.Split(s[:i], "!")
	vals := strings.Split(s[i+1:], "!")
	if len(keys) != len(vals) {
		return nil, fmt.Errorf("%q: %d fields but %d values", s, len(keys), len(vals))
	}
	// Upstream zips them into a dict: a repeated key keeps its last value.
	last := map[string]string{}
	var order []string
	for i, k := range keys {
		if k == "" {
			return nil, fmt.Errorf("%q: empty field name", s)
		}
		if _, ok := last[k]; !ok {
			order = append(order, k)
		}
		last[k] = vals[i]
	}
	and := &store.APIFilter{Op: store.FilterAnd}
	leaves := 0
	for _, k := range order {
		if n := strings.Count(k, "__"); n > maxPathDepth {
			return nil, fmt.Errorf("%q: more than %d relations in one field", k, maxPathDepth)
		}
		v := last[k]
		leaves += strings.Count(v, "OR") + strings.Count(v, "AND") + 1
		if strings.HasSuffix(k, "__in") && strings.Count(v, ",") >= maxInValues {
			return nil, fmt.Errorf("%q: more than %d values", k, maxInValues)
		}
		if strings.HasSuffix(k, "__isnull") {
			and.Args = append(and.Args, &store.APIFilter{Key: k, Value: v})
			continue
		}
		and.Args = append(and.Args, parseValue(k, v))
	}
	if leaves > maxComparisons {
		return nil, fmt.Errorf("more than %d comparisons", maxComparisons)
	}
	if len(and.Args) == 1 {
		return and.Args[0], nil
	}
	return and, nil
}

func parseValue(key, v string) *store.APIFilter {
	for _, sep := range []struct {
		word string
		op   store.FilterOp
	}{{"OR", store.FilterOr}, {"AND", store.FilterAnd}} {
		if strings.Contains(v, sep.word) {
			f := &store.APIFilter{Op: sep.op}
			for _, part := range strings.Split(v, sep.word) {
				f.Args = append(f.Args, parseValue(key, part))
			}
			return f
		}
	}
	if rest, ok := strings.CutPrefix(v, "NOT"); ok {
		return &store.APIFilter{Op: store.FilterNot, Args: []*store.APIFilter{{Key: key, Value: rest}}}
	}
	return &store.APIFilter{Key: key, Value: v}
}

// parseOrderBy reads ?orderby=: upstream's "field:+" / "field:-" (several
// joined by !, as filters are), and also plain "field" or "-field" (comma-
// separated). Upstream validated this parameter and then ignored it; here
// it orders the result.
func parseOrderBy(s string) ([]store.APIOrder, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []store.APIOrder
	if i := strings.IndexByte(s, ':'); i >= 0 {
		keys := strings.Split(s[:i], "!")
		dirs := strings.Split(s[i+1:], "!")
		if len(keys) != len(dirs) {
			return nil, fmt.Errorf("%q: %d fields but %d directions", s, len(keys), len(dirs))
		}
		for i, k := range keys {
			var desc bool
			// "+" arrives as a space when the client did not escape it.
			switch strings.ToLower(strings.TrimSpace(dirs[i])) {
			case "", "+", "asc":
			case "-", "desc":
				desc = true
			default:
				return nil, fmt.Errorf("%q: direction %q is neither + nor -", s, dirs[i])
			}
			if k == "" {
				return nil, fmt.Errorf("%q: empty field name", s)
			}
			out = append(out, store.APIOrder{Field: k, Desc: desc})
		}
		if len(out) > maxOrderKeys {
			return nil, fmt.Errorf("more than %d fields", maxOrderKeys)
		}
		return out, nil
	}
	for _, k := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '!' }) {
		k = strings.TrimSpace(k)
		desc := strings.HasPrefix(k, "-")
		k = strings.TrimPrefix(k, "-")
		if k == "" {
			return nil, fmt.Errorf("%q: empty field name", s)
		}
		out = append(out, store.APIOrder{Field: k, Desc: desc})
	}
	if len(out) > maxOrderKeys {
		return nil, fmt.Errorf("more than %d fields", maxOrderKeys)
	}
	return out, nil
}

// parseSearch splits ?search= into terms, as upstream does, on spaces.
func parseSearch(s string) ([]string, error) {
	terms := strings.Fields(s)
	if len(terms) > maxSearchTerms {
		return nil, fmt.Errorf("invalid search: more than %d terms", maxSearchTerms)
	}
	return terms, nil
}
