package pyeval

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"layerindex/internal/bitbake/syntax"
	"layerindex/internal/corpus"
)

var inlineRe = regexp.MustCompile(`\$\{@`)

// TestSyntaxCoverage parses every def, python function, inline ${@…}
// expression and lib/oe module of a layer tree — $PYCHECK_DIR, or
// openembedded-core and meta-openembedded from the shared corpus — and
// fails on any the interpreter's parser rejects.
func TestSyntaxCoverage(t *testing.T) {
	roots := []string{os.Getenv("PYCHECK_DIR")}
	if roots[0] == "" {
		roots = []string{corpus.Tree(t, corpus.Bare(t, "openembedded-core"), "HEAD", "meta"),
			corpus.Tree(t, corpus.Bare(t, "meta-openembedded"), "HEAD", "meta-oe")}
	}
	var defs, anon, inl, bad int
	for _, root := range roots {
		walkSyntax(t, root, &defs, &anon, &inl, &bad)
	}
	t.Logf("defs %d, python functions %d, inline %d, rejected %d", defs, anon, inl, bad)
	if bad > 0 {
		t.Errorf("%d pieces of Python rejected by the parser", bad)
	}
	if os.Getenv("PYCHECK_DIR") == "" && (defs < 100 || anon < 100 || inl < 100) {
		t.Errorf("too little Python found in the corpus: the walk is broken")
	}
}

func walkSyntax(t *testing.T, root string, defsp, anonp, inlp, badp *int) {
	defs, anon, inl, bad := *defsp, *anonp, *inlp, *badp
	defer func() { *defsp, *anonp, *inlp, *badp = defs, anon, inl, bad }()
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
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
	if err != nil {
		t.Fatal(err)
	}
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
