package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"layerindex/internal/bitbake"
	"layerindex/internal/store"
)

// This file is `layerindex import`: it mirrors another layer index (this
// one or upstream's layerindex-web) through its REST API, as upstream's
// layerindex/tools/import_layers.py does, so a site can start from the
// public index's data. Re-running it changes only what changed there.

// ImportOptions narrows and tunes an import.
type ImportOptions struct {
	Branches []string       // branch names to import; empty: every branch of the other index
	Layers   *regexp.Regexp // layer names to import (whole-name match); nil: every layer
	Recipes  bool           // also import each layer branch's index: recipes, machines, distros, classes, appends, inc files
	Reload   bool           // re-import indexes even where the other index's revision is unchanged
	Client   *http.Client   // nil: a client with generous timeouts
	Logger   *slog.Logger
	// MaxResponse caps the size of one response (default 1 GiB): the
	// other index is trusted for content, not for size.
	MaxResponse int64
	// CheckVCSURL says why a layer's repository URL must not be stored
	// (catalog.Service.CheckImportedURL); such layers are skipped with a
	// warning. Nil skips none.
	CheckVCSURL func(string) error
}

// ImportResult says what an import did.
type ImportResult struct {
	store.MirrorResult
	Indexed, IndexSkipped int              // layer branches whose index was imported, or skipped as current
	Recipes               store.IndexStats // summed over the imported indexes
	// Refused lists the layers skipped because of their repository URL,
	// with the reason.
	Refused []string
}

// apiTime reads the dates other indexes write: ISO 8601 with a "+00:00" or
// "+0000" offset (upstream's; its minutes hold the month, see
// shared/docs/layerindex.md §4.1, which is kept as served), or null.
type apiTime struct{ t *time.Time }

func (a *apiTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		a.t = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			a.t = &t
			return nil
		}
	}
	return fmt.Errorf("unreadable date %q", s)
}

// time is the date, or the zero time for null (the store's "now").
func (a apiTime) time() time.Time {
	if a.t == nil {
		return time.Time{}
	}
	return *a.t
}

// nstr is a string that may be null (upstream's nullable CharFields).
type nstr string

func (n *nstr) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = ""
		return nil
	}
	var s string
	err := json.Unmarshal(b, &s)
	*n = nstr(s)
	return err
}

type remoteBranch struct {
	ID               int64
	Name             string
	BitbakeBranch    nstr `json:"bitbake_branch"`
	ShortDescription nstr `json:"short_description"`
	SortPriority     *int `json:"sort_priority"`
	UpdatesEnabled   *bool
	Comparison       bool
	Hidden           bool
	Updated          apiTime
}

type remoteLayer struct {
	ID                int64
	Name              string
	Status            string
	LayerType         string `json:"layer_type"`
	Summary           nstr
	Description       nstr
	VCSURL            nstr `json:"vcs_url"`
	VCSWebURL         nstr `json:"vcs_web_url"`
	VCSWebTreeBaseURL nstr `json:"vcs_web_tree_base_url"`
	VCSWebFileBaseURL nstr `json:"vcs_web_file_base_url"`
	VCSWebCommitURL   nstr `json:"vcs_web_commit_url"`
	UsageURL          nstr `json:"usage_url"`
	MailingListURL    nstr `json:"mailing_list_url"`
	IndexPreference   int  `json:"index_preference"`
	Comparison        bool
	Updated           apiTime
}

type remoteLayerBranch struct {
	ID             int64
	Layer, Branch  int64
	Collection     nstr
	Version        nstr
	VCSSubdir      nstr    `json:"vcs_subdir"`
	VCSLastFetch   apiTime `json:"vcs_last_fetch"`
	VCSLastRev     nstr    `json:"vcs_last_rev"`
	VCSLastCommit  apiTime `json:"vcs_last_commit"`
	ActualBranch   nstr    `json:"actual_branch"`
	LocalPath      nstr    `json:"local_path"`
	UpdatesEnabled *bool   `json:"updates_enabled"`
	Updated        apiTime
}

type remoteDependency struct {
	ID          int64
	LayerBranch int64 `json:"layerbranch"`
	Dependency  int64
	Required    *bool
}

type remoteMaintainer struct {
	ID             int64
	LayerBranch    int64 `json:"layerbranch"`
	Name           nstr
	Email          nstr
	Responsibility nstr
	Status         nstr
}

type remoteNote struct {
	ID    int64
	Layer int64
	Text  nstr
}

