package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/labstack/echo/v4"
)

// renderer holds one parsed template set per page: the layout plus the
// page's own folder, so pages can each define "title" and "content".
type renderer struct {
	pages map[string]*template.Template

	// layout is the layout's own set, which renders the partials.
	layout *template.Template
	// partials are the layout's partials as rendered, by partialID.
	partials  sync.Map
	npartials atomic.Int64
}

// partialID names one rendering of a partial.
type partialID struct{ name, key string }

// maxPartials bounds the partials kept (the keys hold branch names).
const maxPartials = 4096

func newRenderer(fsys fs.FS, funcs template.FuncMap) (*renderer, error) {
	r := &renderer{pages: map[string]*template.Template{}}
	all := template.FuncMap{}
	for k, v := range funcs {
		all[k] = v
	}
	// The renderer's own func, in place of templateFuncs' stand-in.
	all["partial"] = r.partial
	layout, err := template.New("").Funcs(all).ParseFS(fsys, "layout/*.html")
	if err != nil {
		return nil, fmt.Errorf("layout templates: %w", err)
	}
	dirs, err := fs.ReadDir(fsys, "pages")
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(fsys, path.Join("pages", d.Name(), "*.html"))
		if err != nil {
			return nil, fmt.Errorf("page %s: %w", d.Name(), err)
		}
		r.pages[d.Name()] = t
	}
	// Cloned above before any execution, as html/template requires.
	r.layout = layout
	return r, nil
}

// partialKeyer is a page's data as the layout's partials see it: every
// page's data embeds pageData.
type partialKeyer interface {
	partialKey(name string) (string, bool)
}

// partialKey says what the layout partial name depends on, false when its
// output must not be kept (a signed-in visitor's account area). The
// partials (templates/layout/base.html, account.html) and these keys go
// together.
func (p pageData) partialKey(name string) (string, bool) {
	switch name {
	case "searchform":
		return p.BranchName, true
	case "mainnav":
		return p.BranchName + "\x00" + p.Nav, true
	case "footer":
		return p.SiteName + "\x00" + p.Version, true
	case "accountnav":
		if p.User != nil {
			return "", false
		}
		return strconv.FormatBool(p.ClosedSite) + strconv.FormatBool(p.LocalPasswords), true
	}
	return "", false
}

// partial renders a part of the layout that is the same on many pages —
// the navigation, search form, anonymous account area and footer, about
// a hundred template actions, each a reflective call — once per key, and
// after that returns it as it was rendered (the same bytes: a partial
// starts and ends in HTML text, as where the layout includes it).
func (r *renderer) partial(name string, data any) (template.HTML, error) {
	pk, ok := data.(partialKeyer)
	var id partialID
	if ok {
		id.name, id.key = name, ""
		id.key, ok = pk.partialKey(name)
		if ok {
			if h, found := r.partials.Load(id); found {
				return h.(template.HTML), nil
			}
		}
	}
	var b strings.Builder
	if err := r.layout.ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	h := template.HTML(b.String())
	if ok && r.npartials.Load() < maxPartials {
		if _, loaded := r.partials.LoadOrStore(id, h); !loaded {
			r.npartials.Add(1)
		}
	}
	return h, nil
}

// render writes page with data, buffered so a template error becomes a clean
// 500 instead of half a page.
func (r *renderer) render(c echo.Context, status int, page string, data any) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("no page template %q", page)
	}
	buf := renderBufs.Get().(*bytes.Buffer)
	defer putRenderBuf(buf)
	buf.Reset()
	if err := t.ExecuteTemplate(buf, "base", data); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	// A known length spares the client a chunked response.
	c.Response().Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	return c.HTMLBlob(status, buf.Bytes())
}

// renderBufs keeps page buffers between requests: a page is tens of
// kilobytes, and a fresh buffer grows to it by doubling, which was a
// dozen allocations and copies per page. What writes the page on (the
// connection, the page cache's recorder) copies it before render returns.
var renderBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledRender is the largest buffer kept for reuse, so one huge page
// does not pin its memory in every pooled buffer.
const maxPooledRender = 1 << 20

func putRenderBuf(b *bytes.Buffer) {
	if b.Cap() <= maxPooledRender {
		renderBufs.Put(b)
	}
}

// statusText is http.StatusText for templates.
func statusText(code int) string { return http.StatusText(code) }
