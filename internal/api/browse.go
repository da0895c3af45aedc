package api

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"

	"layerindex/templates"
)

// This file is the browsable API: a person who opens an API URL in a
// browser gets a page showing the request, the response's status and the
// JSON, pretty-printed, with its URLs as links to follow, as upstream's
// Django REST framework does with its BrowsableAPIRenderer (upstream keeps
// DRF's default renderers, JSON first). Programs keep getting JSON:
// BitBake's layerindexlib and upstream's importer send no Accept header,
// or application/json, and ?format=json or a .json suffix always means
// JSON.

// maxBrowseJSON caps the JSON shown on one page: a whole recipe list is
// tens of megabytes, which no one reads in a browser; the page shows the
// start and links to the JSON.
const maxBrowseJSON = 2 << 20

var browseTemplate = template.Must(template.ParseFS(templates.FS, "api/browse.html"))

// wantsHTML reports whether a GET asks for the page rather than the JSON:
// ?format=api, or, without ?format= or a .json suffix, an Accept header
// that DRF's content negotiation would answer with its HTML renderer. DRF
// tries the accepted media types from the most specific down (type/sub
// with parameters, type/sub, type/*, */*; q values do not reorder them)
// and, at each level, its renderers in order, JSON first: so a browser's
// "text/html,…,*/*;q=0.8" gets HTML and "application/json, text/html"
// gets JSON. Anything else (no header, image/png) gets JSON here, where
// DRF would answer 406.
func wantsHTML(req *http.Request) bool {
	format, seen := "", false
	for _, pair := range strings.Split(req.URL.RawQuery, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if unescape(k) == "format" {
			format, seen = unescape(v), true
		}
	}
	switch {
	case format == "api":
		return true
	case seen && format != "", strings.HasSuffix(req.URL.Path, ".json"):
		return false
	}
	var levels [4][]string // media types by precedence
	for _, part := range strings.Split(req.Header.Get("Accept"), ",") {
		mt, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		main, sub, ok := strings.Cut(mt, "/")
		if !ok {
			continue
		}
		level := 2
		switch {
		case main == "*":
			level = 0
		case sub == "*":
			level = 1
		case hasParamsBesidesQ(params):
			level = 3
		}
		levels[level] = append(levels[level], mt)
	}
	for l := 3; l >= 0; l-- {
		for _, mt := range levels[l] {
			if mt == "application/json" || mt == "application/*" || mt == "*/*" {
				return false
			}
		}
		for _, mt := range levels[l] {
			if mt == "text/html" || mt == "text/*" {
				return true
			}
		}
	}
	return false
}

func hasParamsBesidesQ(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, _, _ := strings.Cut(strings.TrimSpace(p), "=")
		if k = strings.TrimSpace(k); k != "" && k != "q" {
			return true
		}
	}
	return false
}

// browsable is the middleware that answers a browser with the page: the
// handlers write their JSON (uncompressed, unconditional) into a buffer,
// which becomes the page, with its own ETag. Every API response says
// that it varies with Accept.
func (h *handler) browsable(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			return next(c)
		}
		if strings.HasSuffix(req.URL.Path, "/openapi.json") {
			return next(c)
		}
		resp := c.Response()
		resp.Header().Add("Vary", "Accept")
		if !wantsHTML(req) {
			return next(c)
		}
		inm := req.Header.Get("If-None-Match")
		for _, k := range []string{"If-None-Match", "If-Modified-Since", "Accept-Encoding"} {
			req.Header.Del(k)
		}
		orig := resp.Writer
		rec := &bodyRecorder{hdr: orig.Header()}
		resp.Writer = rec
		err := func() error {
			defer func() { resp.Writer = orig }()
			return next(c)
		}()
		if err != nil {
			return err
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		hdr := resp.Header()
		hdr.Del(echo.HeaderContentLength)
		hdr.Del(echo.HeaderContentEncoding)
		resp.Committed, resp.Size = false, 0
		if etag := hdr.Get("ETag"); etag != "" {
			etag = strings.TrimSuffix(etag, `"`) + `-html"`
			hdr.Set("ETag", etag)
			if inm != "" && etagMatch(inm, etag) {
				hdr.Del(echo.HeaderContentType)
				return c.NoContent(http.StatusNotModified)
			}
		}
		hdr.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
		if req.Method == http.MethodHead {
			resp.WriteHeader(status)
			return nil
		}
		var page bytes.Buffer
		if err := browseTemplate.Execute(&page, browseData(c, status, rec)); err != nil {
			return err
		}
		resp.WriteHeader(status)
		_, err = resp.Write(page.Bytes())
		return err
	}
}