type remoteRecipe struct {
	ID            int64
	Filename      string
	Filepath      nstr
	PN            nstr `json:"pn"`
	PV            nstr `json:"pv"`
	PR            nstr `json:"pr"`
	PE            nstr `json:"pe"`
	Summary       nstr
	Description   nstr
	Section       nstr
	License       nstr
	Homepage      nstr
	Bugtracker    nstr
	Provides      nstr
	BBClassExtend nstr `json:"bbclassextend"`
	Inherits      nstr
	Blacklisted   nstr
	ConfigOpts    nstr `json:"configopts"`
	SrcRev        nstr `json:"srcrev"`
	Updated       apiTime
	Sources       []struct {
		URL       nstr `json:"url"`
		SHA256Sum nstr `json:"sha256sum"`
	}
	Patches []struct {
		Path        nstr
		SrcPath     nstr `json:"src_path"`
		Status      nstr
		StatusExtra nstr `json:"status_extra"`
		ApplyOrder  *int `json:"apply_order"`
		Applied     *bool
		Striplevel  *int
	}
	PackageConfigs []struct {
		BuildDeps     []string `json:"builddeps"`
		Feature       nstr
		WithOption    nstr `json:"with_option"`
		WithoutOption nstr `json:"without_option"`
	} `json:"package_configs"`
	StaticBuildDeps []string `json:"staticbuilddeps"`
	FileDeps        []struct {
		Path        string
		LayerBranch int64 `json:"layerbranch"`
	} `json:"filedeps"`
}

type remoteNamed struct {
	ID          int64
	Name        string
	Description nstr
	BBClassType nstr `json:"bbclass_type"`
	Filename    string
	Filepath    nstr
	Path        string
	Updated     apiTime
}

type importer struct {
	opts   ImportOptions
	origin *url.URL // scheme and host of the API root the user gave
	links  map[string]string
}

// local resolves a link the other index advertises (root links, next
// pages) on the origin the user gave: servers behind proxies often
// advertise the wrong scheme or host, and an import must not be sent
// elsewhere by the data it reads.
func (im *importer) local(link string) (string, error) {
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("the other index advertises a bad URL %q", link)
	}
	u.Scheme, u.Host, u.User = im.origin.Scheme, im.origin.Host, nil
	return u.String(), nil
}

