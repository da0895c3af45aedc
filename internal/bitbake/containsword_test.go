package bitbake

import (
	"slices"
	"strings"
	"testing"
)

// TestContainsWord checks containsWord against the definition it
// replaces: w is one of strings.Fields(list).
func TestContainsWord(t *testing.T) {
	lists := []string{"", " ", "a", "a b", " bb.event.RecipeParsed  bb.event.RecipePreFinalise\t*",
		"native nativesdk", "nativesdk native", "xnative native-x", "a\u00a0b", "a\u0085b c", "ab abc abcd", "é ée"}
	words := []string{"", "a", "b", "*", "native", "nativesdk", "bb.event.RecipeParsed", "bb.event.Recipe",
		"ab", "abc", "a b", "ée", "é", "c"}
	for _, l := range lists {
		for _, w := range words {
			want := slices.Contains(strings.Fields(l), w)
			if got := containsWord(l, w); got != want {
				t.Errorf("containsWord(%q, %q) = %v, want %v", l, w, got, want)
			}
		}
	}
}
