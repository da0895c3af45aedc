package pyeval

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"layerindex/internal/bitbake/syntax"
)

var inlineRe = regexp.MustCompile(`\$\{@`)

func TestSyntaxCoverage(t *testing.T) {
	root := os.Getenv("PYCHECK_DIR")
	if root == "" {
		t.Skip()
	}
	var defs, anon, inl, bad int
	_ = filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		switch filepath.Ext(p) {
		case ".py":
			if !strings.Contains(p, "/lib/oe/") {
				return nil
			}
			b, _ := os.ReadFile(p)
			if _, err := parseModule(string(b)); err != nil {
				t.Logf("%s: module: %v", p, err)
				bad++
			}
			return nil
		case ".bb", ".bbclass", ".inc", ".conf", ".bbappend":
		default:
			return nil
		}
		b, _ := os.ReadFile(p)
		f := syntax.Parse(p, b, syntax.ModeFor(p))
		for _, st := range f.Stmts {
			switch {
			case st.Kind == syntax.PyDef:
				defs++
				if _, err := cachedDef(st.Body); err != nil {
					t.Logf("%s:%d def %s: %v", p, st.Line, st.Var, err)
					bad++
				}
			case st.Kind == syntax.Func && st.Python:
				anon++
				if _, err := cachedBody("f", "(d)", st.Body); err != nil {
					t.Logf("%s:%d python %s: %v", p, st.Line, st.Var, err)
					bad++
				}
			case st.Kind == syntax.Assign && inlineRe.MatchString(st.Value):
				for _, loc := range inlineRe.FindAllStringIndex(st.Value, -1) {
					end := matchEnd(st.Value, loc[0])
					if end < 0 {
						continue
					}
					code := st.Value[loc[0]+3 : end-1]
					if strings.Contains(code, "${") {
						continue
					}
					inl++
					if _, err := parseExpression(code); err != nil && !strings.Contains(err.Error(), "unterminated") {
						t.Logf("%s:%d inline %q: %v", p, st.Line, code, err)
						bad++
					}
				}
			}
		}
		return nil
	})
	t.Logf("defs %d, python functions %d, inline %d, rejected %d", defs, anon, inl, bad)
}

// matchEnd is a simple version of the ${@...} matcher for the check.
func matchEnd(s string, i int) int {
	depth := 0
	for j := i + 3; j < len(s); j++ {
		switch s[j] {
		case '{':
			depth++
		case '}':
			if depth == 0 {
				return j + 1
			}
			depth--
		}
	}
	return -1
}