// Import mirrors the layer index at rawURL (its site URL or its API URL)
// into s.
func Import(ctx context.Context, s *store.Store, rawURL string, opts ImportOptions) (*ImportResult, error) {
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Minute}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxResponse == 0 {
		opts.MaxResponse = 1 << 30
	}
	apiURL, err := apiRoot(rawURL)
	if err != nil {
		return nil, err
	}
	origin, _ := url.Parse(apiURL)
	im := &importer{opts: opts, origin: origin}
	if err := im.get(ctx, apiURL, &im.links); err != nil {
		return nil, err
	}
	for _, k := range []string{"branches", "layerItems", "layerBranches", "layerDependencies"} {
		if im.links[k] == "" {
			return nil, fmt.Errorf("%s is not a layer index API: its root has no %q link", apiURL, k)
		}
	}
	for k, v := range im.links {
		if im.links[k], err = im.local(v); err != nil {
			return nil, err
		}
	}

	// Branches: every one, or the ones asked for (all of which must exist).
	branchFilter := ""
	if len(opts.Branches) > 0 {
		branchFilter = strings.Join(opts.Branches, "OR")
	}
	var branches []remoteBranch
	if err := im.list(ctx, "branches", "name", branchFilter, &branches); err != nil {
		return nil, err
	}
	branchName := map[int64]string{}
	m := &store.Mirror{Prune: true}
	for _, b := range branches {
		if len(opts.Branches) > 0 && !slices.Contains(opts.Branches, b.Name) {
			continue
		}
		branchName[b.ID] = b.Name
		m.Branches = append(m.Branches, store.Branch{Name: b.Name, BitbakeBranch: string(b.BitbakeBranch),
			ShortDescription: string(b.ShortDescription), SortPriority: b.SortPriority,
			UpdatesEnabled: b.UpdatesEnabled == nil || *b.UpdatesEnabled, Comparison: b.Comparison, Hidden: b.Hidden,
			UpdatedAt: b.Updated.time()})
	}
	for _, want := range opts.Branches {
		if !slices.Contains(mapVals(branchName), want) {
			return nil, fmt.Errorf("the other index has no branch %q", want)
		}
	}

	var layers []remoteLayer
	if err := im.list(ctx, "layerItems", "", "", &layers); err != nil {
		return nil, err
	}
	layerName := map[int64]string{}
	layerAt := map[int64]int{}
	var refused []string
	for _, l := range layers {
		if opts.Layers != nil && !opts.Layers.MatchString(l.Name) {
			continue
		}
		if !validLayer(l) {
			opts.Logger.Warn("skipping a layer the other index serves with invalid fields", "layer", l.Name, "status", l.Status, "type", l.LayerType)
			continue
		}
		if opts.CheckVCSURL != nil {
			if err := opts.CheckVCSURL(string(l.VCSURL)); err != nil {
				opts.Logger.Warn("skipping a layer whose repository URL this site refuses", "layer", l.Name, "vcs_url", clipURL(string(l.VCSURL)), "reason", err.Error())
				refused = append(refused, fmt.Sprintf("%s: repository URL refused: %v", l.Name, err))
				continue
			}
		}
		layerName[l.ID] = l.Name
		layerAt[l.ID] = len(m.Layers)
		m.Layers = append(m.Layers, store.MirrorLayer{Layer: store.Layer{Name: l.Name, Status: l.Status, LayerType: l.LayerType,
			Summary: string(l.Summary), Description: string(l.Description), VCSURL: string(l.VCSURL),
			VCSWebURL: string(l.VCSWebURL), VCSWebTreeBaseURL: string(l.VCSWebTreeBaseURL),
			VCSWebFileBaseURL: string(l.VCSWebFileBaseURL), VCSWebCommitURL: string(l.VCSWebCommitURL),
			UsageURL: string(l.UsageURL), MailingListURL: string(l.MailingListURL), IndexPreference: l.IndexPreference,
			Comparison: l.Comparison, UpdatedAt: l.Updated.time()}})
	}

	var lbs []remoteLayerBranch
	if err := im.list(ctx, "layerBranches", "branch__name", branchFilter, &lbs); err != nil {
		return nil, err
	}
	lbAt := map[int64]int{}
	remoteLB := map[int64]*remoteLayerBranch{}
	for i := range lbs {
		lb := &lbs[i]
		ln, bn := layerName[lb.Layer], branchName[lb.Branch]
		if ln == "" || bn == "" {
			continue
		}
		lbAt[lb.ID] = len(m.LayerBranches)
		remoteLB[lb.ID] = lb
		m.LayerBranches = append(m.LayerBranches, store.MirrorLayerBranch{Layer: ln, Branch: bn,
			Collection: string(lb.Collection), Version: string(lb.Version), VCSSubdir: string(lb.VCSSubdir),
			ActualBranch: string(lb.ActualBranch), LocalPath: string(lb.LocalPath),
			UpdatesEnabled: lb.UpdatesEnabled == nil || *lb.UpdatesEnabled, Updated: lb.Updated.time(),
			Maintainers: []store.LayerMaintainer{}})
	}

	var deps []remoteDependency
	if err := im.list(ctx, "layerDependencies", "layerbranch__branch__name", branchFilter, &deps); err != nil {
		return nil, err
	}
	for _, d := range deps {
		i, ok := lbAt[d.LayerBranch]
		if !ok || layerName[d.Dependency] == "" {
			continue // a layer not imported; upstream's importer skips these too
		}
		m.LayerBranches[i].Dependencies = append(m.LayerBranches[i].Dependencies,
			store.MirrorDependency{Layer: layerName[d.Dependency], Required: d.Required == nil || *d.Required})
	}
	if im.links["layerMaintainers"] != "" {
		var ms []remoteMaintainer
		if err := im.list(ctx, "layerMaintainers", "layerbranch__branch__name", branchFilter, &ms); err != nil {
			return nil, err
		}
		for _, x := range ms {
			if i, ok := lbAt[x.LayerBranch]; ok {
				st := string(x.Status)
				if st != "I" {
					st = "A"
				}
				m.LayerBranches[i].Maintainers = append(m.LayerBranches[i].Maintainers, store.LayerMaintainer{
					Name: string(x.Name), Email: string(x.Email), Responsibility: string(x.Responsibility), Status: st})
			}
		}
	}
	if im.links["layerNotes"] != "" {
		var notes []remoteNote
		if err := im.list(ctx, "layerNotes", "", "", &notes); err != nil {
			return nil, err
		}
		for _, n := range notes {
			if i, ok := layerAt[n.Layer]; ok {
				m.Layers[i].Notes = append(m.Layers[i].Notes, string(n.Text))
			}
		}
	}

	mr, err := s.Mirror(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("writing the mirrored layers: %w", err)
	}
	res := &ImportResult{MirrorResult: *mr, Refused: refused}
	opts.Logger.Info("imported layers", "branches", len(m.Branches), "layers", len(m.Layers), "layer_branches", len(m.LayerBranches))
	if !opts.Recipes {
		return res, nil
	}
	for _, lb := range lbs {
		if _, ok := remoteLB[lb.ID]; !ok {
			continue
		}
		key := layerName[lb.Layer] + "/" + branchName[lb.Branch]
		localID := mr.LayerBranchIDs[key]
		if !opts.Reload {
			current, err := s.MirrorIndexCurrent(ctx, localID, string(lb.VCSLastRev))
			if err != nil {
				return nil, err
			}
			if current {
				res.IndexSkipped++
				continue
			}
		}
		ch, err := im.index(ctx, lb.ID)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		st, err := s.MirrorIndex(ctx, localID, ch, store.MirrorState{Rev: string(lb.VCSLastRev),
			LastFetch: lb.VCSLastFetch.t, LastCommit: lb.VCSLastCommit.t, Updated: lb.Updated.t})
		if err != nil {
			return nil, fmt.Errorf("%s: writing the index: %w", key, err)
		}
		res.Indexed++
		res.Recipes.Added += st.Added
		res.Recipes.Changed += st.Changed
		res.Recipes.Removed += st.Removed
		res.Recipes.Unchanged += st.Unchanged
		opts.Logger.Info("imported index", "layer_branch", key, "added", st.Added, "changed", st.Changed, "removed", st.Removed, "unchanged", st.Unchanged)
	}
	return res, nil
}

