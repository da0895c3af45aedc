package ingest

import (
	"testing"
	"unicode/utf8"

	"layerindex/internal/store"
)

// TestMakeStorable: NUL bytes and invalid UTF-8 from a layer (PostgreSQL
// refuses both in text) are replaced in every string of an index change,
// also in nested slices and map keys and values; clean strings are kept.
func TestMakeStorable(t *testing.T) {
	bad := "a\x00b\xffc\xc3\x28"
	ch := &store.IndexChange{
		Upserts:  []store.RecipeData{{}},
		Deletes:  []string{bad, "clean"},
		Renames:  map[string]string{bad: bad, "x": "y"},
		Machines: []store.Machine{{Name: bad, Description: "ok"}},
	}
	ch.Upserts[0].Recipe.Summary = bad
	makeStorable(&ch)
	ok := func(what, s string) {
		t.Helper()
		if !utf8.ValidString(s) || containsNUL(s) {
			t.Errorf("%s: %q is not storable", what, s)
		}
	}
	ok("summary", ch.Upserts[0].Recipe.Summary)
	ok("delete", ch.Deletes[0])
	ok("machine", ch.Machines[0].Name)
	for k, v := range ch.Renames {
		ok("rename key", k)
		ok("rename value", v)
	}
	if ch.Deletes[1] != "clean" || ch.Machines[0].Description != "ok" || ch.Renames["x"] != "y" || len(ch.Renames) != 2 {
		t.Errorf("clean strings changed: %q %q %v", ch.Deletes[1], ch.Machines[0].Description, ch.Renames)
	}
	if got := storableText(bad); got != "a\uFFFDb\uFFFDc\uFFFD(" {
		t.Errorf("storableText(%q) = %q", bad, got)
	}
}

func containsNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}
