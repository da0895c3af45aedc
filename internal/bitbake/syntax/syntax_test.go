package syntax

import (
	"fmt"
	"strings"
	"testing"
)

// brief renders statements compactly for table comparisons.
func brief(f *File) string {
	var b []string
	for _, s := range f.Stmts {
		switch s.Kind {
		case Assign:
			x := s.Var
			if s.Flag != "" {
				x += "[" + s.Flag + "]"
			}
			if s.Export {
				x = "export " + x
			}
			b = append(b, fmt.Sprintf("%d:%s %s %q", s.Line, x, s.Op, s.Value))
		case Func:
			kind := "sh"
			if s.Python {
				kind = "py"
			}
			b = append(b, fmt.Sprintf("%d:func %s %s %q", s.Line, kind, s.Var, s.Body))
		case PyDef:
			b = append(b, fmt.Sprintf("%d:def %s %q", s.Line, s.Var, s.Body))
		case Export, Unset:
			b = append(b, fmt.Sprintf("%d:%s %s", s.Line, s.Kind, s.Var))
		case UnsetFlag:
			b = append(b, fmt.Sprintf("%d:%s %s[%s]", s.Line, s.Kind, s.Var, s.Flag))
		default:
			b = append(b, fmt.Sprintf("%d:%s %s", s.Line, s.Kind, s.Arg))
		}
	}
	for _, d := range f.Diags {
		b = append(b, fmt.Sprintf("!%d %s", d.Line, d.Msg))
	}
	return strings.Join(b, "\n")
}