// index fetches the complete index of remote layer branch id.
func (im *importer) index(ctx context.Context, id int64) (*store.IndexChange, error) {
	by := strconv.FormatInt(id, 10)
	ch := &store.IndexChange{Full: true, KeepUpdated: true}
	var recipes []remoteRecipe
	switch {
	case im.links["recipesExtended"] != "":
		if err := im.pages(ctx, "recipesExtended", by, &recipes); err != nil {
			return nil, err
		}
	case im.links["recipes"] != "":
		if err := im.list(ctx, "recipes", "layerbranch", by, &recipes); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("the other index serves no recipes")
	}
	seen := map[string]bool{}
	for _, r := range recipes {
		rd := store.RecipeData{Recipe: store.Recipe{Filename: r.Filename, Filepath: string(r.Filepath), PN: string(r.PN),
			PV: string(r.PV), PR: string(r.PR), PE: string(r.PE), Summary: string(r.Summary), Description: string(r.Description),
			Section: string(r.Section), License: string(r.License), Homepage: string(r.Homepage), Bugtracker: string(r.Bugtracker),
			Provides: string(r.Provides), BBClassExtend: string(r.BBClassExtend), Inherits: string(r.Inherits),
			Blacklisted: string(r.Blacklisted), ConfigOpts: string(r.ConfigOpts), SrcRev: string(r.SrcRev), UpdatedAt: r.Updated.time()},
			BuildDeps: r.StaticBuildDeps}
		if p := rd.Recipe.Path(); seen[p] || r.Filename == "" {
			continue // a layer holds one recipe per path
		} else {
			seen[p] = true
		}
		for _, x := range r.Sources {
			rd.Sources = append(rd.Sources, store.RecipeSource{URL: string(x.URL), SHA256Sum: string(x.SHA256Sum)})
		}
		for _, x := range r.Patches {
			p := store.RecipePatch{Path: string(x.Path), SrcPath: string(x.SrcPath), Status: string(x.Status),
				StatusExtra: string(x.StatusExtra), ApplyOrder: x.ApplyOrder, Applied: x.Applied == nil || *x.Applied, Striplevel: 1}
			if x.Striplevel != nil {
				p.Striplevel = *x.Striplevel
			}
			if p.Status == "" {
				p.Status = "U"
			}
			rd.Patches = append(rd.Patches, p)
		}
		for _, x := range r.PackageConfigs {
			if !bitbake.PackageConfigFeature(string(x.Feature)) {
				continue // upstream stores bitbake.conf's [vardepvalue] as a feature
			}
			rd.PackageConfigs = append(rd.PackageConfigs, store.RecipePackageConfig{Feature: string(x.Feature),
				WithOption: string(x.WithOption), WithoutOption: string(x.WithoutOption), BuildDeps: strings.Join(x.BuildDeps, " ")})
		}
		for _, f := range r.FileDeps {
			if f.LayerBranch == id { // files of other layers are not tracked per recipe here
				rd.FileDeps = append(rd.FileDeps, f.Path)
			}
		}
		ch.Upserts = append(ch.Upserts, rd)
	}
	var named []remoteNamed
	fetch := func(name string) (bool, error) {
		named = named[:0]
		if im.links[name] == "" {
			return false, nil
		}
		return true, im.list(ctx, name, "layerbranch", by, &named)
	}
	if ok, err := fetch("machines"); err != nil {
		return nil, err
	} else if ok {
		ch.Machines = []store.Machine{}
		for _, x := range dedupeBy(named, func(x remoteNamed) string { return x.Name }) {
			ch.Machines = append(ch.Machines, store.Machine{Name: x.Name, Description: string(x.Description), UpdatedAt: x.Updated.time()})
		}
	}
	if ok, err := fetch("distros"); err != nil {
		return nil, err
	} else if ok {
		ch.Distros = []store.Distro{}
		for _, x := range dedupeBy(named, func(x remoteNamed) string { return x.Name }) {
			ch.Distros = append(ch.Distros, store.Distro{Name: x.Name, Description: string(x.Description), UpdatedAt: x.Updated.time()})
		}
	}
	if ok, err := fetch("classes"); err != nil {
		return nil, err
	} else if ok {
		ch.Classes = []store.BBClass{}
		for _, x := range dedupeBy(named, func(x remoteNamed) string { return string(x.BBClassType) + "/" + x.Name }) {
			ch.Classes = append(ch.Classes, store.BBClass{Name: x.Name, BBClassType: string(x.BBClassType)})
		}
	}
	if ok, err := fetch("appends"); err != nil {
		return nil, err
	} else if ok {
		ch.Appends = []store.BBAppend{}
		for _, x := range dedupeBy(named, func(x remoteNamed) string { return path.Join(string(x.Filepath), x.Filename) }) {
			ch.Appends = append(ch.Appends, store.BBAppend{Filename: x.Filename, Filepath: string(x.Filepath)})
		}
	}
	if ok, err := fetch("incFiles"); err != nil {
		return nil, err
	} else if ok {
		ch.IncFiles = []store.IncFile{}
		for _, x := range dedupeBy(named, func(x remoteNamed) string { return x.Path }) {
			ch.IncFiles = append(ch.IncFiles, store.IncFile{Path: x.Path})
		}
	}
	return ch, nil
}

