package catalog_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"layerindex/internal/catalog"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/logtest"
	"layerindex/internal/requestid"
)

// ctxMark is what the test puts in the context it calls the catalog with,
// as the web server puts a request's id there.
type ctxMark struct{}

// markHandler records, for each line logged, the mark of the context it
// was logged with ("" without one).
type markHandler struct {
	mu    *sync.Mutex
	lines map[string]string // message → mark
}

func (h markHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h markHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	m, _ := ctx.Value(ctxMark{}).(string)
	h.lines[r.Message] = m
	return nil
}
func (h markHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h markHandler) WithGroup(string) slog.Handler      { return h }

// TestLogLinesCarryTheContext: the catalog logs with the context it is
// called with, so that a line written during a request carries the
// request's id (the web server's logger adds it from the context).
func TestLogLinesCarryTheContext(t *testing.T) {
	h := markHandler{mu: &sync.Mutex{}, lines: map[string]string{}}
	e := newEnv(t, db.SQLite, envOpts{logger: slog.New(h)})
	ctx := context.WithValue(e.ctx, ctxMark{}, "request-1234")
	if err := e.cat.AdminDigest(ctx); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	const msg = "administrators' digest: no broken or stale layer"
	if m, ok := h.lines[msg]; !ok || m != "request-1234" {
		t.Errorf("%q logged %v, with the context's mark %q; lines: %v", msg, ok, m, h.lines)
	}
}

// TestRunEndCarriesRequestID: the worker's line about the end of a run a
// request asked for carries that request's id (through the job's
// metadata), so that "my re-index did nothing" can be followed from the
// web server's log to the worker's; a run nobody asked for carries none.
func TestRunEndCarriesRequestID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		var logs logtest.Buffer
		e := newEnv(t, d, envOpts{work: true, logger: requestid.Logger(slog.New(slog.NewTextHandler(&logs, nil)))})
		master := e.branch("master")
		core := e.layer("openembedded-core", "meta", master)
		e.start(e.q)
		ended := func() []string {
			var out []string
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, `msg="update run attempt ended"`) {
					out = append(out, l)
				}
			}
			return out
		}
		e.waitFor("the first run's end", func() bool { return len(ended()) == 1 })
		const id = "req-5e1f00d1c0"
		if _, err := e.cat.RequestUpdate(requestid.With(e.ctx, id), catalog.CLI, catalog.UpdateRequest{LayerID: core.ID, Force: true}); err != nil {
			t.Fatal(err)
		}
		e.waitFor("the requested run's end", func() bool { return len(ended()) == 2 })
		lines := ended()
		if strings.Contains(lines[0], "request_id=") {
			t.Errorf("a run queued outside a request carries an id:\n%s", lines[0])
		}
		if !strings.Contains(lines[1], "request_id="+id) {
			t.Errorf("the requested run's end lacks the request id %s:\n%s", id, lines[1])
		}
	})
}
