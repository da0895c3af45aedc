package web

import (
	"context"
	"runtime"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/semaphore"
)

// The gate bounds how many page requests are handled at once; the others
// wait in arrival order (semaphore.Weighted serves waiters first come,
// first served). Without it, every request in flight shared the CPUs at
// once — sixteen renders and their PostgreSQL backends time-sliced on two
// cores — so a page needing half a millisecond of CPU could take tens, and
// the slowest requests paid most. Queued, a request waits for those ahead
// of it and then runs with few others: the same work, a shorter tail. On a
// quiet 2-core machine, PostgreSQL, the corpus, 16 connections (bench/README,
// issue 13): recipe page p99 31 / 30 → 20 / 17 ms at 1,932 / 2,149 → 2,085 /
// 2,317 req/s, layer page p99 39 / 36 → 31 / 28 ms.
//
// Twice the CPUs, not once: a page on PostgreSQL spends part of its time
// waiting for the database, which uses the CPUs meanwhile. Gating only the
// template execution (pure CPU) did not shorten the tail: the database's
// backends kept competing. The API does not pass it (a large response
// streams for a long time, and API clients are programs that poll).
func newGate(n int) *semaphore.Weighted {
	if n <= 0 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	return semaphore.NewWeighted(int64(n))
}

// gateWait bounds a request's wait at the gate. Requests holding every slot
// may be waiting themselves — for a per-version index being built (seconds
// at the size of the public index) or a slow SQL search — and without a
// bound every other page would wait behind them; past it a request goes
// ahead without a slot. In normal use the queue is a few milliseconds long.
const gateWait = 100 * time.Millisecond

// gated runs h once the gate lets the request in or gateWait has passed. A
// request whose client leaves while it waits ends with the context's error
// (logged as a disconnect), unhandled.
//
// It first yields the processor (runtime.Gosched), which puts the request
// behind every goroutine already waiting to run. Without it, pages that need
// no database (searches and the layer list, answered from memory) kept both
// processors busy with goroutines readied one by another, which Go runs
// first; a request that had arrived meanwhile was found by the runtime's
// background network poll and queued where it waited its turn for up to
// 50 ms (runtime trace: p99 of 30 ms between runnable and running). With the
// yield, PostgreSQL searches and layer list on the corpus, 16 connections:
// p99 37–48 → 12–21 ms at the same rate (bench/README). SQLite pages block
// on the database driver's goroutines, which gave the runtime those turns
// already.
func (s *Server) gated(c echo.Context, h echo.HandlerFunc) error {
	runtime.Gosched()
	if s.gate.TryAcquire(1) {
		defer s.gate.Release(1)
		return h(c)
	}
	ctx := c.Request().Context()
	wctx, cancel := context.WithTimeout(ctx, gateWait)
	err := s.gate.Acquire(wctx, 1)
	cancel()
	if err == nil {
		defer s.gate.Release(1)
		return h(c)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return h(c)
}
