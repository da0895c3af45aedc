package web

import (
	"context"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"layerindex/internal/store"
)

// indexMemo keeps what pages derive from the whole index or a whole
// branch — the release selector's branches, a branch's providers and
// bbappends — for one index version, so a page rendered on a cache miss
// does not read them again: they change only with the index, and pages ask
// for them on every view. It is exact for the same reason the page cache
// is: a value built after reading version v reflects at least v.
type indexMemo struct {
	mu       sync.Mutex
	version  int64
	branches *memoEntry[[]store.Branch]
	indexes  map[int64]*memoEntry[*store.BranchIndex]
	// layerBranches are layer branches with their Layer and Branch, by id:
	// every recipe page needs its recipe's, and there are few of them
	// (one per layer and branch) against many recipes.
	layerBranches map[int64]*memoEntry[*store.LayerBranch]
	// layerLists are the layer list's rows of a branch and their markup,
	// by branch id (store.LayerListRows, newLayerList).
	layerLists map[int64]*memoEntry[*layerList]
	// layerHeads are what a layer page shows above its tabs, by branch and
	// layer name (layerHead).
	layerHeads map[layerHeadKey]*memoEntry[*layerHead]
	// covers tells whether any comparison package has a cover (anyCovers).
	covers *memoEntry[bool]
}

// memoEntry is one value, built once by the first caller while the others
// wait for it.
type memoEntry[T any] struct {
	done chan struct{}
	v    T
	err  error
}

// memoBuildTimeout bounds a build, which outlives the request that started
// it (others may be waiting for it).
const memoBuildTimeout = time.Minute

// memoGet returns the value for version, building it with build unless it
// is built or being built; a failed build is not kept. slot is called
// under the lock and returns the entry's place.
func memoGet[T any](ctx context.Context, m *indexMemo, version int64, slot func() *memoSlot[T], build func(context.Context) (T, error)) (T, error) {
	m.mu.Lock()
	if version != m.version {
		m.version, m.branches, m.indexes, m.layerBranches, m.layerLists, m.layerHeads, m.covers = version, nil, nil, nil, nil, nil, nil
	}
	sl := slot()
	e := sl.get()
	if e == nil {
		e = &memoEntry[T]{done: make(chan struct{})}
		sl.set(e)
		m.mu.Unlock()
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), memoBuildTimeout)
		e.v, e.err = build(bctx)
		cancel()
		close(e.done)
		if e.err != nil {
			m.mu.Lock()
			if m.version == version && slot().get() == e {
				slot().set(nil)
			}
			m.mu.Unlock()
		}
		return e.v, e.err
	}
	m.mu.Unlock()
	select {
	case <-e.done:
		return e.v, e.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// memoSlot is where an entry lives in the memo.
type memoSlot[T any] struct {
	get func() *memoEntry[T]
	set func(*memoEntry[T])
}

// mapSlot is the entry of key k in the map *mp (made when first needed).
func mapSlot[K comparable, T any](mp *map[K]*memoEntry[T], k K) *memoSlot[T] {
	return &memoSlot[T]{get: func() *memoEntry[T] { return (*mp)[k] },
		set: func(e *memoEntry[T]) {
			if *mp == nil {
				*mp = map[K]*memoEntry[T]{}
			}
			if e == nil {
				delete(*mp, k)
			} else {
				(*mp)[k] = e
			}
		}}
}

// requestVersion holds the index version a request read first, so every
// derived value it uses comes from one version and one read.
type requestVersion struct {
	read    bool
	version int64
}

type requestVersionKey struct{}

// withRequestVersion gives each request a place for its index version.
func withRequestVersion(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		c.SetRequest(r.WithContext(context.WithValue(r.Context(), requestVersionKey{}, &requestVersion{})))
		return next(c)
	}
}

