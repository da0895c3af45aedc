// Package graphsvg draws a small directed graph (layer dependencies) as a
// self-contained SVG, on the server: no script, no external service, no
// font files. The layout is layered: each node sits on the row of its
// longest path from a root (the breadth-first distance when the graph has a
// cycle), and rows are ordered by the mean position of their parents to
// limit crossings. Graphs of layer dependencies have tens of nodes, so the
// quadratic passes are cheap.
package graphsvg

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"slices"
	"unicode/utf8"
)

// Node is one box. Class is added to its SVG class (the page styles
// "root", "optional", "unresolved").
type Node struct {
	Label string
	Link  string // optional href
	Class string
	Title string // tooltip
}

// Edge is an arrow From → To (node indexes); Dashed draws it dashed.
type Edge struct {
	From, To int
	Dashed   bool
}

// Layout geometry, in SVG user units.
const (
	charWidth = 7.2
	boxHeight = 28
	padX      = 12
	gapX      = 24
	gapY      = 56
	margin    = 8
	maxLabel  = 60
)

type placed struct {
	x, y, w float64
}

// Render draws nodes and edges; nodes with no incoming edge (or the given
// roots) are at the top.
func Render(nodes []Node, edges []Edge, roots []int) []byte {
	n := len(nodes)
	depth := layers(n, edges, roots)
	rows := map[int][]int{}
	maxDepth := 0
	for i, d := range depth {
		rows[d] = append(rows[d], i)
		maxDepth = max(maxDepth, d)
	}
	pos := make([]placed, n)
	order := make([]float64, n) // position within its row, for the next row's barycentres
	width := 0.0
	for d := 0; d <= maxDepth; d++ {
		row := rows[d]
		if d > 0 {
			bary := map[int]float64{}
			for _, v := range row {
				sum, k := 0.0, 0
				for _, e := range edges {
					if e.To == v && depth[e.From] < d {
						sum += order[e.From]
						k++
					}
				}
				if k > 0 {
					bary[v] = sum / float64(k)
				} else {
					bary[v] = float64(v)
				}
			}
			slices.SortStableFunc(row, func(a, b int) int {
				switch {
				case bary[a] < bary[b]:
					return -1
				case bary[a] > bary[b]:
					return 1
				}
				return 0
			})
		}
		x := float64(margin)
		for k, v := range row {
			w := float64(utf8.RuneCountInString(label(nodes[v].Label)))*charWidth + 2*padX
			pos[v] = placed{x: x, y: float64(margin + d*(boxHeight+gapY)), w: w}
			order[v] = float64(k)
			x += w + gapX
		}
		width = max(width, x-gapX+margin)
	}
	// Centre each row on the widest.
	for d := 0; d <= maxDepth; d++ {
		row := rows[d]
		if len(row) == 0 {
			continue
		}
		last := pos[row[len(row)-1]]
		shift := (width - (last.x + last.w + margin)) / 2
		for _, v := range row {
			pos[v].x += shift
		}
	}
	height := float64(margin*2 + (maxDepth+1)*boxHeight + maxDepth*gapY)
	if n == 0 {
		width, height = 2*margin, 2*margin
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="depgraph" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="Dependency graph">`,
		width, height, width, height)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>`)
	for _, e := range edges {
		if e.From < 0 || e.From >= n || e.To < 0 || e.To >= n {
			continue
		}
		a, c := pos[e.From], pos[e.To]
		x1, y1 := a.x+a.w/2, a.y+boxHeight
		x2, y2 := c.x+c.w/2, c.y
		if c.y <= a.y { // an edge back up (a cycle): from the side
			y1, y2 = a.y+boxHeight/2, c.y+boxHeight/2
		}
		class := "edge"
		if e.Dashed {
			class += " optional"
		}
		fmt.Fprintf(&b, `<line class="%s" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" marker-end="url(#arrow)"/>`, class, x1, y1, x2, y2)
	}
	for i, nd := range nodes {
		p := pos[i]
		class := "node"
		if nd.Class != "" {
			class += " " + nd.Class
		}
		if nd.Link != "" {
			b.WriteString(`<a href="`)
			xml.EscapeText(&b, []byte(nd.Link))
			b.WriteString(`">`)
		}
		fmt.Fprintf(&b, `<g class="%s">`, escape(class))
		if nd.Title != "" {
			b.WriteString("<title>")
			xml.EscapeText(&b, []byte(nd.Title))
			b.WriteString("</title>")
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%d" rx="4"/>`, p.x, p.y, p.w, boxHeight)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">`, p.x+p.w/2, p.y+boxHeight/2+4.5)
		xml.EscapeText(&b, []byte(label(nd.Label)))
		b.WriteString("</text></g>")
		if nd.Link != "" {
			b.WriteString("</a>")
		}
	}
	b.WriteString("</svg>")
	return b.Bytes()
}

func escape(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// label shortens absurd names so one node cannot stretch the drawing.
func label(s string) string {
	if utf8.RuneCountInString(s) <= maxLabel {
		return s
	}
	r := []rune(s)
	return string(r[:maxLabel-1]) + "…"
}

// layers gives each node its row: the longest path from a root, or the
// breadth-first distance when a cycle makes the longest path unbounded.
// Nodes unreachable from the roots go below the rest.
func layers(n int, edges []Edge, roots []int) []int {
	if len(roots) == 0 {
		in := make([]bool, n)
		for _, e := range edges {
			if e.From != e.To && e.To >= 0 && e.To < n {
				in[e.To] = true
			}
		}
		for i := range n {
			if !in[i] {
				roots = append(roots, i)
			}
		}
	}
	const unset = -1
	bfs := make([]int, n)
	for i := range bfs {
		bfs[i] = unset
	}
	queue := []int{}
	for _, r := range roots {
		if r >= 0 && r < n && bfs[r] == unset {
			bfs[r] = 0
			queue = append(queue, r)
		}
	}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, e := range edges {
			if e.From == v && e.To >= 0 && e.To < n && bfs[e.To] == unset {
				bfs[e.To] = bfs[v] + 1
				queue = append(queue, e.To)
			}
		}
	}
	deepest := 0
	for i := range bfs {
		deepest = max(deepest, bfs[i])
	}
	for i := range bfs {
		if bfs[i] == unset {
			bfs[i] = deepest + 1
		}
	}
	// Longest path by relaxation; more than n rounds means a cycle.
	long := slices.Clone(bfs)
	for round := 0; ; round++ {
		if round > n {
			return bfs
		}
		changed := false
		for _, e := range edges {
			if e.From == e.To || e.From < 0 || e.From >= n || e.To < 0 || e.To >= n {
				continue
			}
			if long[e.To] < long[e.From]+1 {
				long[e.To] = long[e.From] + 1
				changed = true
			}
		}
		if !changed {
			return long
		}
	}
}
