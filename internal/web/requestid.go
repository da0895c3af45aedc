package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"regexp"

	"github.com/labstack/echo/v4"
)

// Request ids. Every request gets one: it is sent back in X-Request-ID,
// added to every log line written with the request's context (the request
// line, errors, panics), and shown on error pages, so that a person
// reporting "500, request id: …" can be matched with the server's log.

// HeaderRequestID carries the id, in responses (and from a trusted proxy).
const HeaderRequestID = "X-Request-ID"

// requestIDKey is the request context's key of the id.
type requestIDKey struct{}

// goodRequestID is what an id from a proxy in front (X-Request-ID on the
// request) may look like to be kept; anything else is replaced, so that a
// client cannot write what it likes into the log.
var goodRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,64}$`)

// requestID gives the request its id, first of all middleware.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		id := r.Header.Get(HeaderRequestID)
		if !goodRequestID.MatchString(id) {
			id = newRequestID()
		}
		c.Response().Header().Set(HeaderRequestID, id)
		c.SetRequest(r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
		return next(c)
	}
}

func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// RequestIDOf is the id of the request ctx belongs to ("" outside one).
func RequestIDOf(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// LogRequestIDs wraps a logger so that every line logged with a request's
// context carries its id as request_id (the web server's own logger is
// wrapped; `serve` wraps the process's, so the catalog's lines about a
// request carry it too).
func LogRequestIDs(l *slog.Logger) *slog.Logger {
	if _, ok := l.Handler().(requestIDHandler); ok {
		return l
	}
	return slog.New(requestIDHandler{l.Handler()})
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestIDOf(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
