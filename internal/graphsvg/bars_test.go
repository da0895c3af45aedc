package graphsvg

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// TestBarChart: bars are proportional to the largest value, hostile labels,
// links and colours are escaped or refused, and the SVG is well-formed.
func TestBarChart(t *testing.T) {
	out := string(BarChart(`Cover "status"`, []Bar{
		{Label: "Direct match", Value: 40, Link: "/x/?cover_status=D&a=1", Color: "#2e7d32"},
		{Label: `<script>alert(1)</script>`, Value: 10, Color: `red" onload="x`},
		{Label: "Zero", Value: 0},
	}))
	for _, want := range []string{`width="360.0"`, `width="90.0"`, `width="0.0"`, `fill="#2e7d32"`, `href="/x/?cover_status=D&amp;a=1"`,
		`&lt;script&gt;`, `aria-label="Cover &#34;status&#34;"`, `>40<`, `>10<`} {
		if !strings.Contains(out, want) {
			t.Errorf("chart lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "<script>") || strings.Contains(out, "onload") {
		t.Errorf("hostile input passed through:\n%s", out)
	}
	dec := xml.NewDecoder(strings.NewReader(out))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
	}
	if empty := string(BarChart("none", nil)); !strings.HasSuffix(empty, "</svg>") {
		t.Errorf("empty chart: %s", empty)
	}
}
