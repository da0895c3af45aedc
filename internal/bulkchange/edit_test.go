package bulkchange

import (
	"strings"
	"testing"
)

func TestSetVar(t *testing.T) {
	src := "require foo.inc\nSUMMARY = \"Old\"\nDESCRIPTION = \"Line one \\\n  line two\"\nHOMEPAGE = \"${GNU_MIRROR}/foo\"\nSECTION ?= \"libs\"\nLICENSE = \"MIT\"\nLICENSE:append = \" BSD\"\n"
	for _, c := range []struct {
		name, value, want, outcome string
	}{
		{"SUMMARY", "New", "require foo.inc\nSUMMARY = \"New\"\n", Edited},
		{"DESCRIPTION", "One\nline", "SUMMARY = \"Old\"\nDESCRIPTION = \"One line\"\nHOMEPAGE", Edited},
		{"HOMEPAGE", "https://x", "", Computed},
		{"SECTION", "devel", "SECTION ?= \"devel\"\n", Edited},
		{"LICENSE", "GPL-2.0-only", "", Computed},
		{"BUGTRACKER", "https://x", "", Missing},
	} {
		got, outcome := setVar(src, c.name, c.value)
		if outcome != c.outcome || (c.want != "" && !strings.Contains(got, c.want)) || (outcome != Edited && got != src) {
			t.Errorf("%s: %s\n%s", c.name, outcome, got)
		}
	}
	if got := addVar(src, "BUGTRACKER", `say "hi"`); !strings.Contains(got, "LICENSE = \"MIT\"\nBUGTRACKER = 'say \"hi\"'\n") {
		t.Errorf("addVar:\n%s", got)
	}
}
