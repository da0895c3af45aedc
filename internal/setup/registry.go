package setup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"layerindex/internal/store"
)

// A bitbake-setup configuration registry is what `bitbake-setup list` and
// `bitbake-setup init NAME` read: every file ending in .conf.json under a
// directory (its name without the suffix is the configuration's name),
// fetched by BitBake's fetcher when it is a URL. BitBake's own
// default-registry keeps them in configurations/; so does this one. The
// fetcher can only update a fetched registry in place for git, so a remote
// registry must be a git repository: Git serves it to git's "dumb" HTTP
// protocol (plain files: info/refs, HEAD and loose objects), which needs no
// git on the server. TarGz is the same directory for a local registry.

// Registry is a set of configurations, laid out as BitBake's registry.
type Registry struct {
	files map[string][]byte // path → content
	// Time is the commit time of the git form (the latest change of what
	// it lists), so the same registry always has the same commit id.
	Time time.Time
}

// NewRegistry makes an empty registry.
func NewRegistry(t time.Time) *Registry {
	return &Registry{files: map[string][]byte{}, Time: t.UTC().Truncate(time.Second)}
}

// RegistryDir is the registry's directory of configurations.
const RegistryDir = "configurations"

// Add puts configuration name (a safe file name: letters, digits, '.', '-'
// and '_') into the registry.
func (r *Registry) Add(name string, conf []byte) {
	r.files[RegistryDir+"/"+name+".conf.json"] = conf
}

// Names lists the configurations.
func (r *Registry) Names() []string {
	var out []string
	for p := range r.files {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(p, RegistryDir+"/"), ".conf.json"))
	}
	sort.Strings(out)
	return out
}

