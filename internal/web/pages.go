package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"layerindex/internal/store"
)

// pageData is what the layout needs on every page.
type pageData struct {
	SiteName   string
	BaseURL    string // the site's public URL, for examples shown on pages
	Version    string
	Branches   []store.Branch
	BranchName string

	// Account area (accounts.go, templates/layout/account.html).
	User        *store.User // signed in; nil when anonymous
	CSRF        string      // the session's CSRF token, for forms
	ReviewCount int64       // layers waiting for review, for administrators
	Flash       string      // a message left by the previous request
	// ClosedSite hides what anonymous visitors of a closed site cannot use
	// (registration, anonymous submission).
	ClosedSite bool
	// Sign-in methods, for the login page: the OpenID provider's button
	// ("" without one) and whether the password form is shown.
	OIDCLabel      string
	PasswordLogin  bool
	LDAPLogin      bool // the login form takes a directory user name
	LocalPasswords bool // the site's own passwords: registration, reset

	// BranchLinks is the release selector: the same page on each branch.
	BranchLinks []branchLink
	// Nav is the header navigation item to mark as current.
	Nav string
	// Path and Query are the request's, for links that keep the page's
	// filters (pager, sort headers).
	Path  string
	Query url.Values
	// Feeds are the Atom feeds the page links in its head.
	Feeds []feedLink
}

// branchLink is one entry of the release selector.
type branchLink struct {
	Name, Description, URL string
	Current                bool
}

// basePage fills the layout's data; branch is the release the page is
// about ("" for the default).
func (s *Server) basePage(c echo.Context, branch string) pageData {
	branches := s.visibleBranches(c)
	if branch == "" && len(branches) > 0 {
		branch = branches[0].Name
		for _, b := range branches {
			if b.Name == "master" {
				branch = b.Name
			}
		}
	}
	u := c.Request().URL
	p := pageData{SiteName: s.opts.SiteName, BaseURL: s.opts.BaseURL, Version: s.opts.Version, Branches: branches, BranchName: branch,
		BranchLinks: branchLinks(u, branches, branch), Path: u.Path, Query: u.Query(),
		Feeds: []feedLink{newLayersFeed}, ClosedSite: s.opts.ClosedSite, PasswordLogin: !s.opts.NoLocalPasswords || s.opts.LDAP != nil,
		LDAPLogin: s.opts.LDAP != nil, LocalPasswords: !s.opts.NoLocalPasswords}
	if s.opts.OIDC != nil {
		p.OIDCLabel = s.opts.OIDCLabel
		if p.OIDCLabel == "" {
			p.OIDCLabel = "single sign-on"
		}
	}
	s.accountPage(c, &p)
	return p
}

func (s *Server) home(c echo.Context) error {
	ctx := c.Request().Context()
	n, err := s.store.PublishedLayerCount(ctx)
	if err != nil {
		return err
	}
	data := struct {
		pageData
		LayerCount    int64
		WorkerRunning bool
	}{s.basePage(c, c.QueryParam("branch")), n, s.opts.WorkerRunning}
	return s.pages.render(c, http.StatusOK, "home", data)
}
