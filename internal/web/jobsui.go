package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
	"riverqueue.com/riverui"

	"layerindex/internal/auth"
)

// jobsUIPrefix is where River UI, the job queue's dashboard, is mounted.
const jobsUIPrefix = "/layerindex/admin/jobs"

// jobsUICSP is the dashboard's Content-Security-Policy: the site's, except
// that its single-page application's components set inline styles.
const jobsUICSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// jobsUI serves River UI for administrators. River UI has no access control
// of its own: every request to it passes the policy (ManageJobs) first,
// and its API's state-changing calls (cancel, retry, delete a job, pause a
// queue) the site's CSRF middleware like any form. Its page is given the
// session's token and a script (static/js/jobs-csrf.js) that adds it to
// those calls as X-CSRF-Token.
type jobsUI struct {
	h     *riverui.Handler
	start sync.Once
	ctx   context.Context // ends with the server (Close)
	stop  context.CancelFunc
}

// jobsUIRoutes mounts the dashboard, when the server has a job queue.
func (s *Server) jobsUIRoutes() error {
	if s.jobs == nil {
		return nil
	}
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints:                riverui.NewEndpoints(s.jobs.Client(), nil),
		JobListHideArgsByDefault: true,
		Logger:                   s.log.With("component", "riverui"),
		Prefix:                   jobsUIPrefix,
	})
	if err != nil {
		return fmt.Errorf("job dashboard: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	s.jobsUI = &jobsUI{h: h, ctx: ctx, stop: stop}
	s.echo.Any(jobsUIPrefix+"/*", s.serveJobsUI)
	return nil
}

func (s *Server) serveJobsUI(c echo.Context) error {
	if err := s.require(c, auth.ManageJobs, nil); err != nil {
		return err
	}
	ui := s.jobsUI
	var startErr error
	// River UI's background services (count caches) run only once an
	// administrator has looked, not in every web process from its start.
	ui.start.Do(func() { startErr = ui.h.Start(ui.ctx) })
	if startErr != nil {
		return fmt.Errorf("starting the job dashboard: %w", startErr)
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentSecurityPolicy, jobsUICSP)
	w.Header().Set("Cache-Control", "no-store")
	r := c.Request()
	if strings.HasPrefix(r.URL.Path, jobsUIPrefix+"/api/") || strings.HasPrefix(r.URL.Path, jobsUIPrefix+"/assets/") {
		ui.h.ServeHTTP(w, r)
		return nil
	}
	// Everything else is the application's page (River UI routes in the
	// browser): give it the CSRF token and the script that sends it.
	rec := &bufferedWriter{header: http.Header{}, code: http.StatusOK}
	ui.h.ServeHTTP(rec, r)
	body := rec.buf.Bytes()
	if strings.HasPrefix(rec.header.Get(echo.HeaderContentType), echo.MIMETextHTML) {
		token := s.acct.sessions.CSRFToken(r.Context())
		inject := `<head>` + "\n" + `<meta name="csrf-token" content="` + template.HTMLEscapeString(token) + `">` +
			`<script src="/static/js/jobs-csrf.js"></script>`
		body = bytes.Replace(body, []byte("<head>"), []byte(inject), 1)
		rec.header.Del(echo.HeaderContentLength)
	}
	for k, v := range rec.header {
		if k == echo.HeaderContentSecurityPolicy {
			continue
		}
		w.Header()[k] = v
	}
	w.WriteHeader(rec.code)
	_, err := w.Write(body)
	return err
}

// bufferedWriter keeps a response in memory (River UI's page is a few
// kilobytes) so that it can be changed before it is sent.
type bufferedWriter struct {
	header http.Header
	code   int
	buf    bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }
func (b *bufferedWriter) WriteHeader(code int)        { b.code = code }
