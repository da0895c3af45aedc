package indexversion

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"layerindex/internal/store"
)

// TestVersionReadsAreFresh: a request never uses a counter value older than
// the last change committed before it arrived, however reads are shared.
func TestVersionReadsAreFresh(t *testing.T) {
	var committed atomic.Int64
	var queries atomic.Int64
	query := func(context.Context) (store.IndexVersion, error) {
		queries.Add(1)
		v := committed.Load() // the read's snapshot is taken when it starts
		time.Sleep(50 * time.Microsecond)
		return store.IndexVersion{Version: v}, nil
	}
	var r sharedReads
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	var reads atomic.Int64
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				want := committed.Load()
				got, err := r.read(context.Background(), time.Now(), query)
				if err != nil || got.Version < want {
					t.Errorf("read %d (err %v) after change %d was committed", got.Version, err, want)
					return
				}
				reads.Add(1)
			}
		}()
	}
	for ctx.Err() == nil {
		committed.Add(1)
		time.Sleep(200 * time.Microsecond)
	}
	wg.Wait()
	if reads.Load() == 0 || queries.Load() >= reads.Load() {
		t.Errorf("%d requests used %d queries: reads are not shared", reads.Load(), queries.Load())
	}
	t.Logf("%d requests, %d queries, %d changes", reads.Load(), queries.Load(), committed.Load())
}
