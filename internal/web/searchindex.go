package web

import (
	"context"
	"sync"
	"time"

	"layerindex/internal/store"
)

// searchMemo keeps each branch's in-memory search index (store.SearchIndex)
// for one index version. A search on a branch without one at the request's
// version is answered in SQL while one is built in the background — a build
// reads the whole branch, a second or more at the size of the public index,
// and no request waits for it. Like the page cache, an index built after
// reading version v reflects at least v.
type searchMemo struct {
	mu       sync.Mutex
	byBranch map[int64]*searchSlot
}

type searchSlot struct {
	version  int64
	x        *store.SearchIndex
	building bool
	failed   time.Time // the last build's failure: not retried for a while
	used     time.Time // the last search it answered
}

// searchIdle is how long an index no search used is kept: one of a branch
// of the public index's size holds about 21 MB, and old branches are
// searched rarely.
const searchIdle = 10 * time.Minute

// searchRetry is how long a failed build waits before the next try.
const searchRetry = 10 * time.Second

// searchIndex is the branch's search index at the request's index version,
// or nil (search in SQL) while it is being built.
func (s *Server) searchIndex(ctx context.Context, branchID int64) *store.SearchIndex {
	v, err := s.indexVersion(ctx)
	if err != nil {
		return nil // the SQL search reports the database's trouble
	}
	m := &s.search
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byBranch == nil {
		m.byBranch = map[int64]*searchSlot{}
	}
	sl := m.byBranch[branchID]
	if sl == nil {
		sl = &searchSlot{}
		m.byBranch[branchID] = sl
	}
	now := time.Now()
	for _, other := range m.byBranch {
		if other.x != nil && now.Sub(other.used) > searchIdle {
			other.x = nil
		}
	}
	if sl.x != nil && sl.version == v {
		sl.used = now
		return sl.x
	}
	if !sl.building && time.Since(sl.failed) >= searchRetry {
		sl.building = true
		go s.buildSearchIndex(ctx, sl, branchID, v)
	}
	return nil
}

// buildSearchIndex builds the index of a branch as of version (or later)
// and keeps it unless a newer one was kept meanwhile.
func (s *Server) buildSearchIndex(ctx context.Context, sl *searchSlot, branchID, version int64) {
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), memoBuildTimeout)
	defer cancel()
	start := time.Now()
	x, err := s.store.LoadSearchIndex(bctx, branchID)
	m := &s.search
	m.mu.Lock()
	defer m.mu.Unlock()
	sl.building = false
	if err != nil {
		sl.failed = time.Now()
		s.log.Warn("building the search index; searching in SQL meanwhile", "branch", branchID, "err", err)
		return
	}
	if sl.x == nil || version >= sl.version {
		sl.x, sl.version, sl.used = x, version, time.Now()
	}
	s.log.Debug("search index built", "branch", branchID, "version", version, "recipes", x.Len(), "took", time.Since(start))
}
