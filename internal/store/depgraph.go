package store

import (
	"context"
	"slices"
	"strings"
)

// The transitive dependencies of layers on one release branch, as the
// layer page draws them and the build setup export resolves them.

// DepNode is a layer in a dependency graph. An unresolved node is a
// declared dependency that no published layer on the branch provides: Name
// is then the collection as layer.conf names it and LB is nil.
type DepNode struct {
	Name string
	LB   *LayerBranch // with Layer; nil when unresolved
	Root bool         // one of the layers the graph was asked for
	// Required is true when some chain of LAYERDEPENDS (not only
	// LAYERRECOMMENDS) leads to it from a root.
	Required bool
}

// Resolved reports whether a layer on the branch provides the node.
func (n DepNode) Resolved() bool { return n.LB != nil }

// DepEdge is "From depends on (or recommends) To", as node indexes.
type DepEdge struct {
	From, To int
	Required bool
}

// DepGraph is the closure of the dependencies of some layer branches.
type DepGraph struct {
	Nodes []DepNode
	Edges []DepEdge
}

// Unresolved lists the nodes no layer on the branch provides.
func (g *DepGraph) Unresolved() []DepNode {
	var out []DepNode
	for _, n := range g.Nodes {
		if !n.Resolved() {
			out = append(out, n)
		}
	}
	return out
}

// DependencyGraph follows LAYERDEPENDS (and, with recommends, also
// LAYERRECOMMENDS) from the given layer branches of one release branch,
// transitively. Edges come from the dependency rows the last update of each
// layer branch stored; declared dependencies that no layer provides
// (kept by the update as declared_depends/declared_recommends) become
// unresolved nodes.
func (s *Store) DependencyGraph(ctx context.Context, roots []*LayerBranch, recommends bool) (*DepGraph, error) {
	g := &DepGraph{}
	byLayer := map[int64]int{} // layer id → node
	byName := map[string]int{} // unresolved collection → node
	var queue []int
	for _, lb := range roots {
		if _, ok := byLayer[lb.LayerID]; ok {
			continue
		}
		g.Nodes = append(g.Nodes, DepNode{Name: lb.Layer.Name, LB: lb, Root: true, Required: true})
		byLayer[lb.LayerID] = len(g.Nodes) - 1
		queue = append(queue, len(g.Nodes)-1)
	}
	db := s.with(ctx)
	for i := 0; i < len(queue); i++ {
		from := queue[i]
		lb := g.Nodes[from].LB
		var rows []struct {
			DependencyID int64
			Required     bool
		}
		if err := db.Raw(`SELECT d.dependency_id, d.required FROM layer_dependencies d
JOIN layers l ON l.id = d.dependency_id WHERE d.layer_branch_id = ? AND l.status IN ? ORDER BY d.required DESC, l.name`,
			lb.ID, publishedStatuses).Scan(&rows).Error; err != nil {
			return nil, err
		}
		provided := map[string]bool{}
		for _, r := range rows {
			if !r.Required && !recommends {
				continue
			}
			to, ok := byLayer[r.DependencyID]
			if !ok {
				var t LayerBranch
				err := db.Preload("Layer").Where("layer_id = ? AND branch_id = ?", r.DependencyID, lb.BranchID).Take(&t).Error
				switch err = translate(err); {
				case err == ErrNotFound:
					var l Layer
					if err := db.Where("id = ?", r.DependencyID).Take(&l).Error; err != nil {
						return nil, err
					}
					g.Nodes = append(g.Nodes, DepNode{Name: l.Name})
				case err != nil:
					return nil, err
				default:
					t.Branch = lb.Branch
					g.Nodes = append(g.Nodes, DepNode{Name: t.Layer.Name, LB: &t})
					queue = append(queue, len(g.Nodes)-1)
				}
				to = len(g.Nodes) - 1
				byLayer[r.DependencyID] = to
			}
			if n := &g.Nodes[to]; n.LB != nil {
				provided[n.LB.Collection], provided[n.Name] = true, true
			}
			g.Edges = append(g.Edges, DepEdge{From: from, To: to, Required: r.Required})
		}
		declared := func(names string, required bool) {
			for _, name := range strings.Fields(names) {
				if provided[name] {
					continue
				}
				// A collection another layer of the graph provides.
				if to := g.nodeProviding(name); to >= 0 {
					g.Edges = append(g.Edges, DepEdge{From: from, To: to, Required: required})
					continue
				}
				to, ok := byName[name]
				if !ok {
					g.Nodes = append(g.Nodes, DepNode{Name: name})
					to = len(g.Nodes) - 1
					byName[name] = to
				}
				g.Edges = append(g.Edges, DepEdge{From: from, To: to, Required: required})
			}
		}
		declared(lb.DeclaredDepends, true)
		if recommends {
			declared(lb.DeclaredRecommends, false)
		}
	}
	g.markRequired()
	return g, nil
}

