package data

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// op is one datastore operation in a test script.
type op struct {
	kind, name, value string
}

func set(n, v string) op     { return op{"set", n, v} }
func setPy(n, v string) op   { return op{"setpy", n, v} }
func weak(n, v string) op    { return op{"weak", n, v} }
func del(n string) op        { return op{"del", n, ""} }
func appendV(n, v string) op { return op{"append", n, v} }

func apply(t *testing.T, s *Store, ops []op) {
	t.Helper()
	for _, o := range ops {
		switch o.kind {
		case "set":
			s.SetVarParsing(o.name, o.value)
		case "setpy":
			s.SetVar(o.name, o.value)
		case "weak":
			s.SetDefault(o.name, o.value)
		case "del":
			s.DelVar(o.name)
		case "flag":
			i := strings.IndexByte(o.name, '[')
			s.SetFlag(o.name[:i], o.name[i+1:len(o.name)-1], o.value)
		case "append":
			s.AppendVar(o.name, o.value)
		default:
			t.Fatalf("bad op %q", o.kind)
		}
	}
}

// literalInline evaluates a few literal expressions for tests.
func literalInline(code string, s *Store) (string, error) {
	switch code {
	case "'py'":
		return "py", nil
	case "{'a': 1}['a']":
		return "1", nil
	}
	return "", errors.New("unsupported in test")
}