func TestRecipeStatements(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"plain", `A = "x"`, `1:A = "x"`},
		{"ops", "A ?= \"1\"\nB ??= \"2\"\nC := \"3\"\nD += \"4\"\nE =+ \"5\"\nF .= \"6\"\nG =. \"7\"",
			"1:A ?= \"1\"\n2:B ??= \"2\"\n3:C := \"3\"\n4:D += \"4\"\n5:E =+ \"5\"\n6:F .= \"6\"\n7:G =. \"7\""},
		{"no blanks", `A:="x"`, `1:A := "x"`},
		{"postdot no blank", `A.= "x"`, `1:A .= "x"`},
		{"dotted name", `A.B = "x"`, `1:A.B = "x"`},
		{"single quotes keep doubles", `A = 'say "hi"'`, `1:A = "say \"hi\""`},
		{"three quotes rejected", `A = "a\"b"`, `!1 unparsed line: "A = \"a\\\"b\""`},
		{"escaped quote kept", `A = "a\"b\""`, `1:A = "a\\\"b\\\""`},
		{"flag", `do_x[depends] += "y:do_z"`, `1:do_x[depends] += "y:do_z"`},
		{"flag with slash and at", `A[b/c@d] = "1"`, `1:A[b/c@d] = "1"`},
		{"override names", `DEPENDS:append:class-target = " foo"`, `1:DEPENDS:append:class-target = " foo"`},
		{"expansion in name", `RDEPENDS:${PN}-dev = "x"`, `1:RDEPENDS:${PN}-dev = "x"`},
		{"export assign", `export FOO = "1"`, `1:export FOO = "1"`},
		{"export statement", `export FOO`, `1:export FOO`},
		{"export with empty name", `export = "1"`, `!1 empty variable name in assignment: "export = \"1\""`},
		{"four quotes accepted", `A = "x" "y"`, `1:A = "x\" \"y"`},
		{"three quotes rejected", `A = "x" y"`, `!1 unparsed line: "A = \"x\" y\""`},
		{"unquoted rejected", `A = x`, `!1 unparsed line: "A = x"`},
		{"continuation", "A = \"a \\\n    b \\\n c\"\nB = \"2\"", "1:A = \"a     b  c\"\n4:B = \"2\""},
		{"comment skipped", "# hi\nA = \"1\"", `2:A = "1"`},
		{"comment continuation", "# a \\\n# b\nA = \"1\"", `3:A = "1"`},
		{"comment inside continuation", "A = \"1 \\\n# x\n2\"", "!2 comment in the middle of a multiline expression\n!1 unparsed line: \"A = \\\"1 # x\"\n!3 unparsed line: \"2\\\"\""},
		{"indented is not a statement", `  A = "1"`, `!1 unparsed line: "  A = \"1\""`},
		{"include require", "include a.inc b.inc\nrequire ${BPN}.inc\ninclude_all conf/x.conf",
			"1:include a.inc b.inc\n2:require ${BPN}.inc\n3:include_all conf/x.conf"},
		{"inherit", "inherit autotools pkgconfig\ninherit_defer ${IMGCLASSES}", "1:inherit autotools pkgconfig\n2:inherit_defer ${IMGCLASSES}"},
		{"unset", "unset A\nunset B[doc]", "1:unset A\n2:unsetflag B[doc]"},
		{"tasks", "addtask foo after do_bar before do_baz\ndeltask do_x\naddhandler h\nEXPORT_FUNCTIONS do_a do_b",
			"1:addtask foo after do_bar before do_baz\n2:deltask do_x\n3:addhandler h\n4:EXPORT_FUNCTIONS do_a do_b"},
		{"shell func", "do_install() {\n\tinstall -d ${D}\n  A = \"not a statement\"\n}\nB = \"1\"",
			"1:func sh do_install \"\\tinstall -d ${D}\\n  A = \\\"not a statement\\\"\"\n5:B = \"1\""},
		{"python func", "python do_foo () {\n    bb.note('x')\n}", "1:func py do_foo \"    bb.note('x')\""},
		{"anonymous python", "python () {\n    d.setVar('A', '1')\n}", "1:func py  \"    d.setVar('A', '1')\""},
		{"anonymous named", "python __anonymous() {\n    pass\n}", "1:func py __anonymous \"    pass\""},
		{"fakeroot", "fakeroot python do_x() {\n}\nfakeroot do_y() {\n}", "1:func py do_x \"\"\n3:func sh do_y \"\""},
		{"func with override name", "pkg_postinst:${PN}() {\n:\n}", "1:func sh pkg_postinst:${PN} \":\""},
		{"func body keeps backslash", "do_x() {\n\techo a \\\n\t  b\n}", "1:func sh do_x \"\\techo a \\\\\\n\\t  b\""},
		{"def", "def foo(d):\n    return 'x'\n\n    # c\nA = \"1\"",
			"1:def foo \"def foo(d):\\n    return 'x'\\n\\n    # c\"\n5:A = \"1\""},
		{"def at eof", "def foo(a):\n    return a", "1:def foo \"def foo(a):\\n    return a\""},
		{"def needs colon on its line", "def foo(a,\n  b):", "!1 unparsed line: \"def foo(a,\"\n!2 unparsed line: \"  b):\""},
		{"unclosed func", "do_x() {\n  echo", "!1 function \"do_x\" is never closed"},
		{"pythonfoo is a shell name", "pythonfoo() {\n}", "1:func sh pythonfoo \"\""},
		{"crlf", "A = \"1\"\r\nB = \"2\"\r\n", "1:A = \"1\"\n2:B = \"2\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := brief(Parse("t.bb", []byte(tc.src), RecipeMode))
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestConfStatements(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"assign", `MACHINE = "qemux86"`, `1:MACHINE = "qemux86"`},
		{"continuation keeps leading blanks", "A = \"a \\\n   b\"", "1:A = \"a    b\""},
		{"blank lines", "\n   \nA = \"1\"", `3:A = "1"`},
		{"indented comment is an error", "  # x", `!1 unparsed line: "  # x"`},
		{"no functions in conf", "do_x() {", `!1 unparsed line: "do_x() {"`},
		{"no inherit in conf", "inherit foo", `!1 unparsed line: "inherit foo"`},
		{"addpylib", "addpylib ${LAYERDIR}/lib oe", "1:addpylib ${LAYERDIR}/lib oe"},
		{"require", "require conf/abi_version.conf", "1:require conf/abi_version.conf"},
		{"confusing multiline", "# a \\\nA = \"1\"", "!1 confusing multiline, partially commented expression"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := brief(Parse("t.conf", []byte(tc.src), ConfMode))
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestModeFor(t *testing.T) {
	for name, want := range map[string]Mode{"a.conf": ConfMode, "a.bb": RecipeMode, "a.inc": RecipeMode, "a.bbclass": RecipeMode, "a.bbappend": RecipeMode} {
		if got := ModeFor(name); got != want {
			t.Errorf("ModeFor(%q) = %v, want %v", name, got, want)
		}
	}
}
