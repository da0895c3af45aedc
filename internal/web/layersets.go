package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"layerindex/internal/api"
	"layerindex/internal/auth"
	"layerindex/internal/catalog"
	"layerindex/internal/setup"
	"layerindex/internal/store"
)

// Layer sets: administrators' published combinations of layers, each a
// bitbake-setup configuration at a stable URL, and all of them together a
// bitbake-setup registry:
//
//	/layerindex/layersets/                                  the list, for people
//	/layerindex/api/registry/configurations/NAME.conf.json  one set's configuration
//	/layerindex/api/registry.git/…                          the registry as a git repository (dumb HTTP)
//	/layerindex/api/registry.tar.gz                         the registry as a directory
//	/layerindex/admin/layersets/…                           administration
func (s *Server) layerSetRoutes() {
	e := s.echo
	e.GET("/layerindex/layersets/", s.cached(s.layerSetList))
	e.HEAD("/layerindex/layersets/", s.cached(s.layerSetList))
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		e.Add(m, "/layerindex/api/registry/configurations/:file", s.layerSetFile)
		e.Add(m, "/layerindex/api/registry.tar.gz", s.registryTarGz)
		e.Add(m, "/layerindex/api/registry.git/*", s.registryGit)
	}
	e.GET("/layerindex/admin/layersets/", s.adminLayerSets)
	e.POST("/layerindex/admin/layersets/", s.adminLayerSets)
	e.GET("/layerindex/admin/layersets/:id/", s.adminLayerSet)
	e.POST("/layerindex/admin/layersets/:id/", s.adminLayerSet)
	e.POST("/layerindex/admin/layersets/:id/delete/", s.adminDeleteLayerSet)
}

// registryPaths are the registry's URLs, for the pages.
type registryPaths struct {
	Git, TarGz, Configurations string
}

func (s *Server) registryPaths(c echo.Context) registryPaths {
	base := s.siteURL(c) + "/layerindex/api/"
	return registryPaths{Git: base + "registry.git", TarGz: base + "registry.tar.gz", Configurations: base + "registry/configurations/"}
}

// gitRegistrySetting is the value of bitbake-setup's registry setting (a
// BitBake fetcher URI) for a git registry at httpURL.
func gitRegistrySetting(httpURL string) string {
	proto, rest, _ := strings.Cut(httpURL, "://")
	return "git://" + rest + ";protocol=" + proto + ";branch=" + setup.GitBranch + ";rev=" + setup.GitBranch
}

// layerSetList is the public list of published layer sets.
func (s *Server) layerSetList(c echo.Context) error {
	sets, err := s.store.LayerSets(c.Request().Context(), true)
	if err != nil {
		return err
	}
	rp := s.registryPaths(c)
	data := struct {
		pageData
		Sets     []store.LayerSet
		Registry registryPaths
		Setting  string
	}{s.basePage(c, ""), sets, rp, gitRegistrySetting(rp.Git)}
	data.Nav = "layersets"
	return s.pages.render(c, http.StatusOK, "layersets", data)
}

// layerSetFile is one published layer set's bitbake-setup configuration.
func (s *Server) layerSetFile(c echo.Context) error {
	ctx := c.Request().Context()
	name, ok := strings.CutSuffix(c.Param("file"), ".conf.json")
	if !ok || catalog.CheckLayerSetName(name) != nil {
		return c.JSON(http.StatusNotFound, api.Detail(c, "Use /layerindex/api/registry/configurations/NAME.conf.json."))
	}
	ls, err := s.store.LayerSetByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !ls.Published) {
		return c.JSON(http.StatusNotFound, api.Detail(c, fmt.Sprintf("There is no published layer set named %q.", name)))
	} else if err != nil {
		return err
	}
	body, _, err := setup.LayerSetConfig(ctx, s.store, ls, s.setupOptions())
	if errors.Is(err, setup.ErrInput) {
		return c.JSON(http.StatusConflict, api.Detail(c, strings.Replace(err.Error(), setup.ErrInput.Error()+": ", "", 1)))
	} else if err != nil {
		return err
	}
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	return c.Blob(http.StatusOK, "application/json", body)
}

