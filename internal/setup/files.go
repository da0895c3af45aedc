package setup

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// The files of a plan. Each is generated from the same Sources and Layers,
// so every one pins the same revisions.

type bbsGitRemote struct {
	URI    string `json:"uri"`
	Branch string `json:"branch,omitempty"`
	Rev    string `json:"rev"`
}

type bbsSource struct {
	GitRemote bbsGitRemote `json:"git-remote"`
	Path      string       `json:"path"`
}

type bbsConfiguration struct {
	Name         string   `json:"name"`
	Description  string   `json:"description"`
	BBLayers     []string `json:"bb-layers"`
	OEFragments  []string `json:"oe-fragments,omitempty"`
	SetupDirName string   `json:"setup-dir-name,omitempty"`
	Notes        []string `json:"notes,omitempty"`
}

type bbsFile struct {
	Description  string               `json:"description"`
	Sources      map[string]bbsSource `json:"sources"`
	BitbakeSetup struct {
		Configurations []bbsConfiguration `json:"configurations"`
	} `json:"bitbake-setup"`
	Version string `json:"version"`
}

// Name is a short name for the setup: the requested layers, machine and
// distro, safe as a file and directory name.
func (p *Plan) Name() string {
	if p.configName != "" {
		return repoName(p.configName)
	}
	var parts []string
	for _, l := range p.Layers {
		if l.Requested {
			parts = append(parts, l.Name)
		}
	}
	if len(parts) > 3 {
		parts = append(parts[:3], "more")
	}
	if p.Machine != "" {
		parts = append(parts, p.Machine)
	}
	if p.Distro != "" {
		parts = append(parts, p.Distro)
	}
	return repoName(strings.Join(parts, "-"))
}

// Description says what the setup is, for people.
func (p *Plan) Description() string {
	if p.configDescription != "" {
		return p.configDescription
	}
	var req []string
	for _, l := range p.Layers {
		if l.Requested {
			req = append(req, l.Name)
		}
	}
	s := fmt.Sprintf("%s on %s", strings.Join(req, ", "), p.Branch.Name)
	if p.Machine != "" {
		s += " for " + p.Machine
	}
	if p.Distro != "" {
		s += " with " + p.Distro
	}
	return s + " (layers and revisions from the layer index)"
}

// BitbakeSetup is the bitbake-setup configuration: every layer's source at
// the revision the index parsed, BitBake at the release's BitBake branch,
// the layers in bb-layers and the machine and distro as oe-fragments.
func (p *Plan) BitbakeSetup(o Options) ([]byte, error) {
	f := bbsFile{Description: p.Description(), Sources: map[string]bbsSource{}, Version: "1.0"}
	bb := p.BitbakeSource(o)
	f.Sources[bb.Name] = bbsSource{GitRemote: bbsGitRemote{URI: bb.URL, Branch: bb.Branch, Rev: bb.Branch}, Path: bb.Name}
	for _, s := range p.Sources {
		f.Sources[s.Name] = bbsSource{GitRemote: bbsGitRemote{URI: s.URL, Branch: s.Branch, Rev: s.Rev}, Path: s.Name}
	}
	c := bbsConfiguration{Name: p.Name(), Description: p.Description(), BBLayers: p.LayerDirs(), OEFragments: p.Fragments()}
	for _, w := range p.Warnings {
		c.Notes = append(c.Notes, "Warning: "+w)
	}
	f.BitbakeSetup.Configurations = []bbsConfiguration{c}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	err := enc.Encode(f)
	return b.Bytes(), err
}

// LayerDirs are the layers' directories relative to the directory the
// sources are fetched into, dependencies first.
func (p *Plan) LayerDirs() []string {
	out := make([]string, len(p.Layers))
	for i, l := range p.Layers {
		out[i] = l.Dir()
	}
	return out
}

type kasHeader struct {
	Version int `yaml:"version"`
}

