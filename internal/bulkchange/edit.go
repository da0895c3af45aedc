// Package bulkchange owns bulk changes of recipe metadata (upstream's
// "bulk change"): a signed-in user's private changesets of recipes with new
// SUMMARY, DESCRIPTION, HOMEPAGE, BUGTRACKER, SECTION and LICENSE values,
// and the patches that make them, one git format-patch style patch per
// layer against the revision the index read. Recipe files are edited
// statically: the assignment in the recipe or the .inc it includes is
// rewritten; a value that is computed is reported, not guessed at, and one
// that comes from a class or a default is set in the recipe, which says so.
// Nothing from a layer is run.
package bulkchange

import (
	"regexp"
	"strings"
)

// Field is one editable variable.
type Field struct {
	Name string // the column and form field
	Var  string // the BitBake variable
}

// Fields are the editable variables, in upstream's order.
var Fields = []Field{
	{"summary", "SUMMARY"}, {"description", "DESCRIPTION"}, {"section", "SECTION"},
	{"license", "LICENSE"}, {"homepage", "HOMEPAGE"}, {"bugtracker", "BUGTRACKER"},
}

// statement is one top-level statement of a file: its lines [start, end).
type statement struct {
	start, end int
	name, op   string // variable and operator of an assignment
	value      string // the quoted value, for a one-quote assignment
	quoted     bool
}

var assignRe = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z0-9_\-${}/.+~:\[\]]+?)\s*(\?\?=|\?=|:=|\+=|=\+|\.=|=\.|=)\s*(.*)$`)

// statements splits a file into statements, joining lines continued with a
// backslash. Functions and other multi-line constructs are single lines
// here; only assignments matter.
func statements(lines []string) []statement {
	var out []statement
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines)-1 && strings.HasSuffix(strings.TrimRight(lines[j], " \t"), `\`) {
			j++
		}
		st := statement{start: i, end: j + 1}
		text := lines[i]
		for k := i + 1; k <= j; k++ {
			text = strings.TrimSuffix(strings.TrimRight(text, " \t"), `\`) + lines[k]
		}
		if m := assignRe.FindStringSubmatch(text); m != nil && !strings.HasPrefix(strings.TrimSpace(text), "#") {
			st.name, st.op = m[1], m[2]
			v := strings.TrimSpace(m[3])
			if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
				st.value, st.quoted = v[1:len(v)-1], true
			}
		}
		out = append(out, st)
		i = j + 1
	}
	return out
}

// Edit outcomes.
const (
	Edited   = "edited"   // the assignment was rewritten
	Computed = "computed" // the value is built from other variables or appended to: not edited
	Missing  = "missing"  // the file does not assign the variable
)

// setVar rewrites the assignment of name in content to value. It edits the
// last plain assignment (=, :=) or, without one, the last default (?=,
// ??=); an assignment whose value holds ${…} or inline Python, or any
// append to the variable, makes it Computed.
func setVar(content, name, value string) (string, string) {
	lines := strings.Split(content, "\n")
	sts := statements(lines)
	hard, soft := -1, -1
	for i, st := range sts {
		switch {
		case st.name == name && (st.op == "=" || st.op == ":="):
			hard = i
		case st.name == name && (st.op == "?=" || st.op == "??="):
			soft = i
		case st.name == name, strings.HasPrefix(st.name, name+":append"), strings.HasPrefix(st.name, name+":prepend"),
			strings.HasPrefix(st.name, name+":remove"):
			return content, Computed
		}
	}
	at := hard
	if at < 0 {
		at = soft
	}
	if at < 0 {
		return content, Missing
	}
	st := sts[at]
	if !st.quoted || strings.Contains(st.value, "${") {
		return content, Computed
	}
	indent := lines[st.start][:len(lines[st.start])-len(strings.TrimLeft(lines[st.start], " \t"))]
	repl := indent + name + " " + st.op + " " + quote(value)
	out := append(append(append([]string{}, lines[:st.start]...), repl), lines[st.end:]...)
	return strings.Join(out, "\n"), Edited
}

// addVar adds an assignment of name to a recipe that does not assign it:
// after the last assignment of one of the editable variables, or else
// before the first statement that is not a comment.
func addVar(content, name, value string) string {
	lines := strings.Split(content, "\n")
	sts := statements(lines)
	at := -1
	for _, st := range sts {
		for _, f := range Fields {
			if st.name == f.Var {
				at = st.end
			}
		}
	}
	if at < 0 {
		at = 0
		for _, st := range sts {
			t := strings.TrimSpace(lines[st.start])
			if t != "" && !strings.HasPrefix(t, "#") {
				at = st.start
				break
			}
		}
	}
	line := name + " = " + quote(value)
	out := append(append(append([]string{}, lines[:at]...), line), lines[at:]...)
	return strings.Join(out, "\n")
}

// quote makes a one-line BitBake value: whitespace runs (new lines
// included) become one space, and the quote is one the value lacks.
func quote(v string) string {
	v = strings.Join(strings.Fields(v), " ")
	if strings.Contains(v, `"`) && !strings.Contains(v, "'") {
		return "'" + v + "'"
	}
	return `"` + v + `"`
}

// CleanValue is what a value becomes in a recipe (whitespace collapsed):
// stored values are compared in this form.
func CleanValue(v string) string { return strings.Join(strings.Fields(v), " ") }
