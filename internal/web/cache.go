package web

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"layerindex/internal/db"
	"layerindex/internal/indexversion"
)

// The page cache keeps rendered pages for anonymous visitors and serves
// them again until the index changes. It is exact, not time-based: pages
// are kept per index version (package indexversion: on SQLite a change
// counter kept by triggers, read per request; on PostgreSQL the version
// pushed by the notifications that triggers send on commit, so a page is
// never older than the last commit plus the notification's trip, on every
// server of a deployment, and a lost connection disables the cache until it
// is back). Requests with cookies or credentials are never served from it, so
// per-user pages (log-in state) stay correct.

const (
	cacheMaxEntries = 4096
	cacheMaxBytes   = 64 << 20
	cacheMaxPage    = 1 << 20
	// cacheTTL bounds how long a page may live even without changes, so
	// relative times ("2 hours ago") stay roughly right.
	cacheTTL = 5 * time.Minute
)

type cacheEntry struct {
	key      string
	version  int64
	born     time.Time
	status   int
	header   http.Header
	body     []byte
	listElem *list.Element

	gzOnce sync.Once // the body gzipped, made on the first hit that accepts it
	gz     []byte
}

// gzipped is the entry's body compressed, or nil when compression does
// not pay (tiny bodies).
func (e *cacheEntry) gzipped() []byte {
	e.gzOnce.Do(func() {
		if len(e.body) < 1024 {
			return
		}
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
		w.Write(e.body)
		w.Close()
		e.gz = b.Bytes()
	})
	return e.gz
}

type pageCache struct {
	mu      sync.Mutex
	entries map[string]*cacheEntry
	lru     *list.List // front: most recently used
	bytes   int

	versions *indexversion.Watcher
	notify   bool // PostgreSQL: cache only while versions are pushed

	hits, misses atomic.Int64
}

func newPageCache(d *db.DB, versions *indexversion.Watcher) *pageCache {
	return &pageCache{entries: map[string]*cacheEntry{}, lru: list.New(), versions: versions, notify: d.Dialect == db.Postgres}
}

// version is the current index version, and false when pages must not be
// cached now: on PostgreSQL while the notification listener is down (a
// change it missed would go unseen by the other servers' caches' peers).
func (c *pageCache) version(ctx context.Context) (int64, bool) {
	if c.notify && !c.versions.Pushed() {
		return 0, false
	}
	v, err := c.versions.Current(ctx)
	return v.Version, err == nil
}

func (c *pageCache) get(key string, version int64) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil {
		return nil
	}
	if e.version != version || time.Since(e.born) > cacheTTL {
		c.remove(e)
		return nil
	}
	c.lru.MoveToFront(e.listElem)
	return e
}

func (c *pageCache) put(e *cacheEntry) {
	if len(e.body) > cacheMaxPage {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[e.key]; old != nil {
		c.remove(old)
	}
	e.listElem = c.lru.PushFront(e)
	c.entries[e.key] = e
	c.bytes += len(e.body)
	for len(c.entries) > cacheMaxEntries || c.bytes > cacheMaxBytes {
		c.remove(c.lru.Back().Value.(*cacheEntry))
	}
}

func (c *pageCache) remove(e *cacheEntry) {
	c.lru.Remove(e.listElem)
	delete(c.entries, e.key)
	c.bytes -= len(e.body)
}

// recorder copies what a handler writes, to cache it. A rendered page comes
// in one Write (render buffers it), so body is one exact-size copy, which
// the cache keeps as it is.
type recorder struct {
	http.ResponseWriter
	status int
	body   []byte
}

func (r *recorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.body == nil {
		r.body = bytes.Clone(b)
	} else {
		r.body = append(r.body, b...)
	}
	return r.ResponseWriter.Write(b)
}

// acceptsGzip reports whether the client takes gzip (q=0 refuses it).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// cachedHeaders are the response headers a cached page keeps; the security
// headers are set afresh by the middleware on every request.
var cachedHeaders = []string{"Content-Type", "Location", "Content-Disposition"}

// cached serves h through the page cache when the server has one; what the
// cache does not answer passes the gate (gate.go).
func (s *Server) cached(h echo.HandlerFunc) echo.HandlerFunc {
	if s.cache == nil {
		return func(ec echo.Context) error { return s.gated(ec, h) }
	}
	c := s.cache
	return func(ec echo.Context) error {
		r := ec.Request()
		if r.Method != http.MethodGet || r.Header.Get("Cookie") != "" || r.Header.Get("Authorization") != "" {
			return s.gated(ec, h)
		}
		version, ok := c.version(r.Context())
		if !ok {
			return s.gated(ec, h)
		}
		// The page is rendered from this version: what it derives from the
		// index is looked up at the same one, without reading it again.
		if rv, _ := r.Context().Value(requestVersionKey{}).(*requestVersion); rv != nil {
			rv.read, rv.version = true, version
		}
		key := r.RequestURI
		if e := c.get(key, version); e != nil {
			c.hits.Add(1)
			hdr := ec.Response().Header()
			for k, v := range e.header {
				hdr[k] = v
			}
			hdr.Set("X-Cache", "hit")
			hdr.Add("Vary", "Accept-Encoding")
			body := e.body
			// Compressed only once a client takes it: a new gzip writer
			// for a client that cannot use the result cost more than the
			// hit itself.
			if acceptsGzip(r) {
				if gz := e.gzipped(); gz != nil {
					body = gz
					hdr.Set("Content-Encoding", "gzip")
				}
			}
			hdr.Set("Content-Length", strconv.Itoa(len(body)))
			ec.Response().WriteHeader(e.status)
			_, err := ec.Response().Write(body)
			return err
		}
		c.misses.Add(1)
		rec := &recorder{ResponseWriter: ec.Response().Writer}
		ec.Response().Writer = rec
		defer func() { ec.Response().Writer = rec.ResponseWriter }()
		ec.Response().Header().Set("X-Cache", "miss")
		ec.Response().Header().Add("Vary", "Accept-Encoding")
		err := s.gated(ec, h)
		if err != nil || (rec.status != http.StatusOK && rec.status != http.StatusFound) {
			return err
		}
		hdr := http.Header{}
		for _, k := range cachedHeaders {
			if v := ec.Response().Header().Values(k); len(v) > 0 {
				hdr[k] = v
			}
		}
		c.put(&cacheEntry{key: key, version: version, born: time.Now(), status: rec.status, header: hdr, body: rec.body})
		return nil
	}
}
