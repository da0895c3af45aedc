package graphsvg

import (
	"bytes"
	"fmt"
	"strconv"
)

// Bar is one bar of a chart: a label, a count, an optional link and a fill
// colour (a CSS colour such as "#2e7d32"; "" for the default).
type Bar struct {
	Label string
	Value int64
	Link  string
	Color string
}

// Bar chart geometry, in SVG user units.
const (
	barHeight   = 22
	barGap      = 8
	barMaxWidth = 360
	labelChars  = 30
)

// BarChart draws a horizontal bar chart as a self-contained SVG (fills are
// attributes, so it needs no style sheet): one row per bar with its label,
// a bar proportional to the largest value, and the value. title is the
// chart's accessible name.
func BarChart(title string, bars []Bar) []byte {
	var maxV int64
	for _, b := range bars {
		maxV = max(maxV, b.Value)
	}
	labelW := labelChars * charWidth
	width := margin*2 + labelW + barMaxWidth + 70
	height := margin*2 + len(bars)*(barHeight+barGap)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="barchart" viewBox="0 0 %.0f %d" width="%.0f" height="%d" role="img" aria-label="%s">`,
		width, height, width, height, escape(title))
	fmt.Fprintf(&b, `<title>%s</title>`, escape(title))
	for i, bar := range bars {
		y := float64(margin + i*(barHeight+barGap))
		w := 0.0
		if maxV > 0 {
			w = float64(bar.Value) / float64(maxV) * barMaxWidth
		}
		if bar.Value > 0 && w < 1 {
			w = 1
		}
		color := bar.Color
		if color == "" || !safeColor(color) {
			color = "#5c6bc0"
		}
		if bar.Link != "" {
			fmt.Fprintf(&b, `<a href="%s">`, escape(bar.Link))
		}
		fmt.Fprintf(&b, `<g><title>%s: %d</title>`, escape(bar.Label), bar.Value)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" font-family="sans-serif" font-size="12" fill="#222">%s</text>`,
			margin+labelW-6, y+barHeight/2+4, escape(label(clipLabel(bar.Label))))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%d" rx="2" fill="%s"/>`, margin+labelW, y, w, barHeight, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-family="sans-serif" font-size="12" fill="#222">%s</text>`,
			margin+labelW+w+6, y+barHeight/2+4, strconv.FormatInt(bar.Value, 10))
		b.WriteString(`</g>`)
		if bar.Link != "" {
			b.WriteString(`</a>`)
		}
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}

// clipLabel keeps a label to the room left of the bars.
func clipLabel(s string) string {
	r := []rune(s)
	if len(r) <= labelChars {
		return s
	}
	return string(r[:labelChars-1]) + "…"
}

// safeColor accepts #rgb and #rrggbb only, so a colour cannot break out of
// its attribute.
func safeColor(c string) bool {
	if len(c) != 4 && len(c) != 7 || c[0] != '#' {
		return false
	}
	for _, r := range c[1:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}
