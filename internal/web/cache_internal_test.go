package web

import (
	"net/http"
	"testing"
)

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{"": false, "gzip": true, "GZIP": true, "br, gzip;q=0.8": true, "gzip;q=0": false,
		"gzip; q=0.0": false, "deflate": false, "x-gzip": false, "identity, gzip ; q=1": true} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", h)
		if got := acceptsGzip(r); got != want {
			t.Errorf("%q: %v, want %v", h, got, want)
		}
	}
}