func (r *Registry) paths() []string {
	var ps []string
	for p := range r.files {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// TarGz writes the registry as a gzipped tar of configurations/…: unpacked
// into a directory, that directory is a registry for bitbake-setup's
// `--setting default registry DIR` (an absolute path).
func (r *Registry) TarGz(w io.Writer) error {
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	hdr := &tar.Header{Typeflag: tar.TypeDir, Name: RegistryDir + "/", Mode: 0o755, ModTime: r.Time, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	for _, p := range r.paths() {
		b := r.files[p]
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: 0o644, Size: int64(len(b)), ModTime: r.Time, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(b); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// GitBranch is the registry repository's one branch.
const GitBranch = "master"

// GitRepo is the registry as a git repository of one commit on
// GitBranch, as the files of git's dumb HTTP protocol.
type GitRepo struct {
	Head    string            // the commit id
	objects map[string][]byte // id → zlib-compressed loose object
}

// Git builds the registry's repository. Its objects are made here, from
// the registry's files only (nothing is read from a layer's repository).
func (r *Registry) Git() (*GitRepo, error) {
	g := &GitRepo{objects: map[string][]byte{}}
	var entries []treeEntry
	for _, p := range r.paths() {
		id, err := g.add("blob", r.files[p])
		if err != nil {
			return nil, err
		}
		entries = append(entries, treeEntry{mode: "100644", name: strings.TrimPrefix(p, RegistryDir+"/"), id: id})
	}
	sub, err := g.add("tree", encodeTree(entries))
	if err != nil {
		return nil, err
	}
	root, err := g.add("tree", encodeTree([]treeEntry{{mode: "40000", name: RegistryDir, id: sub}}))
	if err != nil {
		return nil, err
	}
	who := fmt.Sprintf("Layer index <layerindex@localhost> %d +0000", r.Time.Unix())
	msg := fmt.Sprintf("tree %s\nauthor %s\ncommitter %s\n\nbitbake-setup configurations of the layer index's layer sets\n", root, who, who)
	if g.Head, err = g.add("commit", []byte(msg)); err != nil {
		return nil, err
	}
	return g, nil
}

type treeEntry struct {
	mode, name, id string
}

// encodeTree writes a git tree; entries are in git's order (by name, a
// directory compared as if its name ended in '/'), which for one directory
// of files or one subdirectory is the order by name.
func encodeTree(es []treeEntry) []byte {
	sort.Slice(es, func(i, j int) bool { return es[i].name < es[j].name })
	var b bytes.Buffer
	for _, e := range es {
		raw, _ := hex.DecodeString(e.id)
		b.WriteString(e.mode + " " + e.name + "\x00")
		b.Write(raw)
	}
	return b.Bytes()
}

// add stores an object and returns its id.
func (g *GitRepo) add(kind string, body []byte) (string, error) {
	raw := append([]byte(fmt.Sprintf("%s %d\x00", kind, len(body))), body...)
	sum := sha1.Sum(raw)
	id := hex.EncodeToString(sum[:])
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	if _, err := zw.Write(raw); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	g.objects[id] = z.Bytes()
	return id, nil
}

// File answers a path of the dumb HTTP protocol (relative to the
// repository's URL): info/refs, HEAD, objects/info/packs (none) and
// objects/XX/YYYY…; ok is false for anything else.
func (g *GitRepo) File(p string) (body []byte, ok bool) {
	switch p {
	case "info/refs":
		return []byte(g.Head + "\trefs/heads/" + GitBranch + "\n"), true
	case "HEAD":
		return []byte("ref: refs/heads/" + GitBranch + "\n"), true
	case "objects/info/packs":
		return []byte("\n"), true
	}
	rest, found := strings.CutPrefix(p, "objects/")
	if !found || len(rest) != 41 || rest[2] != '/' {
		return nil, false
	}
	b, ok := g.objects[rest[:2]+rest[3:]]
	return b, ok
}

// LayerSetRequest is the build setup request of a layer set.
func LayerSetRequest(ls *store.LayerSet) Request {
	return Request{Branch: ls.Branch, Layers: ls.Layers, Machine: ls.Machine, Distro: ls.Distro,
		Recommends: ls.Recommends, ConfigName: ls.Name, ConfigDescription: ls.Description}
}

// LayerSetConfig resolves a layer set on the index as it is now and makes
// its bitbake-setup configuration.
func LayerSetConfig(ctx context.Context, st *store.Store, ls *store.LayerSet, o Options) ([]byte, *Plan, error) {
	p, err := Resolve(ctx, st, LayerSetRequest(ls))
	if err != nil {
		return nil, nil, fmt.Errorf("layer set %s: %w", ls.Name, err)
	}
	b, err := p.BitbakeSetup(o)
	return b, p, err
}

// BuildRegistry makes the registry of the given layer sets. A set that no
// longer resolves (a layer left its release since it was saved) is left
// out and named in skipped, with why.
func BuildRegistry(ctx context.Context, st *store.Store, sets []store.LayerSet, o Options) (r *Registry, skipped []string, err error) {
	var latest time.Time
	for _, ls := range sets {
		if ls.UpdatedAt.After(latest) {
			latest = ls.UpdatedAt
		}
	}
	r = NewRegistry(latest)
	for i := range sets {
		conf, _, err := LayerSetConfig(ctx, st, &sets[i], o)
		if errors.Is(err, ErrInput) {
			skipped = append(skipped, err.Error())
			continue
		} else if err != nil {
			return nil, nil, err
		}
		r.Add(sets[i].Name, conf)
	}
	return r, skipped, nil
}

// Membership is a layer set that includes a layer.
type Membership struct {
	Set *store.LayerSet
	// Picked: the set names the layer; otherwise it comes in as a
	// dependency (or recommendation) of the layers the set names.
	Picked bool
}

// LayerSetsByLayer resolves the published layer sets of a release and
// lists, per layer name, the sets whose resolved layers include it, as
// their configurations would list it now. Sets that no longer resolve are
// skipped.
func LayerSetsByLayer(ctx context.Context, st *store.Store, b *store.Branch) (map[string][]Membership, error) {
	sets, err := st.LayerSetsOnBranch(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	out := map[string][]Membership{}
	for i := range sets {
		p, err := Resolve(ctx, st, LayerSetRequest(&sets[i]))
		if errors.Is(err, ErrInput) {
			continue
		} else if err != nil {
			return nil, err
		}
		for _, l := range p.Layers {
			out[l.Name] = append(out[l.Name], Membership{Set: &sets[i], Picked: slices.Contains(sets[i].Layers, l.Name)})
		}
	}
	return out, nil
}
