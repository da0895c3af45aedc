package releasediff

import (
	"slices"
	"testing"
)

func TestMapName(t *testing.T) {
	for _, c := range []struct{ pn, pv, want string }{
		{"gcc-source-13.2.0", "13.2.0", "gcc-source"},
		{"binutils-cross-i686", "2.42", "binutils-cross"},
		{"gcc-cross-i586", "14.1", "gcc-cross"},
		{"gcc-crosssdk-x86_64-oesdk-linux", "14.1", "gcc-crosssdk"},
		{"busybox", "1.36.1", "busybox"},
	} {
		if got := MapName(c.pn, c.pv); got != c.want {
			t.Errorf("MapName(%q, %q) = %q, want %q", c.pn, c.pv, got, c.want)
		}
	}
}

func TestLooseCompare(t *testing.T) {
	ordered := []string{"1.0", "1.0.1", "1.2", "1.10", "1.10a", "2.0+git", "10"}
	for i := range ordered {
		for j := range ordered {
			got := LooseCompare(ordered[i], ordered[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("LooseCompare(%q, %q) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

func TestCompare(t *testing.T) {
	from := []Recipe{
		{ID: 1, PN: "busybox", PV: "1.36.1"},
		{ID: 2, PN: "gcc-source-13.2.0", PV: "13.2.0"},
		{ID: 3, PN: "old", PV: "1"},
		{ID: 4, PN: "linux-yocto", PV: "6.6+git", SrcRev: "aaa"},
		{ID: 5, PN: "linux-yocto", PV: "6.1+git", SrcRev: "bbb"},
		{ID: 6, PN: "same", PV: "2"},
	}
	to := []Recipe{
		{ID: 11, PN: "busybox", PV: "1.37.0"},
		{ID: 12, PN: "gcc-source-14.1.0", PV: "14.1.0"},
		{ID: 13, PN: "new", PV: "0.1"},
		// Same pairs in another order: unchanged apart from the SRCREV.
		{ID: 14, PN: "linux-yocto", PV: "6.1+git", SrcRev: "bbb"},
		{ID: 15, PN: "linux-yocto", PV: "6.6+git", SrcRev: "ccc"},
		{ID: 16, PN: "same", PV: "2"},
	}
	r := Compare(from, to)
	names := func(es []Entry) (out []string) {
		for _, e := range es {
			out = append(out, e.PN)
		}
		return out
	}
	if got := names(r.Added); !slices.Equal(got, []string{"new"}) {
		t.Errorf("added %v", got)
	}
	if got := names(r.Removed); !slices.Equal(got, []string{"old"}) {
		t.Errorf("removed %v", got)
	}
	if got := names(r.Changed); !slices.Equal(got, []string{"busybox", "gcc-source", "linux-yocto"}) {
		t.Errorf("changed %v", got)
	}
	ly := r.Changed[2]
	if ly.PVChanged() || ly.From[0].PV != "6.1+git" || ly.To[1].SrcRev != "ccc" {
		t.Errorf("linux-yocto: %+v", ly)
	}
	if !r.Changed[0].PVChanged() {
		t.Errorf("busybox: PV change not seen")
	}
}