// indexVersion is the current index version, for keying derived data:
// read once per request.
func (s *Server) indexVersion(ctx context.Context) (int64, error) {
	rv, _ := ctx.Value(requestVersionKey{}).(*requestVersion)
	if rv != nil && rv.read {
		return rv.version, nil
	}
	var v store.IndexVersion
	var err error
	if s.versions != nil {
		v, err = s.versions.Current(ctx)
	} else {
		v, err = s.store.APIIndexVersion(ctx)
	}
	if err == nil && rv != nil {
		rv.read, rv.version = true, v.Version
	}
	return v.Version, err
}

// memoBranches is the branches of the release selector.
func (s *Server) memoBranches(ctx context.Context) ([]store.Branch, error) {
	v, err := s.indexVersion(ctx)
	if err != nil {
		return nil, err
	}
	m := &s.memo
	return memoGet(ctx, m, v, func() *memoSlot[[]store.Branch] {
		return &memoSlot[[]store.Branch]{get: func() *memoEntry[[]store.Branch] { return m.branches },
			set: func(e *memoEntry[[]store.Branch]) { m.branches = e }}
	}, s.store.VisibleBranches)
}

// branchIndex is the BranchIndex of the branch at the current version.
func (s *Server) branchIndex(ctx context.Context, branchID int64) (*store.BranchIndex, error) {
	v, err := s.indexVersion(ctx)
	if err != nil {
		return nil, err
	}
	m := &s.memo
	return memoGet(ctx, m, v, func() *memoSlot[*store.BranchIndex] { return mapSlot(&m.indexes, branchID) }, func(ctx context.Context) (*store.BranchIndex, error) { return s.store.LoadBranchIndex(ctx, branchID) })
}

// layerBranch is the layer branch id with its Layer and Branch at the
// current version, shared read-only between requests.
func (s *Server) layerBranch(ctx context.Context, id int64) (*store.LayerBranch, error) {
	v, err := s.indexVersion(ctx)
	if err != nil {
		return nil, err
	}
	m := &s.memo
	return memoGet(ctx, m, v, func() *memoSlot[*store.LayerBranch] { return mapSlot(&m.layerBranches, id) }, func(ctx context.Context) (*store.LayerBranch, error) { return s.store.LayerBranchByID(ctx, id) })
}

// layerListRows is the layer list of the branch at the current version —
// its rows and their markup (layerList) — shared read-only between
// requests (store.FilterLayers does not modify the rows).
func (s *Server) layerListRows(ctx context.Context, b *store.Branch) (*layerList, error) {
	v, err := s.indexVersion(ctx)
	if err != nil {
		return nil, err
	}
	m := &s.memo
	return memoGet(ctx, m, v, func() *memoSlot[*layerList] { return mapSlot(&m.layerLists, b.ID) }, func(ctx context.Context) (*layerList, error) {
		rows, err := s.store.LayerListRows(ctx, b)
		if err != nil {
			return nil, err
		}
		return newLayerList(rows, b.Name), nil
	})
}

// anyCovers tells whether any comparison package has a cover, at the
// current version: most indexes have no comparison, and then a recipe page
// need not ask which packages its recipe covers (a statement on every
// uncached recipe page, 5 % of its CPU at the size of the public index).
// Covers change with the version (comparison.TouchBranch).
func (s *Server) anyCovers(ctx context.Context) (bool, error) {
	v, err := s.indexVersion(ctx)
	if err != nil {
		return false, err
	}
	m := &s.memo
	return memoGet(ctx, m, v, func() *memoSlot[bool] {
		return &memoSlot[bool]{get: func() *memoEntry[bool] { return m.covers }, set: func(e *memoEntry[bool]) { m.covers = e }}
	}, s.store.AnyCoveredPackages)
}

// layerHeadKey names a layer page's head: the branch and the layer.
type layerHeadKey struct {
	branchID int64
	name     string
}