func TestGetVar(t *testing.T) {
	tests := []struct {
		name string
		ops  []op
		get  string
		want string // "<unset>" for unset
	}{
		{"plain", []op{set("A", "x")}, "A", "x"},
		{"unset", nil, "A", "<unset>"},
		{"unknown reference stays", []op{set("A", "${NOPE} y")}, "A", "${NOPE} y"},
		{"nested reference", []op{set("A", "${B}"), set("B", "${C}-b"), set("C", "c")}, "A", "c-b"},
		{"lazy", []op{set("A", "${B}"), set("B", "1"), set("B", "2")}, "A", "2"},
		{"weak default", []op{weak("A", "w")}, "A", "w"},
		{"weak default loses to set", []op{set("A", "s"), weak("A", "w")}, "A", "s"},
		{"last weak default wins", []op{weak("A", "1"), weak("A", "2")}, "A", "2"},
		{"override rightmost wins", []op{set("OVERRIDES", "a:b"), set("A", "x"), set("A:b", "B"), set("A:a", "A")}, "A", "B"},
		{"override inactive", []op{set("OVERRIDES", "a:b"), set("A", "x"), set("A:c", "C")}, "A", "x"},
		{"override without base", []op{set("OVERRIDES", "a"), set("A:a", "A")}, "A", "A"},
		{"multi-part override", []op{set("OVERRIDES", "a:b:c"), set("A", "x"), set("A:b:a", "BA"), set("A:c", "C")}, "A", "C"},
		{"multi-part beats single when its last part is later", []op{set("OVERRIDES", "a:b:c"), set("A", "x"), set("A:c", "C"), set("A:a:c", "AC")}, "A", "AC"},
		{"multi-part needs all parts", []op{set("OVERRIDES", "a:b"), set("A", "x"), set("A:a:z", "AZ")}, "A", "x"},
		{"append", []op{set("A", "x"), set("A:append", " y")}, "A", "x y"},
		{"append qualified", []op{set("OVERRIDES", "a"), set("A", "x"), set("A:append:a", " y"), set("A:append:b", " z")}, "A", "x y"},
		{"append multi qualified", []op{set("OVERRIDES", "a:b"), set("A", "x"), set("A:append:a:b", " y")}, "A", "x y"},
		{"append to unset", []op{set("A:append", "y")}, "A", "y"},
		{"prepend order", []op{set("A", "x"), set("A:prepend", "1 "), set("A:prepend", "2 ")}, "A", "2 1 x"},
		{"append after override selection", []op{set("OVERRIDES", "a"), set("A", "x"), set("A:a", "o"), set("A:append", " y")}, "A", "o y"},
		{"override variant keeps own append", []op{set("OVERRIDES", "a"), set("A", "x"), set("A:a", "o"), set("A:a:append", "+")}, "A", "o+"},
		{"remove whole words only", []op{set("A", "foo foobar  foo-bar foo"), set("A:remove", "foo")}, "A", " foobar  foo-bar "},
		{"remove expanded", []op{set("A", "a b c"), set("R", "b c"), set("A:remove", "${R}")}, "A", "a  "},
		{"remove qualified", []op{set("OVERRIDES", "a"), set("A", "a b"), set("A:remove:z", "a"), set("A:remove:a", "b")}, "A", "a "},
		{"remove from selected variant", []op{set("OVERRIDES", "o"), set("A", "x"), set("A:o", "p q"), set("A:o:remove", "p")}, "A", " q"},
		{"weak default under append", []op{weak("A", "w"), set("A:append", " a")}, "A", "w a"},
		{"python literal", []op{set("A", "${@'py'}")}, "A", "py"},
		{"python with braces", []op{set("A", "<${@{'a': 1}['a']}>")}, "A", "<1>"},
		{"python waits for references", []op{set("A", "${@'${NOPE}'}")}, "A", "${@'${NOPE}'}"},
		{"python failure is empty", []op{set("A", "a${@unknown()}b")}, "A", "ab"},
		{"self reference left", []op{set("A", "x ${A}")}, "A", "x ${A}"},
		{"override changes with OVERRIDES", []op{set("OVERRIDES", "${MO}"), set("MO", "m1"), set("A:m1", "one"), set("A:m2", "two"), set("MO", "m2")}, "A", "two"},
		{"OVERRIDES append", []op{set("OVERRIDES", "a"), set("OVERRIDES:append", ":b"), set("A:b", "B")}, "A", "B"},
		{"setVar from python drops appends", []op{set("A", "x"), set("A:append", " y"), setPy("A", "z")}, "A", "z"},
		{"setVar from python drops active variants", []op{set("OVERRIDES", "a"), set("A:a", "o"), setPy("A", "z")}, "A", "z"},
		{"del", []op{set("A", "x"), del("A")}, "A", "<unset>"},
		{"del variant", []op{set("OVERRIDES", "a"), set("A", "x"), set("A:a", "o"), del("A:a")}, "A", "x"},
		{"appendVar", []op{set("A", "x"), appendV("A", " y")}, "A", "x y"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New()
			s.Inline = literalInline
			apply(t, s, tc.ops)
			got, ok := s.Get(tc.get)
			if !ok {
				got = "<unset>"
			}
			if got != tc.want {
				t.Errorf("%s = %q, want %q", tc.get, got, tc.want)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	s := New()
	s.SetVarParsing("B", "b")
	s.SetFlag("A", "doc", "x ${B}")
	s.SetFlag("A", "_defaultval_flag_foo", "weak")
	s.SetFlag("A", "_internal", "1")
	if v, _ := s.GetFlag("A", "doc", true); v != "x b" {
		t.Errorf("expanded flag = %q", v)
	}
	if v, _ := s.GetFlag("A", "foo", false); v != "weak" {
		t.Errorf("weak flag = %q", v)
	}
	f := s.Flags("A")
	if len(f) != 2 || f["doc"] != "x ${B}" || f["foo"] != "weak" {
		t.Errorf("Flags = %v", f)
	}
	s.DelFlag("A", "foo")
	if _, ok := s.GetFlag("A", "foo", false); ok {
		t.Errorf("flag not deleted")
	}
}

func TestCopyOnWrite(t *testing.T) {
	base := New()
	base.SetVarParsing("OVERRIDES", "a")
	base.SetVarParsing("A", "base")
	base.SetVarParsing("A:append", " app")
	base.SetFlag("A", "doc", "d")
	child := base.Child()
	child.SetVarParsing("A:append", " child")
	child.SetFlag("A", "doc", "changed")
	child.SetVarParsing("A:a", "variant")
	if v, _ := child.Get("A"); v != "variant app child" {
		t.Errorf("child A = %q", v)
	}
	other := base.Child()
	if v, _ := other.Get("A"); v != "base app" {
		t.Errorf("sibling sees child writes: %q", v)
	}
	if v, _ := other.GetFlag("A", "doc", false); v != "d" {
		t.Errorf("sibling flag = %q", v)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("write to frozen parent did not panic")
		}
	}()
	base.SetVarParsing("X", "1")
}

func TestExpandKeys(t *testing.T) {
	s := New()
	s.SetVarParsing("PN", "foo")
	s.SetVarParsing("RDEPENDS:${PN}-dev", "x")
	s.SetVarParsing("RDEPENDS:foo-dev:append", " y")
	s.SetVarParsing("OVERRIDES", "foo-dev")
	s.ExpandKeys()
	if v, _ := s.Get("RDEPENDS:foo-dev"); v != "x y" {
		t.Errorf("renamed = %q", v)
	}
	if _, ok := s.Get("RDEPENDS:${PN}-dev"); ok {
		t.Errorf("old key still set")
	}
	if v, _ := s.Get("RDEPENDS"); v != "x y" {
		t.Errorf("override of renamed key = %q", v)
	}
}

func TestSetVarKeyword(t *testing.T) {
	tests := []struct{ in, base, kw, ovr string }{
		{"A:append", "A", "append", ""},
		{"A:append:b", "A", "append", "b"},
		{"A:b:append", "A:b", "append", ""},
		{"A:remove:class-target", "A", "remove", "class-target"},
		{"A:appendix", "", "", ""},
		{"A:append:${PN}", "", "", ""},
		{"RDEPENDS:${PN}:prepend", "RDEPENDS:${PN}", "prepend", ""},
	}
	for _, tc := range tests {
		b, k, o, ok := setVarKeyword(tc.in)
		if !ok {
			b, k, o = "", "", ""
		}
		if b != tc.base || k != tc.kw || o != tc.ovr {
			t.Errorf("%s: got (%q,%q,%q)", tc.in, b, k, o)
		}
	}
}

func TestPyMatchEnd(t *testing.T) {
	tests := []struct{ in, want string }{
		{"${@a}b}", "${@a}"},
		{"${@{'a': 1}.get(x)} tail", "${@{'a': 1}.get(x)}"},
		{"${@f({})} x", "${@f({})}"},
		{"${@}", ""},
		{"${@{{}}}", "${@{{}}"},
		{"${@abc", ""},
	}
	for _, tc := range tests {
		end := pyMatchEnd(tc.in, 0)
		got := ""
		if end > 0 {
			got = tc.in[:end]
		}
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLimits(t *testing.T) {
	s := New()
	s.SetVarParsing("A", "${B}${B}${B}${B}${B}${B}${B}${B}")
	s.SetVarParsing("B", "${C}${C}${C}${C}${C}${C}${C}${C}")
	s.SetVarParsing("C", "${D}${D}${D}${D}${D}${D}${D}${D}")
	s.SetVarParsing("D", strings.Repeat("x", 1<<16))
	s.Limits.MaxBytes = 1 << 20
	v, _ := s.Get("A")
	if len(v) > 1<<21 {
		t.Errorf("expansion not bounded: %d bytes", len(v))
	}
	s.SetVarParsing("L1", "${L2}")
	s.SetVarParsing("L2", "${L1}")
	if v, _ := s.Get("L1"); v == "" {
		t.Errorf("loop produced empty value")
	}
}

func TestOldSyntax(t *testing.T) {
	tests := []struct {
		name string
		ops  []op
		get  string
		want string
	}{
		{"append", []op{set("A", "x"), set("A_append", " y")}, "A", "x y"},
		{"append qualified", []op{set("OVERRIDES", "qemux86:class-target"), set("A", "x"), set("A_append_qemux86", " y"), set("A_append_arm", " z")}, "A", "x y"},
		{"override variant", []op{set("OVERRIDES", "linux:qemux86"), set("A", "x"), set("A_qemux86", "m"), set("A_linux", "l")}, "A", "m"},
		{"package variable is an override", []op{set("OVERRIDES", "foo-dev"), set("RDEPENDS", "r"), set("RDEPENDS_foo-dev", "d")}, "RDEPENDS", "d"},
		{"upper case suffix is no override", []op{set("BB_NUMBER_THREADS", "4")}, "BB_NUMBER_THREADS", "4"},
		{"remove", []op{set("A", "a b c"), set("A_remove", "b")}, "A", "a  c"},
		{"prepend", []op{set("A", "x"), set("A_prepend", "y ")}, "A", "y x"},
		{"colon spelling accepted", []op{set("OVERRIDES", "qemux86"), set("A", "x"), set("A:append:qemux86", " y")}, "A", "x y"},
		{"colon reads the underscore name", []op{set("A_b", "v")}, "A:b", "v"},
		{"multi-part override", []op{set("OVERRIDES", "a:b"), set("A", "x"), set("A_a_b", "ab")}, "A", "ab"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewOld()
			apply(t, s, tc.ops)
			got, ok := s.Get(tc.get)
			if !ok {
				got = "<unset>"
			}
			if got != tc.want {
				t.Errorf("%s = %q, want %q", tc.get, got, tc.want)
			}
		})
	}
	if end := pyMatchEndOld("${@{'a': 1}['a']}", 0); end != len("${@{'a': 1}") {
		t.Errorf("old python regex end = %d", end)
	}
}

// TestLongOverrideListOfFrozenParent renames, deletes and sets again
// variants of a variable whose override list, in the frozen parent, is
// long enough to be indexed (like RECIPE_MAINTAINER:pn-... in every
// recipe): the child must see what a store without parent sees after the
// same writes, and a sibling must still see the parent's list.
func TestLongOverrideListOfFrozenParent(t *testing.T) {
	conf := []op{set("X", "r5"), set("Y", "extra")}
	for i := 0; i < 3*ovrIdxMin; i++ {
		conf = append(conf, set(fmt.Sprintf("M:pn-r%d", i), fmt.Sprintf("m%d", i)))
	}
	conf = append(conf, set("M:pn-${X}", "from-x"), set("M:pn-${Y}", "from-y"), set("M:pn-r9:append", " app"))
	recipe := []op{del("M:pn-r3"), set("M:pn-r3", "again"), del("M:pn-r7"), set("M:pn-new", "new"), del("M:pn-new"),
		set("M:pn-new", "new2"), del("M:pn-r0")}

	flat := New()
	apply(t, flat, conf)
	apply(t, flat, recipe)
	flat.ExpandKeys()

	base := New()
	apply(t, base, conf)
	child := base.Child()
	apply(t, child, recipe)
	child.ExpandKeys()
	sibling := base.Child()

	get := func(s *Store, pn string) string {
		c := s.Copy()
		c.SetVarParsing("OVERRIDES", "pn-"+pn)
		v, ok := c.Get("M")
		return fmt.Sprintf("%q %v", v, ok)
	}
	names := []string{"new", "extra", "${X}", "${Y}"}
	for i := 0; i < 3*ovrIdxMin; i++ {
		names = append(names, fmt.Sprintf("r%d", i))
	}
	for _, pn := range names {
		if got, want := get(child, pn), get(flat, pn); got != want {
			t.Errorf("child pn-%s: %s, want %s", pn, got, want)
		}
	}
	for pn, want := range map[string]string{"r3": `"m3" true`, "r7": `"m7" true`, "new": `"" false`, "r5": `"m5" true`} {
		if got := get(sibling, pn); got != want {
			t.Errorf("sibling pn-%s: %s, want %s", pn, got, want)
		}
	}
	if got := get(child, "r5"); got != `"from-x" true` {
		t.Errorf("renamed variant: %s", got)
	}
}
