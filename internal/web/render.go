package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"
)

// renderer holds one parsed template set per page: the layout plus the
// page's own folder, so pages can each define "title" and "content".
type renderer struct {
	pages map[string]*template.Template
}

func newRenderer(fsys fs.FS, funcs template.FuncMap) (*renderer, error) {
	layout, err := template.New("").Funcs(funcs).ParseFS(fsys, "layout/*.html")
	if err != nil {
		return nil, fmt.Errorf("layout templates: %w", err)
	}
	dirs, err := fs.ReadDir(fsys, "pages")
	if err != nil {
		return nil, err
	}
	r := &renderer{pages: map[string]*template.Template{}}
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
	return r, nil
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
