// Package setup turns a choice of layers (and optionally a machine and a
// distro) on a release branch into a build setup: the layers' transitive
// dependencies resolved on that branch, warnings about incompatibilities,
// and the files that get a build going — a bitbake-setup configuration
// (BitBake's setup-schema/bitbake-setup.schema.json), a kas file, a
// bblayers.conf fragment and the git commands. Every layer's repository is
// pinned to the revision the index parsed. It only reads the index.
package setup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"layerindex/internal/store"
)

// Request is what a user picks.
type Request struct {
	Branch  *store.Branch
	Layers  []string // layer names
	Machine string   // optional machine name
	Distro  string   // optional distro name
	// Recommends also brings in LAYERRECOMMENDS (transitively).
	Recommends bool
	// ConfigName and ConfigDescription, when set, name and describe the
	// configuration instead of the generated ones (a layer set's).
	ConfigName        string
	ConfigDescription string
}

// Limits on a request: the page and the URL carry them.
const (
	MaxLayers  = 64
	maxNameLen = 100
)

// ErrInput is wrapped by errors a user can fix (an unknown layer, machine
// or distro); front doors answer 400/404 with its message.
var ErrInput = errors.New("invalid build setup")

func inputErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInput, fmt.Sprintf(format, a...))
}

// Layer is one layer of the resolved setup.
type Layer struct {
	Name       string
	Collection string
	Source     string // key of its Source
	Subdir     string // inside the repository; "" for the root
	Rev        string // the revision the index parsed
	Requested  bool   // picked by the user (or providing the machine/distro)
	Required   bool   // needed through LAYERDEPENDS (not only recommended)
	Compat     string // store.CompatYes/No/Unknown with the release
}

// Dir is the layer's directory relative to the layers download directory.
func (l Layer) Dir() string {
	if l.Subdir == "" {
		return l.Source
	}
	return path.Join(l.Source, l.Subdir)
}

// Source is one git repository to fetch.
type Source struct {
	Name   string // directory and key, e.g. "meta-openembedded"
	URL    string
	Rev    string // full commit id; "" for BitBake's (not indexed)
	Branch string // git branch the revision is on
}

// Plan is a resolved setup.
type Plan struct {
	Branch   *store.Branch
	Release  store.Release
	Layers   []Layer // dependencies before their dependents
	Sources  []Source
	Machine  string
	Distro   string
	Warnings []string
	// Unresolved names dependencies no layer on the branch provides.
	Unresolved []string

	configName, configDescription string
}

// Options are the site's settings the files depend on.
type Options struct {
	// BitbakeURL is BitBake's repository, fetched at the release branch's
	// BitBake branch (the index does not parse BitBake, so it is the one
	// source not pinned to a revision).
	BitbakeURL string
}

// DefaultBitbakeURL is BitBake's upstream repository.
const DefaultBitbakeURL = "https://git.openembedded.org/bitbake"

// Resolve builds the plan of a request from the index.
func Resolve(ctx context.Context, st *store.Store, req Request) (*Plan, error) {
	if req.Branch == nil {
		return nil, inputErr("no release branch")
	}
	if len(req.Layers) == 0 && req.Machine == "" && req.Distro == "" {
		return nil, inputErr("pick at least one layer, machine or distro")
	}
	if len(req.Layers) > MaxLayers {
		return nil, inputErr("at most %d layers", MaxLayers)
	}
	p := &Plan{Branch: req.Branch, Machine: req.Machine, Distro: req.Distro,
		configName: req.ConfigName, configDescription: req.ConfigDescription}
	names, err := st.ReleaseCoreNames(ctx, req.Branch.ID)
	if err != nil {
		return nil, err
	}
	p.Release = store.Release{Branch: *req.Branch, CoreNames: names}

	var roots []*store.LayerBranch
	have := map[string]bool{}
	for _, name := range req.Layers {
		if len(name) > maxNameLen || have[name] {
			continue
		}
		lb, err := st.PublishedLayerBranch(ctx, name, req.Branch.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, inputErr("no published layer %q on %s", name, req.Branch.Name)
		} else if err != nil {
			return nil, err
		}
		have[name] = true
		roots = append(roots, lb)
	}
	// The machine and distro come from a layer of the index: one already
	// picked if it has them, else the preferred one, which joins the setup.
	for _, want := range []struct{ kind, name string }{{"machine", req.Machine}, {"distro", req.Distro}} {
		if want.name == "" {
			continue
		}
		if len(want.name) > maxNameLen {
			return nil, inputErr("%s name too long", want.kind)
		}
		lbs, err := st.ProvidingLayerBranches(ctx, req.Branch.ID, want.kind, want.name)
		if err != nil {
			return nil, err
		}
		if len(lbs) == 0 {
			return nil, inputErr("no layer on %s has the %s %q", req.Branch.Name, want.kind, want.name)
		}
		pick := &lbs[0]
		for i := range lbs {
			if have[lbs[i].Layer.Name] {
				pick = &lbs[i]
				break
			}
		}
		if !have[pick.Layer.Name] {
			have[pick.Layer.Name] = true
			roots = append(roots, pick)
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s %s is in layer %s, which was added.", want.kind, want.name, pick.Layer.Name))
		}
	}

	g, err := st.DependencyGraph(ctx, roots, req.Recommends)
	if err != nil {
		return nil, err
	}
	order := topoOrder(g)
	for _, i := range order {
		n := g.Nodes[i]
		if !n.Resolved() {
			p.Unresolved = append(p.Unresolved, n.Name)
			kind := "required"
			if !n.Required {
				kind = "recommended"
			}
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s layer %s: no layer on %s provides it.", kind, n.Name, req.Branch.Name))
			continue
		}
		lb := n.LB
		l := Layer{Name: n.Name, Collection: lb.Collection, Subdir: strings.Trim(lb.VCSSubdir, "/"), Rev: lb.VCSLastRev,
			Requested: n.Root, Required: n.Required, Compat: store.Compatibility(lb.SeriesCompat, names)}
		if lb.VCSLastRev == "" {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s has not been indexed on %s yet: it cannot be pinned and is left out.", n.Name, req.Branch.Name))
			continue
		}
		switch l.Compat {
		case store.CompatNo:
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s declares compatibility with %s (LAYERSERIES_COMPAT), not with %s (%s): BitBake will refuse it.",
				n.Name, lb.SeriesCompat, req.Branch.Name, names))
		case store.CompatUnknown:
			if names != "" && lb.SeriesCompat == "" {
				p.Warnings = append(p.Warnings, fmt.Sprintf("%s does not set LAYERSERIES_COMPAT: BitBake will warn.", n.Name))
			}
		}
		l.Source = p.addSource(lb)
		p.Layers = append(p.Layers, l)
	}
	if names == "" {
		p.Warnings = append(p.Warnings, fmt.Sprintf("The core layer of %s is not indexed: compatibility is unknown.", req.Branch.Name))
	}
	return p, nil
}

