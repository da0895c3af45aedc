package web

import (
	"context"
	"errors"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// TestGate: no more page requests are handled at once than the gate
// allows and every one is handled in the end; one whose client leaves while
// it waits is not handled; one kept waiting by slots that are not freed
// goes ahead after gateWait.
func TestGate(t *testing.T) {
	e := echo.New()
	ctxFor := func(ctx context.Context) echo.Context {
		return e.NewContext(httptest.NewRequest("GET", "/", nil).WithContext(ctx), httptest.NewRecorder())
	}
	s := &Server{gate: newGate(2)}
	var inFlight, most, handled atomic.Int32
	slow := func(echo.Context) error {
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(5 * time.Millisecond)
		inFlight.Add(-1)
		handled.Add(1)
		return nil
	}
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			if err := s.gated(ctxFor(context.Background()), slow); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if most.Load() != 2 || handled.Load() != 12 {
		t.Fatalf("%d handled at once (want 2), %d of 12 handled", most.Load(), handled.Load())
	}

	// One slot, held until release is closed.
	one := &Server{gate: newGate(1)}
	release, entered := make(chan struct{}), make(chan struct{})
	wg.Go(func() {
		one.gated(ctxFor(context.Background()), func(echo.Context) error { close(entered); <-release; return nil })
	})
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ran atomic.Bool
	if err := one.gated(ctxFor(ctx), func(echo.Context) error { ran.Store(true); return nil }); !errors.Is(err, context.Canceled) || ran.Load() {
		t.Errorf("a waiting request whose client left: err %v, handled %v", err, ran.Load())
	}
	start := time.Now()
	if err := one.gated(ctxFor(context.Background()), func(echo.Context) error { ran.Store(true); return nil }); err != nil || !ran.Load() {
		t.Errorf("a request behind a slot never freed: err %v, handled %v", err, ran.Load())
	}
	if waited := time.Since(start); waited < gateWait {
		t.Errorf("went ahead after %v, before gateWait (%v)", waited, gateWait)
	}
	close(release)
	wg.Wait()
	// The slot was given back: the next request is let in at once.
	if !one.gate.TryAcquire(1) {
		t.Error("the slot of the finished request was not given back")
	}
}

// TestGateDefault: 0 means twice the CPUs Go runs on.
func TestGateDefault(t *testing.T) {
	want := 2 * runtime.GOMAXPROCS(0)
	g := newGate(0)
	for i := range want {
		if !g.TryAcquire(1) {
			t.Fatalf("the default gate let %d in, want %d", i, want)
		}
	}
	if g.TryAcquire(1) {
		t.Fatalf("the default gate let more than %d in", want)
	}
	if g := newGate(3); !g.TryAcquire(3) || g.TryAcquire(1) {
		t.Error("newGate(3) is not 3 wide")
	}
}
