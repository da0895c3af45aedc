package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"layerindex/internal/api"
	"layerindex/internal/setup"
	"layerindex/internal/store"
)

// The build setup export: /layerindex/branch/B/setup/ is the page where a
// user picks layers, a machine and a distro; the files it offers live at
// stable URLs under /layerindex/api/setup/ that encode the choice in the
// path, so `bitbake-setup init <URL>` (which wants a name ending in
// .conf.json) and kas can fetch them directly:
//
//	/layerindex/api/setup/B/L1,L2[/machine=M][/distro=D][/recommends]/NAME.conf.json
//	…/NAME.kas.yml, …/bblayers.conf, …/setup.sh

// setupChoice is a parsed request.
type setupChoice struct {
	Layers          []string
	Machine, Distro string
	Recommends      bool
}

// path is the part of the file URLs after the branch.
func (sc setupChoice) path() string {
	escaped := make([]string, len(sc.Layers))
	for i, l := range sc.Layers {
		escaped[i] = url.PathEscape(l)
	}
	p := strings.Join(escaped, ",")
	if p == "" {
		p = "-"
	}
	if sc.Machine != "" {
		p += "/machine=" + url.PathEscape(sc.Machine)
	}
	if sc.Distro != "" {
		p += "/distro=" + url.PathEscape(sc.Distro)
	}
	if sc.Recommends {
		p += "/recommends"
	}
	return p
}

func (sc setupChoice) request(b *store.Branch) setup.Request {
	return setup.Request{Branch: b, Layers: sc.Layers, Machine: sc.Machine, Distro: sc.Distro, Recommends: sc.Recommends}
}

// splitLayers reads a comma-separated list of layer names.
func splitLayers(s string) []string {
	var out []string
	for _, l := range strings.Split(s, ",") {
		if l = strings.TrimSpace(l); l != "" && l != "-" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// setupPage is /layerindex/branch/B/setup/?layer=…&machine=…&distro=…
func (s *Server) setupPage(c echo.Context) error {
	ctx := c.Request().Context()
	b, err := s.branch(c)
	if err != nil {
		return err
	}
	var sc setupChoice
	for _, v := range c.QueryParams()["layer"] {
		sc.Layers = append(sc.Layers, splitLayers(v)...)
	}
	if sc.Machine, err = textParam(c, "machine"); err != nil {
		return err
	}
	if sc.Distro, err = textParam(c, "distro"); err != nil {
		return err
	}
	sc.Recommends = c.QueryParam("recommends") != ""
	list, err := s.store.Layers(ctx, b, store.LayerFilter{Page: store.Page{Number: 1, Size: 1000}})
	if err != nil {
		return err
	}
	data := struct {
		pageData
		Branch  *store.Branch
		Choice  setupChoice
		All     []store.LayerRow
		Plan    *setup.Plan
		Problem string
		Base    string // file URLs without the file name
		Name    string
		JSON    string
		Kas     string
		BBLayer string
		Cmds    string
	}{pageData: s.browsePage(c, b, "setup"), Branch: b, Choice: sc, All: list.Items}
	status := http.StatusOK
	if len(sc.Layers) > 0 || sc.Machine != "" || sc.Distro != "" {
		plan, err := setup.Resolve(ctx, s.store, sc.request(b))
		switch {
		case errors.Is(err, setup.ErrInput):
			data.Problem = strings.TrimPrefix(err.Error(), setup.ErrInput.Error()+": ")
			status = http.StatusBadRequest
		case err != nil:
			return err
		default:
			o := s.setupOptions()
			data.Plan = plan
			data.Base = s.siteURL(c) + "/layerindex/api/setup/" + url.PathEscape(b.Name) + "/" + sc.path() + "/"
			data.Name = plan.Name()
			j, err := plan.BitbakeSetup(o)
			if err != nil {
				return err
			}
			k, err := plan.Kas(o)
			if err != nil {
				return err
			}
			data.JSON, data.Kas, data.BBLayer, data.Cmds = string(j), string(k), plan.BBLayers(), plan.Commands(o)
		}
	}
	return s.pages.render(c, status, "setup", data)
}

func (s *Server) setupOptions() setup.Options {
	return setup.Options{BitbakeURL: s.opts.BitbakeURL}
}

// setupFile is /layerindex/api/setup/B/…/FILE: one file of a setup.
func (s *Server) setupFile(c echo.Context) error {
	ctx := c.Request().Context()
	rest := c.Param("*")
	parts := strings.Split(rest, "/")
	bad := func(msg string) error {
		return c.JSON(http.StatusBadRequest, api.Detail(c, msg))
	}
	if len(parts) < 3 {
		return c.JSON(http.StatusNotFound, api.Detail(c, "Use /layerindex/api/setup/BRANCH/LAYER,LAYER[/machine=M][/distro=D][/recommends]/NAME.conf.json (or NAME.kas.yml, bblayers.conf, setup.sh)."))
	}
	unesc := func(s string) (string, error) { return url.PathUnescape(s) }
	branchName, err := unesc(parts[0])
	if err != nil {
		return bad("bad branch name")
	}
	b, err := s.store.BrowseBranch(ctx, branchName)
	if errors.Is(err, store.ErrNotFound) {
		return c.JSON(http.StatusNotFound, api.Detail(c, fmt.Sprintf("There is no release branch named %q.", truncate(branchName, 40))))
	} else if err != nil {
		return err
	}
	layers, err := unesc(parts[1])
	if err != nil {
		return bad("bad layer list")
	}
	sc := setupChoice{Layers: splitLayers(layers)}
	for _, p := range parts[2 : len(parts)-1] {
		p, err := unesc(p)
		if err != nil {
			return bad("bad path element")
		}
		switch k, v, _ := strings.Cut(p, "="); k {
		case "machine":
			sc.Machine = v
		case "distro":
			sc.Distro = v
		case "recommends":
			sc.Recommends = true
		default:
			return bad(fmt.Sprintf("unknown path element %q: use machine=M, distro=D or recommends", truncate(p, 40)))
		}
	}
	file := parts[len(parts)-1]
	plan, err := setup.Resolve(ctx, s.store, sc.request(b))
	if errors.Is(err, setup.ErrInput) {
		return bad(strings.TrimPrefix(err.Error(), setup.ErrInput.Error()+": "))
	} else if err != nil {
		return err
	}
	o := s.setupOptions()
	var body []byte
	ctype := "text/plain; charset=utf-8"
	switch {
	case strings.HasSuffix(file, ".conf.json"):
		body, err = plan.BitbakeSetup(o)
		ctype = "application/json"
	case strings.HasSuffix(file, ".kas.yml"), strings.HasSuffix(file, ".kas.yaml"):
		body, err = plan.Kas(o)
		ctype = "application/yaml; charset=utf-8"
	case file == "bblayers.conf":
		body = []byte(plan.BBLayers())
	case file == "setup.sh":
		body = []byte("#!/bin/sh\nset -e\n" + plan.Commands(o))
		ctype = "text/x-shellscript; charset=utf-8"
	default:
		return c.JSON(http.StatusNotFound, api.Detail(c, "The file name must end in .conf.json or .kas.yml, or be bblayers.conf or setup.sh."))
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s"`, safeFilename(file)))
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	return c.Blob(http.StatusOK, ctype, body)
}

// siteURL is the site's public URL: the configured base URL, or the
// address the request came to.
func (s *Server) siteURL(c echo.Context) string {
	if s.opts.BaseURL != "" {
		return strings.TrimRight(s.opts.BaseURL, "/")
	}
	return c.Scheme() + "://" + c.Request().Host
}