// addSource returns the source key of a layer branch's repository, adding
// it if new. Layers of one repository indexed at different commits share
// the source at the first one's commit, with a warning.
func (p *Plan) addSource(lb *store.LayerBranch) string {
	for _, s := range p.Sources {
		if s.URL == lb.Layer.VCSURL {
			if s.Rev != lb.VCSLastRev {
				p.Warnings = append(p.Warnings, fmt.Sprintf("%s was indexed at %s of %s, but the setup uses %s for every layer of that repository.",
					lb.Layer.Name, short(lb.VCSLastRev), s.URL, short(s.Rev)))
			}
			return s.Name
		}
	}
	base := repoName(lb.Layer.VCSURL)
	name := base
	for i := 2; p.sourceNamed(name) || name == "bitbake"; i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	p.Sources = append(p.Sources, Source{Name: name, URL: lb.Layer.VCSURL, Rev: lb.VCSLastRev, Branch: lb.GitBranch()})
	return name
}

func (p *Plan) sourceNamed(n string) bool {
	return slices.ContainsFunc(p.Sources, func(s Source) bool { return s.Name == n })
}

// repoName is a directory name for a repository URL: its last path
// element without ".git", restricted to safe characters.
func repoName(u string) string {
	u = strings.TrimRight(u, "/")
	if i := strings.LastIndexAny(u, "/:"); i >= 0 {
		u = u[i+1:]
	}
	u = strings.TrimSuffix(u, ".git")
	u = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, u)
	u = strings.TrimLeft(u, ".")
	return cmp.Or(u, "layer")
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// topoOrder lists node indexes with dependencies before dependents (the
// order of BBLAYERS does not matter to BitBake, but readers expect the core
// first); cycles are broken in discovery order.
func topoOrder(g *store.DepGraph) []int {
	state := make([]int, len(g.Nodes)) // 0 new, 1 visiting, 2 done
	var out []int
	var visit func(int)
	visit = func(v int) {
		if state[v] != 0 {
			return
		}
		state[v] = 1
		for _, e := range g.Edges {
			if e.From == v {
				visit(e.To)
			}
		}
		state[v] = 2
		out = append(out, v)
	}
	for i := range g.Nodes {
		visit(i)
	}
	return out
}

// BitbakeSource is BitBake's source for the release branch.
func (p *Plan) BitbakeSource(o Options) Source {
	b := strings.TrimPrefix(p.Branch.BitbakeBranch, "origin/")
	if b == "" {
		b = p.Branch.Name
	}
	return Source{Name: "bitbake", URL: cmp.Or(o.BitbakeURL, DefaultBitbakeURL), Branch: b}
}

// Fragments are the oe-fragments for the machine and distro.
func (p *Plan) Fragments() []string {
	var out []string
	if p.Machine != "" {
		out = append(out, "machine/"+p.Machine)
	}
	if p.Distro != "" {
		out = append(out, "distro/"+p.Distro)
	}
	return out
}
