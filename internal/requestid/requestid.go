// Package requestid names the request a piece of work comes from, so that a
// person reporting "500, request id: …" or "my re-index did nothing" can be
// matched with every log line about it: the web server's, and those of the
// jobs the request queued, wherever a worker ran them.
//
// The id lives in a context. The web server puts it there first of all
// middleware; the job queue copies it into the metadata of every job inserted
// with that context and back into the context the job is worked with.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"regexp"
)

// key is the context key of the id.
type key struct{}

// valid is what an id from outside (a trusted proxy's X-Request-ID, a job's
// metadata) may look like to be kept: anything else is replaced or dropped,
// so that no one can write what they like into the log.
var valid = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,64}$`)

// Valid reports whether id may be used as a request id.
func Valid(id string) bool { return valid.MatchString(id) }

// New makes a fresh id: 24 hexadecimal digits.
func New() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// Of is the id ctx carries ("" outside a request and its jobs).
func Of(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// Logger wraps l so that every line logged with a context carrying an id
// has it as request_id. Wrapping twice is wrapping once.
func Logger(l *slog.Logger) *slog.Logger {
	if _, ok := l.Handler().(handler); ok {
		return l
	}
	return slog.New(handler{l.Handler()})
}

type handler struct{ slog.Handler }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if id := Of(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h handler) WithAttrs(as []slog.Attr) slog.Handler { return handler{h.Handler.WithAttrs(as)} }

func (h handler) WithGroup(name string) slog.Handler { return handler{h.Handler.WithGroup(name)} }
