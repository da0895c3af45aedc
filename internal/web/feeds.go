package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/feeds"
	"github.com/labstack/echo/v4"

	"layerindex/internal/store"
)

// Atom feeds (RFC 4287): newly published layers, what each update of a
// layer branch did to its recipes, and the changes of one recipe name on
// every layer. Entry ids are tag URIs (RFC 4151) built from the site's host
// and the rows' ids, so they never change when an entry is re-rendered;
// responses carry an ETag and Last-Modified and answer 304 to a reader
// that has the same feed.

const feedEntries = 50

// feedLink is one <link rel="alternate" type="application/atom+xml"> of a
// page's head.
type feedLink struct{ Title, URL string }

// newLayersFeed is linked from every page.
var newLayersFeed = feedLink{"Newly published layers", "/layerindex/feeds/layers/"}

// layerFeedPath is the feed of a layer on a release branch.
func layerFeedPath(branch, layer string) string {
	return "/layerindex/branch/" + url.PathEscape(branch) + "/layer/" + url.PathEscape(layer) + "/feed/"
}

// recipeFeedPath is the feed of a recipe name across layers.
func recipeFeedPath(pn string) string { return "/layerindex/feeds/recipe/" + url.PathEscape(pn) + "/" }

func (s *Server) feedRoutes() {
	get := func(p string, h echo.HandlerFunc) { s.echo.GET(p, h); s.echo.HEAD(p, h) }
	get("/layerindex/feeds/layers/", s.feedNewLayers)
	get("/layerindex/branch/:branch/layer/:name/feed/", s.feedLayerBranch)
	get("/layerindex/feeds/recipe/:pn/", s.feedRecipe)
}

// tagID makes a stable entry or feed id: tag:HOST,2025:SPECIFIC.
func (s *Server) tagID(specific string) string {
	host := "localhost"
	if u, err := url.Parse(s.opts.BaseURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return "tag:" + host + ",2025:" + specific
}

func (s *Server) abs(p string) string { return strings.TrimRight(s.opts.BaseURL, "/") + p }

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// newFeed starts a feed: its id, title, page and author (the site, so
// entries need none of their own).
func (s *Server) newFeed(id, title, page string) *feeds.AtomFeed {
	return &feeds.AtomFeed{Xmlns: "http://www.w3.org/2005/Atom", Id: s.tagID(id), Title: title,
		Link:   &feeds.AtomLink{Href: s.abs(page), Rel: "alternate", Type: "text/html"},
		Author: &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: s.opts.SiteName, Uri: s.abs("/")}}}
}

func entry(id, title string, updated time.Time, link, html string) *feeds.AtomEntry {
	return &feeds.AtomEntry{Id: id, Title: title, Updated: atomTime(updated),
		Links:   []feeds.AtomLink{{Href: link, Rel: "alternate", Type: "text/html"}},
		Content: &feeds.AtomContent{Type: "html", Content: html}}
}

// writeFeed sends f with its validators; updated is the newest entry's
// time (or the feed's, when it has none).
func (s *Server) writeFeed(c echo.Context, f *feeds.AtomFeed, updated time.Time) error {
	f.Updated = atomTime(updated)
	body, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the feed: %w", err)
	}
	body = append([]byte(xml.Header), body...)
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set("Last-Modified", updated.UTC().Format(http.TimeFormat))
	h.Set("Cache-Control", "public, max-age=300")
	r := c.Request()
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			if t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "W/")); t == etag || t == "*" {
				return c.NoContent(http.StatusNotModified)
			}
		}
	} else if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !updated.Truncate(time.Second).After(ims) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, "application/atom+xml; charset=utf-8", body)
}

// feedNewLayers is /layerindex/feeds/layers/: layers as they are published.
func (s *Server) feedNewLayers(c echo.Context) error {
	ls, err := s.store.RecentlyPublished(c.Request().Context(), feedEntries)
	if err != nil {
		return err
	}
	f := s.newFeed("layers", s.opts.SiteName+": newly published layers", "/layerindex/layers/")
	updated := time.Unix(0, 0)
	for _, l := range ls {
		var b bytes.Buffer
		fmt.Fprintf(&b, "<p>%s</p><p>Type: %s. Repository: <code>%s</code></p>", template.HTMLEscapeString(l.Summary),
			template.HTMLEscapeString(store.LayerTypeLabel(l.LayerType)), template.HTMLEscapeString(l.VCSURL))
		if l.Description != "" {
			fmt.Fprintf(&b, "<p>%s</p>", template.HTMLEscapeString(l.Description))
		}
		f.Entries = append(f.Entries, entry(s.tagID("layer/"+strconv.FormatInt(l.ID, 10)), l.Name+": "+l.Summary,
			l.PublishedAt, s.abs("/layerindex/layer/"+url.PathEscape(l.Name)+"/"), b.String()))
		if l.PublishedAt.After(updated) {
			updated = l.PublishedAt
		}
	}
	return s.writeFeed(c, f, updated)
}

