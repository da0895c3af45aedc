package web

import (
	"context"
	"html/template"
	"net/url"

	"layerindex/internal/graphsvg"
	"layerindex/internal/store"
)

// depGraphView is the dependencies tab of a layer page: the transitive
// LAYERDEPENDS and LAYERRECOMMENDS of the layer branch, drawn and listed,
// and the layers that depend on it.
type depGraphView struct {
	Graph      *store.DepGraph
	SVG        template.HTML
	Dependents []store.LayerDependent
}

// dependencyGraph builds the dependencies tab for a layer branch (with its
// Layer and Branch).
func (s *Server) dependencyGraph(ctx context.Context, lb *store.LayerBranch) (*depGraphView, error) {
	g, err := s.store.DependencyGraph(ctx, []*store.LayerBranch{lb}, true)
	if err != nil {
		return nil, err
	}
	v := &depGraphView{Graph: g}
	if v.Dependents, err = s.store.Dependents(ctx, lb.LayerID, lb.BranchID); err != nil {
		return nil, err
	}
	v.SVG = template.HTML(depGraphSVG(g, lb.Branch.Name)) // #nosec G203 -- graphsvg escapes every name
	return v, nil
}

// depGraphSVG draws a dependency graph; resolved layers link to their page
// on the branch.
func depGraphSVG(g *store.DepGraph, branch string) []byte {
	nodes := make([]graphsvg.Node, len(g.Nodes))
	var roots []int
	for i, n := range g.Nodes {
		nd := graphsvg.Node{Label: n.Name, Title: n.Name}
		switch {
		case n.Root:
			nd.Class = "root"
			roots = append(roots, i)
		case !n.Resolved():
			nd.Class, nd.Title = "unresolved", n.Name+": no layer on "+branch+" provides it"
		case !n.Required:
			nd.Class, nd.Title = "optional", n.Name+" (recommended)"
		}
		if n.Resolved() && !n.Root {
			nd.Link = "/layerindex/branch/" + url.PathEscape(branch) + "/layer/" + url.PathEscape(n.Name) + "/?tab=dependencies"
		}
		nodes[i] = nd
	}
	edges := make([]graphsvg.Edge, len(g.Edges))
	for i, e := range g.Edges {
		edges[i] = graphsvg.Edge{From: e.From, To: e.To, Dashed: !e.Required}
	}
	return graphsvg.Render(nodes, edges, roots)
}
