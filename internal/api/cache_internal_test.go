package api

import (
	"fmt"
	"testing"
)

func TestCacheBounds(t *testing.T) {
	c := newCache(1000) // entries up to 250 bytes
	for i := 0; i < 20; i++ {
		c.put(fmt.Sprint(i), 1, make([]byte, 200))
	}
	if c.size > 1000 || len(c.byKey) != 5 {
		t.Errorf("size %d with %d entries", c.size, len(c.byKey))
	}
	if _, ok := c.get("19", 1); !ok {
		t.Error("the newest entry was evicted")
	}
	if _, ok := c.get("0", 1); ok {
		t.Error("the oldest entry survived")
	}
	if _, ok := c.get("19", 2); ok {
		t.Error("an entry served for another version")
	}
	if _, ok := c.get("19", 1); ok {
		t.Error("an entry of an old version was kept")
	}
	c.put("big", 1, make([]byte, 300))
	if _, ok := c.get("big", 1); ok {
		t.Error("an entry over the per-entry limit was kept")
	}
	var off *cache = newCache(-1)
	off.put("x", 1, []byte("x"))
	if _, ok := off.get("x", 1); ok {
		t.Error("a disabled cache kept something")
	}
	for _, h := range []struct {
		v  string
		ok bool
	}{{"gzip", true}, {"deflate, gzip;q=0.5", true}, {"gzip;q=0", false}, {"gzip; q=0.0", false}, {"*", true}, {"br", false}, {"", false}, {"GZIP", true}} {
		if acceptsGzip(h.v) != h.ok {
			t.Errorf("acceptsGzip(%q) = %v", h.v, !h.ok)
		}
	}
}
