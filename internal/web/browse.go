package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"layerindex/internal/store"
)

// Helpers shared by the browsing pages: branch lookup, page numbers, the
// release selector and the redirects that keep upstream's old links alive.

// branch resolves the :branch parameter; an unknown branch is a 404.
func (s *Server) branch(c echo.Context) (*store.Branch, error) {
	name := c.Param("branch")
	if len(name) > 100 {
		return nil, echo.NewHTTPError(http.StatusNotFound, "There is no such release branch.")
	}
	// Most pages are about a listed branch, which the layout's list of
	// branches already holds: one query less.
	for _, b := range s.visibleBranches(c) {
		if b.Name == name {
			return &b, nil
		}
	}
	b, err := s.store.BrowseBranch(c.Request().Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("There is no release branch named %q.", name))
	}
	return b, err
}

// visibleBranches lists the branches of the release selector, once per
// request.
func (s *Server) visibleBranches(c echo.Context) []store.Branch {
	if bs, ok := c.Get("visibleBranches").([]store.Branch); ok {
		return bs
	}
	bs, err := s.memoBranches(c.Request().Context())
	if err != nil && c.Request().Context().Err() == nil {
		s.log.WarnContext(c.Request().Context(), "listing branches for the layout", "err", err)
	}
	c.Set("visibleBranches", bs)
	return bs
}

// pageParam reads ?page=; junk is a 400, not a silent first page.
func pageParam(c echo.Context, size int) (store.Page, error) {
	v := c.QueryParam("page")
	if v == "" {
		return store.Page{Number: 1, Size: size}, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > store.MaxPage {
		return store.Page{}, echo.NewHTTPError(http.StatusBadRequest,
			fmt.Sprintf("The page number must be a whole number from 1 to %d.", store.MaxPage))
	}
	return store.Page{Number: n, Size: size}, nil
}

// pageInfo is what a pager needs of a store.Paged list.
type pageInfo interface {
	Pages() int
	Current() int
}

// checkPage turns a page past the end of a non-empty list into a 404.
func checkPage(p pageInfo) error {
	if p.Current() > p.Pages() {
		return echo.NewHTTPError(http.StatusNotFound,
			fmt.Sprintf("There is no page %d; the list has %d page%s.", p.Current(), p.Pages(), plural(p.Pages())))
	}
	return nil
}

// textParam reads a free-text parameter, refusing absurd lengths.
func textParam(c echo.Context, name string) (string, error) {
	v := strings.TrimSpace(c.QueryParam(name))
	if len(v) > store.MaxQueryLen {
		return "", echo.NewHTTPError(http.StatusBadRequest,
			fmt.Sprintf("The %s parameter is too long (at most %d characters).", name, store.MaxQueryLen))
	}
	return v, nil
}

// idParam reads a numeric path parameter; anything else is a 404, as no
// such page exists.
func idParam(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id < 1 {
		return 0, echo.NewHTTPError(http.StatusNotFound, "Not found.")
	}
	return id, nil
}

// browsePage is basePage for a page about one branch.
func (s *Server) browsePage(c echo.Context, b *store.Branch, nav string) pageData {
	name := ""
	if b != nil {
		name = b.Name
	}
	p := s.basePage(c, name)
	p.Nav = nav
	return p
}

// branchLinks builds the release selector: on a page under
// /layerindex/branch/NAME/ each entry is the same page (same filters, first
// page) on another branch; elsewhere it is that branch's layer list.
func branchLinks(u *url.URL, branches []store.Branch, current string) []branchLink {
	rest, scoped := "", false
	if tail, ok := strings.CutPrefix(u.Path, "/layerindex/branch/"); ok {
		if _, after, ok := strings.Cut(tail, "/"); ok {
			rest, scoped = after, true
		}
	}
	q := u.Query()
	q.Del("page")
	qs := ""
	if len(q) > 0 {
		qs = "?" + q.Encode()
	}
	out := make([]branchLink, 0, len(branches))
	for _, b := range branches {
		link := "/layerindex/branch/" + url.PathEscape(b.Name) + "/layers/"
		if scoped {
			link = "/layerindex/branch/" + url.PathEscape(b.Name) + "/" + rest + qs
		}
		out = append(out, branchLink{Name: b.Name, Description: b.ShortDescription, URL: link, Current: b.Name == current})
	}
	return out
}

// redirectTo answers with a 302 to target, keeping the query string: old
// links with ?q= land on the same search.
func redirectTo(c echo.Context, target string) error {
	if q := c.Request().URL.RawQuery; q != "" {
		target += "?" + q
	}
	return c.Redirect(http.StatusFound, target)
}

// defaultBranchRedirect sends upstream's branch-less URLs to the same page
// on the default branch (master).
func (s *Server) defaultBranchRedirect(page func(c echo.Context) string) echo.HandlerFunc {
	return func(c echo.Context) error {
		b, err := s.store.DefaultBranch(c.Request().Context())
		if errors.Is(err, store.ErrNotFound) {
			return echo.NewHTTPError(http.StatusNotFound, "The index has no release branch yet.")
		} else if err != nil {
			return err
		}
		return redirectTo(c, "/layerindex/branch/"+url.PathEscape(b.Name)+"/"+page(c))
	}
}

func fixed(p string) func(echo.Context) string { return func(echo.Context) string { return p } }

// addSlash redirects /layerindex/… paths without their trailing slash (as
// Django does), except under the API, which has its own rules.
func addSlash(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		p := r.URL.Path
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && (p == "/layerindex" || strings.HasPrefix(p, "/layerindex/")) &&
			!strings.HasSuffix(p, "/") && !strings.HasPrefix(p, "/layerindex/api/") && p != "/layerindex/api" && !isBadge(p) &&
			!strings.HasPrefix(p, jobsUIPrefix+"/") {
			target := p + "/"
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			return c.Redirect(http.StatusMovedPermanently, target)
		}
		return next(c)
	}
}

// isBadge tells badge images (…/badge/KIND.svg), whose names end as files
// do, apart from pages (an unknown badge name is a 404, not a redirect).
func isBadge(p string) bool {
	dir, _ := path.Split(p)
	return strings.HasSuffix(dir, "/badge/")
}

// cleanInput refuses requests to the pages whose path or query holds
// invalid UTF-8 or control characters: no page can mean them, and
// PostgreSQL cannot even compare text with a NUL byte.
func cleanInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if strings.HasPrefix(r.URL.Path, "/layerindex/api/") {
			return next(c)
		}
		bad := func(s string) bool {
			return !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
		}
		if bad(r.URL.Path) {
			return echo.NewHTTPError(http.StatusBadRequest, "The address contains characters no page can have.")
		}
		for k, vs := range r.URL.Query() {
			for _, v := range vs {
				if bad(k) || bad(v) {
					return echo.NewHTTPError(http.StatusBadRequest, "The query contains control characters or invalid text.")
				}
			}
		}
		return next(c)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
