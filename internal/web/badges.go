package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/labstack/echo/v4"

	"layerindex/internal/store"
)

// Badges: small SVG images a layer's README shows (rendered here, in the
// style of shields.io's "flat" badges), and the same facts as shields.io
// endpoint JSON for those who prefer its rendering:
//
//	compat   layer index | scarthgap ✓   the layer is indexed on the branch
//	recipes  recipes | 123
//	update   last update | passing       or failing, or never
//
// They change when the index does; caches may keep them five minutes.

// badge is one badge's label, message and colour.
type badge struct {
	Label, Message, Color string
}

var badgeKinds = map[string]bool{"compat": true, "recipes": true, "update": true}

const (
	colorGood = "#4c1"
	colorBad  = "#e05d44"
	colorInfo = "#007ec6"
	colorNone = "#9f9f9f"
)

// badgeFacts works out a badge of a layer on a branch.
func (s *Server) badgeFacts(c echo.Context, kind string) (badge, error) {
	ctx := c.Request().Context()
	b, err := s.branch(c)
	if err != nil {
		return badge{}, err
	}
	o, err := s.store.LayerOverview(ctx, c.Param("name"), b, s.cat.StaleCutoff())
	if errors.Is(err, store.ErrNotFound) {
		return badge{}, echo.NewHTTPError(http.StatusNotFound, "There is no published layer of that name.")
	} else if err != nil {
		return badge{}, err
	}
	switch kind {
	case "compat":
		if o.Indexed() {
			return badge{"layer index", b.Name + " ✓", colorGood}, nil
		}
		return badge{"layer index", b.Name + " ✗", colorNone}, nil
	case "recipes":
		if !o.Indexed() {
			return badge{"recipes", "not indexed", colorNone}, nil
		}
		return badge{"recipes", strconv.FormatInt(o.Counts.Recipes, 10), colorInfo}, nil
	}
	if o.LayerBranch == nil {
		return badge{"last update", "not on " + b.Name, colorNone}, nil
	}
	run, err := s.store.LastFinalRun(ctx, o.LayerBranch.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return badge{"last update", "never", colorNone}, nil
	case err != nil:
		return badge{}, err
	case run.Status == store.UpdateFailed:
		return badge{"last update", "failing", colorBad}, nil
	case run.Status == store.UpdateCancelled:
		return badge{"last update", "cancelled", colorNone}, nil
	}
	return badge{"last update", "passing", colorGood}, nil
}

// badgeImage is …/layer/NAME/badge/KIND.svg or KIND.json.
func (s *Server) badgeImage(c echo.Context) error {
	file := c.Param("file")
	kind, ext, _ := strings.Cut(file, ".")
	if !badgeKinds[kind] || (ext != "svg" && ext != "json") {
		return echo.NewHTTPError(http.StatusNotFound, "Badges are compat, recipes and update, as .svg or .json.")
	}
	bd, err := s.badgeFacts(c, kind)
	if err != nil {
		return err
	}
	var body []byte
	ctype := "image/svg+xml; charset=utf-8"
	if ext == "json" {
		ctype = "application/json"
		body = fmt.Appendf(nil, `{"schemaVersion":1,"label":%q,"message":%q,"color":%q,"cacheSeconds":300}`,
			bd.Label, bd.Message, strings.TrimPrefix(bd.Color, "#"))
	} else if body, err = renderBadge(bd); err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=300, stale-while-revalidate=3600")
	h.Set("ETag", etag)
	h.Set("Expires", time.Now().Add(300*time.Second).UTC().Format(http.TimeFormat))
	h.Set("Access-Control-Allow-Origin", "*")
	if match := c.Request().Header.Get("If-None-Match"); match == etag || match == "W/"+etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, ctype, body)
}

var badgeSVG = template.Must(template.New("badge").Funcs(template.FuncMap{"x": template.HTMLEscapeString}).Parse(
	`<svg xmlns="http://www.w3.org/2000/svg" width="{{.W}}" height="20" role="img" aria-label="{{x .Label}}: {{x .Message}}">` +
		`<title>{{x .Label}}: {{x .Message}}</title>` +
		`<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>` +
		`<clipPath id="r"><rect width="{{.W}}" height="20" rx="3" fill="#fff"/></clipPath>` +
		`<g clip-path="url(#r)"><rect width="{{.LW}}" height="20" fill="#555"/><rect x="{{.LW}}" width="{{.MW}}" height="20" fill="{{.Color}}"/>` +
		`<rect width="{{.W}}" height="20" fill="url(#s)"/></g>` +
		`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">` +
		`<text x="{{.LX}}" y="15" fill="#010101" fill-opacity=".3">{{x .Label}}</text><text x="{{.LX}}" y="14">{{x .Label}}</text>` +
		`<text x="{{.MX}}" y="15" fill="#010101" fill-opacity=".3">{{x .Message}}</text><text x="{{.MX}}" y="14">{{x .Message}}</text></g></svg>`))

// renderBadge draws a badge: two boxes sized to their text.
func renderBadge(b badge) ([]byte, error) {
	lw, mw := textWidth(b.Label)+10, textWidth(b.Message)+10
	var out bytes.Buffer
	err := badgeSVG.Execute(&out, map[string]any{"Label": b.Label, "Message": b.Message, "Color": b.Color,
		"W": lw + mw, "LW": lw, "MW": mw, "LX": float64(lw) / 2, "MX": float64(lw) + float64(mw)/2})
	return out.Bytes(), err
}

// textWidth estimates the width in pixels of s in 11px Verdana.
func textWidth(s string) int {
	w := 0.0
	for _, r := range s {
		switch {
		case strings.ContainsRune("ijl|!.,:;'", r):
			w += 3.5
		case strings.ContainsRune("frt ()[]", r):
			w += 5
		case r >= 'A' && r <= 'Z', strings.ContainsRune("mwMW✓✗", r):
			w += 8.5
		default:
			w += 7
		}
	}
	return int(w + 0.5)
}