func dedupeBy[T any](xs []T, key func(T) string) []T {
	seen := map[string]bool{}
	var out []T
	for _, x := range xs {
		if k := key(x); !seen[k] {
			seen[k] = true
			out = append(out, x)
		}
	}
	return out
}

// apiRoot turns a site or API URL into the API root, as upstream's
// importer does.
func apiRoot(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL of a layer index", raw)
	}
	if !strings.HasSuffix(raw, "/") {
		raw += "/"
	}
	if !strings.Contains(raw, "/layerindex/api/") {
		raw = strings.TrimSuffix(raw, "layerindex/") + "layerindex/api/"
	}
	return raw, nil
}

// list fetches the endpoint name, filtered by key:value when value is set.
func (im *importer) list(ctx context.Context, name, key, value string, into any) error {
	u := im.links[name]
	if value != "" {
		u += "?filter=" + url.QueryEscape(key+":"+value)
	}
	return im.get(ctx, u, into)
}

// pages fetches every page of a paginated endpoint filtered by layerbranch.
func (im *importer) pages(ctx context.Context, name, layerBranch string, into *[]remoteRecipe) error {
	u := im.links[name] + "?filter=" + url.QueryEscape("layerbranch:"+layerBranch)
	var err error
	for n := 0; u != ""; n++ {
		if n > 100000 {
			return fmt.Errorf("%s: too many pages", name)
		}
		var page struct {
			Next    *string
			Results []remoteRecipe
		}
		if err := im.get(ctx, u, &page); err != nil {
			return err
		}
		*into = append(*into, page.Results...)
		u = ""
		if page.Next != nil {
			if u, err = im.local(*page.Next); err != nil {
				return err
			}
		}
	}
	return nil
}

func (im *importer) get(ctx context.Context, u string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "layerindex-import")
	resp, err := im.opts.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("GET %s: HTTP %d %s", u, resp.StatusCode, bytes.TrimSpace(b))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, im.opts.MaxResponse+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if int64(len(body)) > im.opts.MaxResponse {
		return fmt.Errorf("GET %s: response larger than %d bytes", u, im.opts.MaxResponse)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("GET %s: unexpected JSON: %w", u, err)
	}
	return nil
}

// clipURL shortens a hostile URL for a log line.
func clipURL(u string) string {
	if len(u) > 100 {
		return u[:100] + "…"
	}
	return u
}

func validLayer(l remoteLayer) bool {
	return (l.Status == store.StatusPublished || l.Status == store.StatusNoUpdate) &&
		strings.Contains("ABSDM", l.LayerType) && len(l.LayerType) == 1 && l.Name != ""
}

func mapVals(m map[int64]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