// feedLayerBranch is …/layer/NAME/feed/: per update of the layer branch,
// the recipes it added, removed and upgraded.
func (s *Server) feedLayerBranch(c echo.Context) error {
	ctx := c.Request().Context()
	b, err := s.branch(c)
	if err != nil {
		return err
	}
	o, err := s.store.LayerOverview(ctx, c.Param("name"), b, s.cat.StaleCutoff())
	if errors.Is(err, store.ErrNotFound) || (err == nil && o.LayerBranch == nil) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such layer on this branch.")
	} else if err != nil {
		return err
	}
	runs, err := s.store.ChangesOfLayerBranch(ctx, o.LayerBranch.ID, feedEntries)
	if err != nil {
		return err
	}
	page := "/layerindex/branch/" + url.PathEscape(b.Name) + "/layer/" + url.PathEscape(o.Layer.Name) + "/"
	f := s.newFeed("layerbranch/"+strconv.FormatInt(o.LayerBranch.ID, 10), o.Layer.Name+" on "+b.Name+": recipe changes", page)
	updated := o.Layer.CreatedAt
	for _, rc := range runs {
		at := rc.Run.StartedAt
		if rc.Run.FinishedAt != nil {
			at = *rc.Run.FinishedAt
		}
		var n [3]int
		var body bytes.Buffer
		body.WriteString("<ul>")
		for _, ch := range rc.Changes {
			switch ch.Kind {
			case store.RecipeAdded:
				n[0]++
			case store.RecipeRemoved:
				n[1]++
			default:
				n[2]++
			}
			fmt.Fprintf(&body, "<li>%s</li>", template.HTMLEscapeString(describeChange(ch)))
		}
		body.WriteString("</ul>")
		title := fmt.Sprintf("%s (%s): %s", o.Layer.Name, b.Name, countWords(n))
		f.Entries = append(f.Entries, entry(s.tagID("run/"+strconv.FormatInt(rc.Run.ID, 10)), title, at,
			s.abs("/layerindex/layerupdate/"+strconv.FormatInt(rc.Run.ID, 10)+"/"), body.String()))
		if at.After(updated) {
			updated = at
		}
	}
	return s.writeFeed(c, f, updated)
}

// feedRecipe is /layerindex/feeds/recipe/PN/: the recipe name added,
// removed or upgraded on any layer and branch.
func (s *Server) feedRecipe(c echo.Context) error {
	pn := c.Param("pn")
	if pn == "" || len(pn) > 200 {
		return echo.NewHTTPError(http.StatusNotFound, "No such recipe name.")
	}
	chs, err := s.store.ChangesOfRecipe(c.Request().Context(), pn, feedEntries)
	if err != nil {
		return err
	}
	f := s.newFeed("recipe/"+url.PathEscape(pn), s.opts.SiteName+": recipe "+pn,
		"/layerindex/branch/master/recipes/?q="+url.QueryEscape("pn:"+pn))
	updated := time.Unix(0, 0)
	for _, ch := range chs {
		link := s.abs("/layerindex/branch/" + url.PathEscape(ch.BranchName) + "/layer/" + url.PathEscape(ch.LayerName) + "/")
		if ch.RecipeID != nil && ch.Kind != store.RecipeRemoved {
			link = s.abs("/layerindex/recipe/" + strconv.FormatInt(*ch.RecipeID, 10) + "/")
		}
		title := describeChange(ch.RecipeEvent) + " in " + ch.LayerName + " (" + ch.BranchName + ")"
		body := "<p>" + template.HTMLEscapeString(title) + `</p><p><a href="` +
			template.HTMLEscapeString(s.abs("/layerindex/layerupdate/"+strconv.FormatInt(ch.LayerUpdateID, 10)+"/")) + `">The update's log</a></p>`
		f.Entries = append(f.Entries, entry(s.tagID("recipe-change/"+strconv.FormatInt(ch.ID, 10)), title, ch.CreatedAt, link, body))
		if ch.CreatedAt.After(updated) {
			updated = ch.CreatedAt
		}
	}
	return s.writeFeed(c, f, updated)
}

// describeChange says a recipe change in words: "zlib 1.3 → 1.3.1".
func describeChange(ch store.RecipeEvent) string {
	switch ch.Kind {
	case store.RecipeAdded:
		return ch.PN + " " + ch.NewPV + " added"
	case store.RecipeRemoved:
		return ch.PN + " " + ch.OldPV + " removed"
	}
	return ch.PN + " upgraded " + ch.OldPV + " → " + ch.NewPV
}

func countWords(n [3]int) string {
	var parts []string
	for i, w := range []string{"added", "removed", "upgraded"} {
		if n[i] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[i], w))
		}
	}
	return strings.Join(parts, ", ")
}