// layerHead is what a layer page reads before its tab: the layer, its
// layer branch, notes, maintainers, dependencies and tab counts
// (store.LayerOverview), and the layer branch's newest update run. All of it
// changes only with the index version — update runs too bump it — except
// whether the layer branch is stale, which the page takes from staleLayers.
// Kept per version, an uncached layer page reads only its tab's rows: five
// of its six statements were these, and on PostgreSQL more than half of the
// database's time per page (the counts, the planning of the head's
// statement). Only layers that exist are kept (a failed build is not), so
// the memo holds at most one entry per layer branch and missing layer.
type layerHead struct {
	o   *store.LayerOverview
	run *store.LayerUpdate
}

// layerHead is the head of layer name's page on branch b at the current
// version, shared read-only between requests; store.ErrNotFound if no
// published layer has the name.
func (s *Server) layerHead(ctx context.Context, b *store.Branch, name string) (*layerHead, error) {
	v, err := s.indexVersion(ctx)
	if err != nil {
		return nil, err
	}
	m := &s.memo
	k := layerHeadKey{b.ID, name}
	return memoGet(ctx, m, v, func() *memoSlot[*layerHead] { return mapSlot(&m.layerHeads, k) }, func(ctx context.Context) (*layerHead, error) {
		o, err := s.store.LayerOverview(ctx, name, b, s.cat.StaleCutoff())
		if err != nil {
			return nil, err
		}
		h := &layerHead{o: o}
		if o.LayerBranch != nil {
			runs, err := s.store.LastRuns(ctx, []int64{o.LayerBranch.ID})
			if err != nil {
				return nil, err
			}
			if r, ok := runs[o.LayerBranch.ID]; ok {
				h.run = &r
			}
		}
		return h, nil
	})
}

// staleMemoTTL is how long the layer list keeps a branch's stale layer
// branches.
const staleMemoTTL = time.Second

// staleMemo keeps each branch's stale layer branches (the list's "stale"
// badges) for staleMemoTTL. Whether a layer branch is stale changes without
// the index version — an update run records its outcome in
// layer_branch_alerts, which has no version trigger, and time moves past
// the cutoff — so it cannot be kept per version like the rows. Reading it
// at most once a second per branch instead of on every uncached list took
// the list's only query per request away (14 % of its CPU on PostgreSQL,
// plus the database's), and a change still shows within the second: sooner
// than on a cached page, which keeps the badges it was rendered with until
// the index changes or the page cache's TTL.
type staleMemo struct {
	mu       sync.Mutex
	byBranch map[int64]staleEntry
}

type staleEntry struct {
	read  time.Time
	stale map[int64]bool // read-only once stored
	// reading: a request is reading it again; the others use this one
	// meanwhile instead of each running the same query (at the size of
	// the public index, a dozen requests at once every second).
	reading bool
}

// staleLayers is store.StaleLayerBranches of the branch at most
// staleMemoTTL old, or a little older while one request reads it again.
func (s *Server) staleLayers(ctx context.Context, branchID int64, cutoff time.Time) (map[int64]bool, error) {
	m := &s.stale
	m.mu.Lock()
	e, ok := m.byBranch[branchID]
	if ok && (e.reading || time.Since(e.read) < staleMemoTTL) {
		m.mu.Unlock()
		return e.stale, nil
	}
	if ok {
		e.reading = true
		m.byBranch[branchID] = e
	}
	m.mu.Unlock()
	read := time.Now()
	var stale map[int64]bool
	defer func() {
		// Stored, or the reading mark taken away (an error, a panic): the
		// next request reads it.
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.byBranch == nil {
			m.byBranch = map[int64]staleEntry{}
		}
		cur, ok := m.byBranch[branchID]
		if stale != nil && (!ok || cur.read.Before(read)) {
			m.byBranch[branchID] = staleEntry{read: read, stale: stale}
		} else if ok && cur.reading {
			cur.reading = false
			m.byBranch[branchID] = cur
		}
	}()
	stale, err := s.store.StaleLayerBranches(ctx, branchID, cutoff)
	if err != nil {
		return nil, err
	}
	if stale == nil {
		stale = map[int64]bool{}
	}
	return stale, nil
}