// bodyRecorder keeps the start of what a handler writes, up to
// maxBrowseJSON, and counts the rest; headers go to the real response.
type bodyRecorder struct {
	hdr     http.Header
	status  int
	body    []byte
	dropped int64
}

func (r *bodyRecorder) Header() http.Header { return r.hdr }

func (r *bodyRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *bodyRecorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	keep := min(len(p), maxBrowseJSON-len(r.body))
	r.body = append(r.body, p[:keep]...)
	r.dropped += int64(len(p) - keep)
	return len(p), nil
}

type crumb struct{ Name, URL string }

type browsePage struct {
	Title              string
	Crumbs             []crumb
	Method, RequestURI string
	JSONURL            string
	Status             int
	StatusText         string
	Body               template.HTML
	Truncated          int64
}

func browseData(c echo.Context, status int, rec *bodyRecorder) browsePage {
	req := c.Request()
	res, id := strings.TrimSuffix(c.Param("res"), ".json"), strings.TrimSuffix(c.Param("id"), ".json")
	p := browsePage{Title: "Api Root", Method: req.Method, RequestURI: req.URL.RequestURI(), Status: status,
		StatusText: http.StatusText(status), Body: prettyJSON(rec.body), Truncated: rec.dropped}
	p.Crumbs = []crumb{{"Api Root", Prefix + "/"}}
	if res != "" {
		p.Title = words(res) + " List"
		p.Crumbs = append(p.Crumbs, crumb{words(res) + " List", Prefix + "/" + url.PathEscape(res) + "/"})
		if id != "" {
			p.Title = words(res) + " Instance"
			p.Crumbs = append(p.Crumbs, crumb{words(res) + " Instance", ""})
		}
	}
	p.Crumbs[len(p.Crumbs)-1].URL = ""
	u := *req.URL
	q := u.Query()
	q.Set("format", "json")
	u.RawQuery = q.Encode()
	p.JSONURL = u.RequestURI()
	return p
}

// words turns a resource name into words, as DRF names its views:
// "layerItems" is "Layer Items".
func words(name string) string {
	var b strings.Builder
	for i, r := range name {
		if i == 0 {
			r = unicode.ToUpper(r)
		} else if unicode.IsUpper(r) {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// prettyJSON indents JSON for reading, escaped for HTML, with every
// string that is an http(s) URL made a link. It works on a prefix of a
// document too (a response cut at maxBrowseJSON), so it scans tokens
// itself rather than decoding.
func prettyJSON(b []byte) template.HTML {
	var out strings.Builder
	depth := 0
	newline := func() {
		out.WriteByte('\n')
		for range depth {
			out.WriteString("    ")
		}
	}
	for i := 0; i < len(b); {
		switch c := b[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
		case '{', '[':
			out.WriteByte(c)
			i++
			j := i
			for j < len(b) && strings.IndexByte(" \t\n\r", b[j]) >= 0 {
				j++
			}
			if j < len(b) && (b[j] == '}' || b[j] == ']') {
				out.WriteByte(b[j])
				i = j + 1
				continue
			}
			depth++
			newline()
		case '}', ']':
			depth = max(0, depth-1)
			newline()
			out.WriteByte(c)
			i++
		case ',':
			out.WriteByte(',')
			newline()
			i++
		case ':':
			out.WriteString(": ")
			i++
		case '"':
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(b))
			lit := b[i:j]
			writeString(&out, lit, nextIs(b[j:], ':'))
			i = j
		default:
			j := i
			for j < len(b) && strings.IndexByte(",:{}[] \t\n\r\"", b[j]) < 0 {
				j++
			}
			out.WriteString(template.HTMLEscapeString(string(b[i:j])))
			i = j
		}
	}
	return template.HTML(out.String())
}

func nextIs(b []byte, c byte) bool {
	for _, x := range b {
		if x != ' ' && x != '\t' && x != '\n' && x != '\r' {
			return x == c
		}
	}
	return false
}

// writeString writes a JSON string literal: keys and values get a class
// for colour, and a value that is an http(s) URL becomes a link (nofollow:
// the index holds anyone's URLs).
func writeString(out *strings.Builder, lit []byte, key bool) {
	esc := template.HTMLEscapeString(string(lit))
	if key {
		out.WriteString(`<span class="k">` + esc + `</span>`)
		return
	}
	var s string
	if json.Unmarshal(lit, &s) == nil {
		if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			href := template.HTMLEscapeString(s)
			out.WriteString(`"<a href="` + href + `" rel="nofollow noopener">` + template.HTMLEscapeString(string(lit[1:len(lit)-1])) + `</a>"`)
			return
		}
	}
	out.WriteString(`<span class="s">` + esc + `</span>`)
}
