package comparison

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"layerindex/internal/store"
)

// TestREADMEComparison checks the README's examples of matches and its
// table of statuses against the matcher and store.CoverStatuses.
func TestREADMEComparison(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "## Other-distribution comparison")
	if i < 0 {
		t.Fatal("README has no Other-distribution comparison section")
	}
	text = text[i:]
	text = text[:strings.Index(text[3:], "\n## ")+3]

	examples := regexp.MustCompile("(?m)^\\| `([^`]+)`(?: \\(provides `([^`]+)`\\))? \\| (?:`([^`]+)`.*?|none) \\| ([A-Z]) \\|$").FindAllStringSubmatch(text, -1)
	if len(examples) < 8 {
		t.Fatalf("only %d examples found", len(examples))
	}
	recipes := []store.MatchRecipe{
		{ID: 1, PN: "zlib", LayerBranchID: 1}, {ID: 2, PN: "openssl", LayerBranchID: 1}, {ID: 3, PN: "curl", LayerBranchID: 1},
		{ID: 4, PN: "python3-requests", LayerBranchID: 1}, {ID: 5, PN: "libxml-parser-perl", LayerBranchID: 1},
		{ID: 6, PN: "gawk", Provides: "awk", LayerBranchID: 1}, {ID: 7, PN: "busybox", BBClassExtend: "native", LayerBranchID: 1},
	}
	m := NewMatcher(recipes)
	for _, ex := range examples {
		var provides []string
		if ex[2] != "" {
			provides = []string{ex[2]}
		}
		got := m.Match(&Package{Name: ex[1], Provides: provides})
		if got.PN != ex[3] || got.Status != ex[4] {
			t.Errorf("README: %s → %q %s; the matcher says %q %s (%s)", ex[1], ex[3], ex[4], got.PN, got.Status, got.Rule)
		}
	}

	rows := regexp.MustCompile(`(?m)^\| ([A-Z]) \| ([^|]+) \| ([^|]+) \|$`).FindAllStringSubmatch(text, -1)
	if len(rows) != len(store.CoverStatuses) {
		t.Fatalf("README lists %d statuses, the code %d", len(rows), len(store.CoverStatuses))
	}
	kinds := map[string]string{}
	for _, g := range store.CoverGroups {
		kinds[g.Name] = strings.ToLower(g.Label)
	}
	for _, r := range rows {
		label, kind := strings.TrimSpace(r[2]), strings.TrimSpace(r[3])
		group := store.CoverGroup(r[1])
		if store.CoverLabel(r[1]) != label || !strings.HasPrefix(kinds[group], kind) && !(group == "unknown" && kind == "unknown") {
			t.Errorf("README status %s %q (%s): the code has %q (%s)", r[1], label, kind, store.CoverLabel(r[1]), kinds[group])
		}
	}
	for _, claim := range []string{fmt.Sprintf("at most %d MiB", MaxUpload>>20), fmt.Sprintf("%d MiB once gunzipped", MaxInput>>20),
		fmt.Sprintf("%d KiB per line", MaxLine>>10), fmt.Sprintf("%d MiB per spec file", MaxSpecFile>>20), "200,000"} {
		if !strings.Contains(text, claim) {
			t.Errorf("README does not say %q", claim)
		}
	}
	if MaxPackages != 200_000 {
		t.Errorf("MaxPackages is %d", MaxPackages)
	}
}