// registry builds the registry of the published layer sets.
func (s *Server) registry(c echo.Context) (*setup.Registry, error) {
	ctx := c.Request().Context()
	sets, err := s.store.LayerSets(ctx, true)
	if err != nil {
		return nil, err
	}
	r, skipped, err := setup.BuildRegistry(ctx, s.store, sets, s.setupOptions())
	for _, why := range skipped {
		s.log.WarnContext(c.Request().Context(), "layer set left out of the registry", "reason", why)
	}
	return r, err
}

func (s *Server) registryTarGz(c echo.Context) error {
	r, err := s.registry(c)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := r.TarGz(&b); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="registry.tar.gz"`)
	return c.Blob(http.StatusOK, "application/gzip", b.Bytes())
}

// registryGit serves the registry to git's dumb HTTP protocol. git asks
// info/refs?service=git-upload-pack first; a plain-text answer tells it
// the server is "dumb", and it then fetches the objects one by one.
func (s *Server) registryGit(c echo.Context) error {
	r, err := s.registry(c)
	if err != nil {
		return err
	}
	g, err := r.Git()
	if err != nil {
		return err
	}
	body, ok := g.File(c.Param("*"))
	if !ok {
		return c.String(http.StatusNotFound, "not found\n")
	}
	ctype := "text/plain; charset=utf-8"
	if strings.HasPrefix(c.Param("*"), "objects/") && c.Param("*") != "objects/info/packs" {
		ctype = "application/x-git-loose-object"
	}
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, ctype, body)
}

// layerSetForm reads the administrators' form.
func layerSetForm(f *form) catalog.LayerSetInput {
	in := catalog.LayerSetInput{
		Name:        strings.TrimSpace(f.V("name")),
		Description: f.text("description", textOpts{max: 200}),
		Machine:     f.text("machine", textOpts{max: 100}),
		Distro:      f.text("distro", textOpts{max: 100}),
		Layers:      splitLayers(strings.Join(strings.Fields(f.V("layers")), ",")),
		Recommends:  f.V("recommends") == "on",
		Published:   f.V("published") == "on",
	}
	in.BranchID, _ = strconv.ParseInt(f.V("branch"), 10, 64)
	return in
}

// adminLayerSets lists the layer sets and adds one.
func (s *Server) adminLayerSets(c echo.Context) error {
	if err := s.require(c, auth.ManageLayerSets, nil); err != nil {
		return err
	}
	ctx := c.Request().Context()
	f := newForm(nil)
	f.set("published", "on")
	if c.Request().Method == http.MethodPost {
		ps, _ := c.FormParams()
		f = newForm(ps)
		in := layerSetForm(f)
		if f.OK() {
			ls, err := s.cat.SaveLayerSet(ctx, catalog.Web(currentUser(c)), 0, in)
			f.failWith(err)
			if err != nil && f.OK() {
				return err
			}
			if err == nil {
				s.flash(c, "The layer set %s is saved.", ls.Name)
				return c.Redirect(http.StatusSeeOther, "/layerindex/admin/layersets/")
			}
		}
	}
	return s.renderLayerSets(c, f, nil)
}

func (s *Server) renderLayerSets(c echo.Context, f *form, editing *store.LayerSet) error {
	ctx := c.Request().Context()
	sets, err := s.store.LayerSets(ctx, false)
	if err != nil {
		return err
	}
	bs, err := s.store.AllBranches(ctx)
	if err != nil {
		return err
	}
	data := struct {
		formData
		Sets     []store.LayerSet
		Editing  *store.LayerSet
		Releases []store.Branch
		Registry registryPaths
	}{formData{pageData: s.formPage(c), Form: f}, sets, editing, bs, s.registryPaths(c)}
	return s.pages.render(c, formStatus(c, f, false), "adminlayersets", data)
}

// adminLayerSet shows and saves one layer set.
func (s *Server) adminLayerSet(c echo.Context) error {
	if err := s.require(c, auth.ManageLayerSets, nil); err != nil {
		return err
	}
	ctx := c.Request().Context()
	ls, err := s.layerSetParam(c)
	if err != nil {
		return err
	}
	f := newForm(nil)
	if c.Request().Method == http.MethodPost {
		ps, _ := c.FormParams()
		f = newForm(ps)
		in := layerSetForm(f)
		if f.OK() {
			saved, err := s.cat.SaveLayerSet(ctx, catalog.Web(currentUser(c)), ls.ID, in)
			f.failWith(err)
			if err != nil && f.OK() {
				return err
			}
			if err == nil {
				s.flash(c, "The layer set %s is saved.", saved.Name)
				return c.Redirect(http.StatusSeeOther, "/layerindex/admin/layersets/")
			}
		}
	} else {
		f.set("name", ls.Name)
		f.set("description", ls.Description)
		f.set("branch", strconv.FormatInt(ls.BranchID, 10))
		f.set("layers", strings.Join(ls.Layers, " "))
		f.set("machine", ls.Machine)
		f.set("distro", ls.Distro)
		if ls.Recommends {
			f.set("recommends", "on")
		}
		if ls.Published {
			f.set("published", "on")
		}
	}
	return s.renderLayerSets(c, f, ls)
}

func (s *Server) adminDeleteLayerSet(c echo.Context) error {
	if err := s.require(c, auth.ManageLayerSets, nil); err != nil {
		return err
	}
	ls, err := s.layerSetParam(c)
	if err != nil {
		return err
	}
	if err := s.cat.DeleteLayerSet(c.Request().Context(), catalog.Web(currentUser(c)), ls.ID); err != nil {
		return err
	}
	s.flash(c, "The layer set %s is deleted.", ls.Name)
	return c.Redirect(http.StatusSeeOther, "/layerindex/admin/layersets/")
}

func (s *Server) layerSetParam(c echo.Context) (*store.LayerSet, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusNotFound, "No such layer set.")
	}
	ls, err := s.store.LayerSetByID(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, echo.NewHTTPError(http.StatusNotFound, "No such layer set.")
	}
	return ls, err
}

// releaseExtra is what a release's pages show beyond its own layers: the
// layers indexed elsewhere that declare compatibility with it (the layer
// list) and, per layer, the published layer sets whose build has it (the
// recipe pages). Both derive from the whole index, so they are built once
// per index version and release, as the dependents index is.
type releaseExtra struct {
	elsewhere []store.CompatibleElsewhere
	sets      map[string][]setup.Membership // layer name → sets
}

type releaseExtrasMemo struct {
	mu       sync.Mutex
	version  int64
	byBranch map[int64]*releaseExtra
}

func (s *Server) releaseExtra(ctx context.Context, b *store.Branch) (*releaseExtra, error) {
	v, err := s.indexVersion(ctx)
	if err != nil {
		return nil, err
	}
	m := &s.releaseExtras
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.version != v || m.byBranch == nil {
		m.version, m.byBranch = v, map[int64]*releaseExtra{}
	}
	if x := m.byBranch[b.ID]; x != nil {
		return x, nil
	}
	names, err := s.store.ReleaseCoreNames(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	x := &releaseExtra{sets: map[string][]setup.Membership{}}
	if x.elsewhere, err = s.store.CompatibleElsewhere(ctx, b.ID, names); err != nil {
		return nil, err
	}
	if x.sets, err = setup.LayerSetsByLayer(ctx, s.store, b); err != nil {
		return nil, err
	}
	m.byBranch[b.ID] = x
	return x, nil
}
