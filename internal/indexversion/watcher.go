// Package indexversion tells the current version of the browsable index
// (the index_state row that database triggers bump with every commit that
// changes what the pages and the API show), cheaply enough to ask on every
// request: the page cache keys on it and the API derives its ETag and
// Last-Modified from it.
//
// On PostgreSQL a Watcher LISTENs on store.IndexChannel, which the triggers
// notify at commit, and reads the row once per notification, so a request
// never queries for it; every server of a deployment hears the same
// notifications, so a change committed by any worker reaches all of them
// within the notification's trip. While the listening connection is down,
// versions are read from the database again (exact, slower) and Pushed
// reports false. On SQLite (one process) the row is read per request, one
// read shared by the requests that wait for it.
package indexversion

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"layerindex/internal/db"
	"layerindex/internal/store"
)

// ApplicationName is the PostgreSQL application_name of the listening
// connection.
const ApplicationName = "layerindex index version"

// Watcher serves the current index version; Close stops it.
type Watcher struct {
	st     *store.Store
	notify bool // PostgreSQL: versions are pushed by notifications

	cur   atomic.Pointer[pushed] // the last version read after a notification
	live  atomic.Bool            // the listener is connected and cur is current
	reads sharedReads            // reads from the database (SQLite, or PostgreSQL while not live)

	stop context.CancelFunc
	done chan struct{}
}

// pushed is a version read by the listener, with the database's clock
// relative to ours at that moment (for Settled).
type pushed struct {
	v     store.IndexVersion
	clock time.Duration // database clock minus local clock
}

// Watch starts watching d's index version. log may be nil.
func Watch(d *db.DB, st *store.Store, log *slog.Logger) *Watcher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{st: st}
	if d.Dialect == db.Postgres {
		w.notify = true
		ctx, cancel := context.WithCancel(context.Background())
		w.stop, w.done = cancel, make(chan struct{})
		go w.listen(ctx, d, log)
	}
	return w
}

// Close stops the listener.
func (w *Watcher) Close() {
	if w.stop != nil {
		w.stop()
		<-w.done
	}
}

// Pushed reports whether versions currently come from notifications
// without a query (PostgreSQL with its listener connected).
func (w *Watcher) Pushed() bool { return w.notify && w.live.Load() }

// Current is the index version now: every change committed before the call
// (PostgreSQL: whose notification has arrived) is included.
func (w *Watcher) Current(ctx context.Context) (store.IndexVersion, error) {
	if w.notify && w.live.Load() {
		if p := w.cur.Load(); p != nil {
			v := p.v
			v.Settled = v.ChangedAt.Before(time.Now().Add(p.clock - 2*time.Second))
			return v, nil
		}
	}
	return w.reads.read(ctx, time.Now(), w.st.APIIndexVersion)
}

// listen keeps a LISTEN connection open and reads the version after every
// notification; while it is down, Current queries instead.
func (w *Watcher) listen(ctx context.Context, d *db.DB, log *slog.Logger) {
	defer close(w.done)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := w.listenOnce(ctx, d)
		w.live.Store(false)
		if ctx.Err() != nil {
			return
		}
		log.Warn("index version: listening for changes failed; reading the version per request meanwhile", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (w *Watcher) listenOnce(ctx context.Context, d *db.DB) error {
	conn, err := listenConn(ctx, d)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+store.IndexChannel); err != nil {
		return err
	}
	// Whatever changed while nobody listened is read now, after LISTEN:
	// a change committed from here on is notified.
	if err := w.readPushed(ctx, conn); err != nil {
		return err
	}
	w.live.Store(true)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		if err := w.readPushed(ctx, conn); err != nil {
			return err
		}
	}
}

func (w *Watcher) readPushed(ctx context.Context, conn *pgx.Conn) error {
	var p pushed
	var dbNow time.Time
	err := conn.QueryRow(ctx, `SELECT version, changed_at, clock_timestamp() FROM index_state WHERE id = 1`).
		Scan(&p.v.Version, &p.v.ChangedAt, &dbNow)
	if err != nil {
		return fmt.Errorf("reading the index version: %w", err)
	}
	p.clock = time.Until(dbNow)
	w.cur.Store(&p)
	return nil
}

// listenConn opens a connection of its own for LISTEN, with the settings
// of the application's pool (database/sql cannot wait for notifications).
func listenConn(ctx context.Context, d *db.DB) (*pgx.Conn, error) {
	sc, err := d.SQL.Conn(ctx)
	if err != nil {
		return nil, err
	}
	var cfg *pgx.ConnConfig
	err = sc.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("not a pgx connection: %T", dc)
		}
		cfg = c.Conn().Config().Copy()
		// Named, so an operator (and a test) can tell it in pg_stat_activity.
		cfg.RuntimeParams["application_name"] = ApplicationName
		return nil
	})
	sc.Close()
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// sharedReads shares reads of the version between requests without losing
// exactness: a request may use a value read by a query that started after
// the request arrived, since that query sees every change committed before.
// Under load one read serves many requests.
type sharedReads struct {
	mu        sync.Mutex
	changed   *sync.Cond // a read finished
	reading   bool
	readStart time.Time
	lastStart time.Time // start of the last finished read
	last      store.IndexVersion
	lastErr   error
}

func (r *sharedReads) read(ctx context.Context, arrival time.Time, query func(context.Context) (store.IndexVersion, error)) (store.IndexVersion, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.changed == nil {
		r.changed = sync.NewCond(&r.mu)
	}
	for {
		if !r.lastStart.IsZero() && !r.lastStart.Before(arrival) {
			return r.last, r.lastErr
		}
		if r.reading {
			r.changed.Wait() // then use it if it started in time, or start the next
			continue
		}
		r.reading, r.readStart = true, time.Now()
		r.mu.Unlock()
		v, err := query(ctx)
		r.mu.Lock()
		r.reading = false
		r.lastStart, r.last, r.lastErr = r.readStart, v, err
		r.changed.Broadcast()
		if err != nil {
			return store.IndexVersion{}, err // a failed read (e.g. a cancelled request) is not shared
		}
	}
}