type kasRepo struct {
	URL     string                       `yaml:"url,omitempty"`
	Refspec string                       `yaml:"refspec,omitempty"`
	Path    string                       `yaml:"path,omitempty"`
	Layers  map[string]*kasLayerDisabled `yaml:"layers"`
}

// kasLayerDisabled is a layer entry: nil (an empty value) includes it,
// "disabled" leaves a repository's root out.
type kasLayerDisabled string

type kasFile struct {
	Header  kasHeader          `yaml:"header"`
	Machine string             `yaml:"machine,omitempty"`
	Distro  string             `yaml:"distro,omitempty"`
	Repos   map[string]kasRepo `yaml:"repos"`
}

// KasFormatVersion is the kas configuration format written: 12, which
// Debian's kas 3.1 reads and later kas versions still accept (refspec
// pins a commit).
const KasFormatVersion = 12

// Kas is a kas project file with the same sources and revisions.
func (p *Plan) Kas(o Options) ([]byte, error) {
	// kas's default distro is poky, which is not OpenEmbedded's core:
	// without a choice the build uses the core's own default, nodistro.
	f := kasFile{Header: kasHeader{Version: KasFormatVersion}, Machine: p.Machine, Distro: cmp.Or(p.Distro, "nodistro"), Repos: map[string]kasRepo{}}
	disabled := kasLayerDisabled("disabled")
	bb := p.BitbakeSource(o)
	f.Repos[bb.Name] = kasRepo{URL: bb.URL, Refspec: bb.Branch, Path: "layers/" + bb.Name,
		Layers: map[string]*kasLayerDisabled{".": &disabled}}
	for _, s := range p.Sources {
		r := kasRepo{URL: s.URL, Refspec: s.Rev, Path: "layers/" + s.Name, Layers: map[string]*kasLayerDisabled{}}
		for _, l := range p.Layers {
			if l.Source == s.Name {
				r.Layers[dotIfEmpty(l.Subdir)] = nil
			}
		}
		f.Repos[s.Name] = r
	}
	var b bytes.Buffer
	b.WriteString("# kas project file made by the layer index: " + oneLine(p.Description()) + "\n")
	for _, w := range p.Warnings {
		b.WriteString("# Warning: " + oneLine(w) + "\n")
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

func dotIfEmpty(s string) string {
	if s == "" {
		return "."
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// BBLayers is a bblayers.conf fragment for sources cloned into
// ${TOPDIR}/../layers (the layout of the git commands).
func (p *Plan) BBLayers() string {
	var b strings.Builder
	b.WriteString("# " + oneLine(p.Description()) + "\n")
	b.WriteString("BBLAYERS ?= \" \\\n")
	for _, d := range p.LayerDirs() {
		b.WriteString("  ${TOPDIR}/../layers/" + d + " \\\n")
	}
	b.WriteString("  \"\n")
	return b.String()
}

// Commands are the shell commands that fetch every source at its pinned
// revision into layers/.
func (p *Plan) Commands(o Options) string {
	var b strings.Builder
	b.WriteString("mkdir -p layers && cd layers\n")
	bb := p.BitbakeSource(o)
	fmt.Fprintf(&b, "git clone -b %s %s %s\n", shellQuote(bb.Branch), shellQuote(bb.URL), bb.Name)
	for _, s := range p.Sources {
		fmt.Fprintf(&b, "git clone %s %s && git -C %s checkout -q %s\n", shellQuote(s.URL), s.Name, s.Name, s.Rev)
	}
	b.WriteString("cd ..\n")
	for _, l := range p.Layers {
		if l.Collection == "core" {
			b.WriteString(". layers/" + l.Source + "/oe-init-build-env build\n")
			break
		}
	}
	return b.String()
}

// shellQuote quotes s for sh when it holds anything but safe characters.
func shellQuote(s string) string {
	safe := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@+=,", r))
	}) < 0
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