func (g *DepGraph) nodeProviding(collection string) int {
	for i, n := range g.Nodes {
		if n.LB != nil && n.LB.Collection == collection {
			return i
		}
	}
	return -1
}

// markRequired sets Required on every node reachable from a root through
// required edges only.
func (g *DepGraph) markRequired() {
	var stack []int
	for i := range g.Nodes {
		g.Nodes[i].Required = g.Nodes[i].Root
		if g.Nodes[i].Root {
			stack = append(stack, i)
		}
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, e := range g.Edges {
			if e.From == n && e.Required && !g.Nodes[e.To].Required {
				g.Nodes[e.To].Required = true
				stack = append(stack, e.To)
			}
		}
	}
}

// LayerDependent is a layer on a branch that depends on (or recommends) another.
type LayerDependent struct {
	Name     string
	Summary  string
	Required bool
}

// Dependents lists the published layers on a branch whose last index
// depends on or recommends the layer, by name.
func (s *Store) Dependents(ctx context.Context, layerID, branchID int64) ([]LayerDependent, error) {
	var out []LayerDependent
	err := s.with(ctx).Raw(`
SELECT l.name, l.summary, MAX(CASE WHEN d.required THEN 1 ELSE 0 END) = 1 AS required
FROM layer_dependencies d
JOIN layer_branches lb ON lb.id = d.layer_branch_id
JOIN layers l ON l.id = lb.layer_id
WHERE d.dependency_id = ? AND lb.branch_id = ? AND l.status IN ? AND NOT l.comparison
GROUP BY l.name, l.summary`, layerID, branchID, publishedStatuses).Scan(&out).Error
	slices.SortFunc(out, func(a, b LayerDependent) int { return strings.Compare(a.Name, b.Name) })
	return out, err
}

// ProvidingLayerBranches lists the published layer branches of a branch
// that hold a machine (kind "machine") or distro (kind "distro") of that
// name, with their layers, by index preference and name.
func (s *Store) ProvidingLayerBranches(ctx context.Context, branchID int64, kind, name string) ([]LayerBranch, error) {
	table := map[string]string{"machine": "machines", "distro": "distros"}[kind]
	if table == "" {
		return nil, ErrNotFound
	}
	var lbs []LayerBranch
	err := s.with(ctx).Preload("Layer").Preload("Branch").
		Joins("JOIN layers ON layers.id = layer_branches.layer_id").
		Where("layer_branches.branch_id = ? AND layers.status IN ? AND NOT layers.comparison AND EXISTS (SELECT 1 FROM "+table+
			" x WHERE x.layer_branch_id = layer_branches.id AND x.name = ?)", branchID, publishedStatuses, name).
		Order("layers.index_preference DESC, layers.name").Find(&lbs).Error
	return lbs, err
}

// PublishedLayerBranch finds a published layer by name on a branch, with
// its layer and branch.
func (s *Store) PublishedLayerBranch(ctx context.Context, name string, branchID int64) (*LayerBranch, error) {
	var lb LayerBranch
	err := s.with(ctx).Preload("Layer").Preload("Branch").
		Joins("JOIN layers ON layers.id = layer_branches.layer_id").
		Where("layer_branches.branch_id = ? AND layers.name = ? AND layers.status IN ? AND NOT layers.comparison", branchID, name, publishedStatuses).
		Take(&lb).Error
	return &lb, translate(err)
}
