package catalog_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"layerindex/internal/db"
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
