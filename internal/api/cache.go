package api

import (
	"container/list"
	"sync"
)

// cache keeps recent response bodies, each valid for one version of the
// index: clients pull the same few large lists (a branch's recipes, every
// layer branch) again and again between index updates, and serving those
// from memory costs a copy instead of a database scan and a compression.
// It is bounded by bytes; responses larger than maxEntry are not kept.
type cache struct {
	mu       sync.Mutex
	max      int64
	maxEntry int64
	size     int64
	lru      *list.List // of *cacheEntry, most recent first
	byKey    map[string]*list.Element
	filling  map[string]bool // keys a response is being recorded for
}

type cacheEntry struct {
	key     string
	version int64
	body    []byte
}

func newCache(maxBytes int64) *cache {
	if maxBytes <= 0 {
		return nil
	}
	return &cache{max: maxBytes, maxEntry: maxBytes / 4, lru: list.New(), byKey: map[string]*list.Element{},
		filling: map[string]bool{}}
}

// get returns the body stored for key at version; an entry of another
// version is dropped.
func (c *cache) get(key string, version int64) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if e.version != version {
		c.remove(el)
		return nil, false
	}
	c.lru.MoveToFront(el)
	return e.body, true
}

// fill reports whether the caller should record the response for key: only
// one request at a time does, so a burst of identical requests on a new
// index version holds one copy in memory, not one each.
func (c *cache) fill(key string) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.filling[key] {
		return false
	}
	c.filling[key] = true
	return true
}

// filled ends fill; body is nil when the response could not be recorded.
func (c *cache) filled(key string, version int64, body []byte) {
	c.mu.Lock()
	delete(c.filling, key)
	c.mu.Unlock()
	if body != nil {
		c.put(key, version, body)
	}
}

func (c *cache) put(key string, version int64, body []byte) {
	if c == nil || int64(len(body)) > c.maxEntry {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.remove(el)
	}
	c.byKey[key] = c.lru.PushFront(&cacheEntry{key: key, version: version, body: body})
	c.size += int64(len(body))
	for c.size > c.max {
		c.remove(c.lru.Back())
	}
}

func (c *cache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.byKey, e.key)
	c.size -= int64(len(e.body))
}

// capture records what is written through it, up to limit bytes; past
// that it gives up (the body is too large to keep).
type capture struct {
	buf   []byte
	limit int64
	over  bool
	done  bool // the whole response went through
}

func (c *capture) Write(p []byte) (int, error) {
	if !c.over {
		if int64(len(c.buf)+len(p)) > c.limit {
			c.over, c.buf = true, nil
		} else {
			c.buf = append(c.buf, p...)
		}
	}
	return len(p), nil
}
