package syntax

import (
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	"A = \"1\"\nB ?= \"2\"\nC ??= \"3\"\nD := \"${A}\"\nE += \"x\"\nF =+ \"y\"\nG .= \"z\"\nH =. \"w\"\n",
	"export FOO = \"bar\"\nunset FOO\nunset BAR[doc]\nFOO[doc] = \"d\"\n",
	"DEPENDS:append:class-target = \" foo\"\nRDEPENDS:${PN}-dev += \"bar\"\n",
	"SRC_URI = \"git://x;branch=main \\\n           file://a.patch \\\n\"\n",
	"inherit autotools pkgconfig\ninherit_defer ${IMGCLASSES}\ninclude foo.inc\nrequire ${BPN}.inc\ninclude_all conf/x.conf\n",
	"do_install() {\n\tinstall -d ${D}\n}\npython do_foo() {\n    bb.note('x')\n}\npython () {\n    d.setVar('A', '1')\n}\n",
	"def helper(d):\n    return 'x'\n\nA = \"${@helper(d)}\"\n",
	"addtask foo after do_bar before do_baz\ndeltask do_x\naddhandler h\nEXPORT_FUNCTIONS do_a\naddpylib ${LAYERDIR}/lib oe\n",
	"# comment \\\n# continued\nA = 'single \"quoted\"'\n",
	"fakeroot python do_x() {\n}\n",
	"A = \"unterminated\nB = \"x\" \"y\"\n  indented = \"1\"\n}\n{\n\\\n",
	"\xff\xfe\x00A = \"\xc3\x28\"\n",
}

// FuzzParse checks that any input parses without panicking, that every
// statement and diagnostic points at a real line, and that values come
// from the input.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, src string, conf bool) {
		mode := RecipeMode
		if conf {
			mode = ConfMode
		}
		file := Parse("fuzz.bb", []byte(src), mode)
		lines := strings.Count(src, "\n") + 1
		for _, st := range file.Stmts {
			if st.Line < 1 || st.Line > lines {
				t.Fatalf("statement line %d outside 1..%d", st.Line, lines)
			}
			if st.Kind == Assign && len(st.Value) > len(src) {
				t.Fatalf("value longer than the input")
			}
		}
		for _, d := range file.Diags {
			if d.Line < 1 || d.Line > lines {
				t.Fatalf("diagnostic line %d outside 1..%d", d.Line, lines)
			}
		}
	})
}
