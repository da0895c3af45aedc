package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/jobs"
	"layerindex/internal/logtest"
	"layerindex/internal/web"
)

// TestRequestIDs: every response carries an X-Request-ID, a new one per
// request (a well-formed one from a proxy in front is kept, anything else
// replaced); a server error's page shows it ("request id: …") and the
// server's log lines about that request carry it as request_id. Also
// checks that the profiler is not on the site's address (only on
// --debug-listen's).
func TestRequestIDs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		conn := dbtest.Migrated(t, d)
		q, err := jobs.New(context.Background(), conn, jobs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var logs logtest.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		s, err := web.New(conn, q, web.Options{Version: "test", Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s.Handler())
		t.Cleanup(ts.Close)
		get := func(path string, hdr map[string]string) (int, string, http.Header) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			return resp.StatusCode, b.String(), resp.Header
		}

		idRe := regexp.MustCompile(`^[0-9a-f]{24}$`)
		_, _, h1 := get("/", nil)
		_, _, h2 := get("/", nil)
		id1, id2 := h1.Get("X-Request-ID"), h2.Get("X-Request-ID")
		if !idRe.MatchString(id1) || !idRe.MatchString(id2) || id1 == id2 {
			t.Errorf("request ids %q and %q", id1, id2)
		}
		for _, p := range []string{"/static/css/site.css", "/layerindex/api/", "/no/such/page/"} {
			if _, _, h := get(p, nil); !idRe.MatchString(h.Get("X-Request-ID")) {
				t.Errorf("%s: X-Request-ID %q", p, h.Get("X-Request-ID"))
			}
		}
		// Client errors do not show it on the page.
		if code, body, _ := get("/no/such/page/", nil); code != http.StatusNotFound || strings.Contains(body, "request id") {
			t.Errorf("404 page: %d, shows a request id: %v", code, strings.Contains(body, "request id"))
		}
		if _, _, h := get("/", map[string]string{"X-Request-ID": "proxy-4f2a9c.17"}); h.Get("X-Request-ID") != "proxy-4f2a9c.17" {
			t.Errorf("a proxy's request id was not kept: %q", h.Get("X-Request-ID"))
		}
		for _, bad := range []string{"short", "has space 12345", "x\u00e9y12345678", strings.Repeat("a", 65)} {
			if _, _, h := get("/", map[string]string{"X-Request-ID": bad}); !idRe.MatchString(h.Get("X-Request-ID")) {
				t.Errorf("a malformed request id %q was kept: %q", bad, h.Get("X-Request-ID"))
			}
		}
		if code, body, h := get("/layerindex/api/layerItems/999999/", nil); code != http.StatusNotFound ||
			!strings.Contains(body, `"detail":"Not found."`) || !strings.Contains(body, `"request_id":"`+h.Get("X-Request-ID")+`"`) {
			t.Errorf("API 404: %d %s, X-Request-ID %q", code, body, h.Get("X-Request-ID"))
		}
		if code, _, _ := get("/debug/pprof/", nil); code != http.StatusNotFound {
			t.Errorf("/debug/pprof/ on the site's address: %d", code)
		}

		// A server error: the database is gone.
		if err := conn.SQL.Close(); err != nil {
			t.Fatal(err)
		}
		code, body, h := get("/layerindex/branch/master/layers/", nil)
		id := h.Get("X-Request-ID")
		if code < 500 || !idRe.MatchString(id) {
			t.Fatalf("with the database closed: %d, id %q", code, id)
		}
		if !strings.Contains(body, "request id: <code>"+id+"</code>") {
			t.Errorf("the %d page does not show its request id %s:\n%s", code, id, body)
		}
		lines, layout := 0, false
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "request_id="+id) {
				lines++
				// The page's layout could not list the branches either:
				// a line of the handlers' own, without the URI.
				if strings.Contains(l, "listing branches for the layout") {
					layout = true
				} else if !strings.Contains(l, "/layerindex/branch/master/layers/") {
					t.Errorf("a log line with the request's id is about something else: %s", l)
				}
			}
		}
		if lines < 3 || !layout { // the error, the layout's warning and the request line
			t.Errorf("%d log lines carry the request id %s (the layout's warning among them: %v):\n%s", lines, id, layout, logs.String())
		}
		// An API error's JSON body carries the id too, beside upstream's
		// detail.
		code, body, h = get("/layerindex/api/layerItems/", nil)
		var detail map[string]string
		if json.Unmarshal([]byte(body), &detail) != nil || code < 500 || detail["detail"] == "" || detail["request_id"] != h.Get("X-Request-ID") {
			t.Errorf("API error with the database closed: %d %s, X-Request-ID %q", code, body, h.Get("X-Request-ID"))
		}
	})
}
