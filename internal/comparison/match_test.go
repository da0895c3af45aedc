package comparison

import (
	"testing"

	"layerindex/internal/store"
)

// TestMatcherRules checks each documented rule on a hand-made recipe set
// (TestImportAndMatch does it on an indexed layer).
func TestMatcherRules(t *testing.T) {
	recipes := []store.MatchRecipe{
		{ID: 1, PN: "zlib", LayerBranchID: 10, LayerName: "openembedded-core", LayerType: store.TypeBase},
		{ID: 2, PN: "zlib", LayerBranchID: 20, LayerName: "meta-other", IndexPreference: -1},
		{ID: 3, PN: "openssl", LayerBranchID: 10, LayerName: "openembedded-core", LayerType: store.TypeBase},
		{ID: 4, PN: "gawk", Provides: "awk", LayerBranchID: 10, LayerName: "openembedded-core"},
		{ID: 5, PN: "busybox", BBClassExtend: "native nativesdk", LayerBranchID: 10, LayerName: "openembedded-core"},
		{ID: 6, PN: "python3-requests", LayerBranchID: 30, LayerName: "meta-python"},
		{ID: 7, PN: "libxml-parser-perl", LayerBranchID: 10, LayerName: "openembedded-core"},
		{ID: 8, PN: "curl", LayerBranchID: 10, LayerName: "openembedded-core"},
		{ID: 9, PN: "python3-pyyaml", LayerBranchID: 30, LayerName: "meta-python"},
		{ID: 10, PN: "gcc-runtime", LayerBranchID: 10, LayerName: "openembedded-core"},
		{ID: 11, PN: "zlib", LayerBranchID: 40, LayerName: "meta-preferred", IndexPreference: 5},
		{ID: 12, PN: "go-md2man", LayerBranchID: 10, LayerName: "openembedded-core"},
	}
	m := NewMatcher(recipes)
	for _, c := range []struct {
		name     string
		provides []string
		status   string
		pn       string
		lb       int64
	}{
		{"zlib", nil, store.CoverDirect, "zlib", 40}, // highest index preference
		{"ZLIB", nil, store.CoverDirect, "zlib", 40},
		{"zlib1g", nil, store.CoverDirect, "zlib", 40},     // alias
		{"zlib1g-dev", nil, store.CoverDirect, "zlib", 40}, // suffix, then alias
		{"zlib-devel", nil, store.CoverDirect, "zlib", 40},
		{"libssl3", nil, store.CoverDirect, "openssl", 10}, // soname, alias
		{"libssl-dev", nil, store.CoverDirect, "openssl", 10},
		{"libcurl4", nil, store.CoverDirect, "curl", 10}, // soname, lib prefix
		{"libstdc++6", nil, store.CoverDirect, "gcc-runtime", 10},
		{"python-requests", nil, store.CoverDirect, "python3-requests", 30},
		{"python_requests", nil, store.CoverDirect, "python3-requests", 30},
		{"pyyaml", nil, store.CoverDirect, "python3-pyyaml", 30},
		{"perl-XML-Parser", nil, store.CoverDirect, "libxml-parser-perl", 10},
		{"libxml-parser-perl", nil, store.CoverDirect, "libxml-parser-perl", 10},
		{"golang-github-md2man", nil, store.CoverDirect, "go-md2man", 10},
		{"awk", nil, store.CoverReplaced, "gawk", 10},              // PROVIDES
		{"mawk", []string{"awk"}, store.CoverReplaced, "gawk", 10}, // the package's Provides
		{"busybox-native", nil, store.CoverBBClassExt, "busybox", 10},
		{"nativesdk-busybox", nil, store.CoverBBClassExt, "busybox", 10},
		{"fortune-mod", nil, store.CoverUnknown, "", 0},
	} {
		got := m.Match(&Package{Name: c.name, Provides: c.provides})
		lb := int64(0)
		if got.LayerBranchID != nil {
			lb = *got.LayerBranchID
		}
		if got.Status != c.status || got.PN != c.pn || lb != c.lb {
			t.Errorf("%s: %s %s (layer branch %d) by %q, want %s %s (%d)", c.name, got.Status, got.PN, lb, got.Rule, c.status, c.pn, c.lb)
		}
		if got.Status != store.CoverUnknown && got.Rule == "" {
			t.Errorf("%s: no rule given", c.name)
		}
	}
	if got := m.Match(&Package{Name: "rubygem-rails"}); got.Status != store.CoverUnknown || got.Category != "ruby" {
		t.Errorf("rubygem-rails: %+v", got)
	}
	// Ties on preference: the core layer wins.
	m = NewMatcher([]store.MatchRecipe{
		{ID: 1, PN: "x", LayerBranchID: 1, LayerName: "a-layer"},
		{ID: 2, PN: "x", LayerBranchID: 2, LayerName: "openembedded-core", LayerType: store.TypeBase},
	})
	if got := m.Match(&Package{Name: "x"}); *got.LayerBranchID != 2 {
		t.Errorf("tie: layer branch %d, want the core layer's", *got.LayerBranchID)
	}
}
