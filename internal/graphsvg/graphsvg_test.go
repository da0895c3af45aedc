package graphsvg

import (
	"encoding/xml"
	"strings"
	"testing"
)

// TestRenderLayersAndEscapes: a chain is drawn top to bottom, a cycle does
// not hang or blow the drawing up, hostile names are escaped and the result
// is well-formed XML.
func TestRenderLayersAndEscapes(t *testing.T) {
	nodes := []Node{{Label: "root", Class: "root"}, {Label: `<script>alert("x")</script>`, Link: `/a?b=1&c="2"`}, {Label: "c"}, {Label: strings.Repeat("x", 500)}}
	edges := []Edge{{From: 0, To: 1}, {From: 1, To: 2}, {From: 2, To: 1, Dashed: true}, {From: 0, To: 3}, {From: 9, To: 0}}
	out := Render(nodes, edges, []int{0})
	s := string(out)
	if strings.Contains(s, "<script>") || !strings.Contains(s, "&lt;script&gt;") {
		t.Errorf("label not escaped: %s", s)
	}
	if strings.Contains(s, strings.Repeat("x", 100)) {
		t.Error("a long label was not shortened")
	}
	dec := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := dec.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed: %v\n%s", err, s)
			}
			break
		}
	}
	d := layers(len(nodes), edges, []int{0})
	if d[0] != 0 || d[1] != 1 || d[2] != 2 || d[3] != 1 {
		t.Errorf("rows %v", d)
	}
	// A DAG gets longest-path rows: 0→1→2 and 0→2 puts 2 on row 2.
	if d := layers(3, []Edge{{From: 0, To: 1}, {From: 1, To: 2}, {From: 0, To: 2}}, nil); d[2] != 2 {
		t.Errorf("longest path rows %v", d)
	}
	if out := Render(nil, nil, nil); !strings.HasPrefix(string(out), "<svg") {
		t.Errorf("empty graph: %s", out)
	}
}
