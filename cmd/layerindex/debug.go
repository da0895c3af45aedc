package main

import (
	"gorm.io/gorm"

	"context"
	"fmt"
	"layerindex/internal/metrics"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startDebug serves Go's profiler on addr (--debug-listen) until ctx ends,
// on a listener of its own so it is never reachable through the site's
// address: `go tool pprof http://ADDR/debug/pprof/profile` shows where a
// running server or worker spends its time, /debug/pprof/heap its memory.
//
// The same listener serves the Prometheus metrics at /metrics (db, when
// set, is read for the job counts).
func startDebug(ctx context.Context, addr string, log *slog.Logger, db *gorm.DB) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s for --debug-listen: %v", addr, unwrapNetErr(err))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/metrics", metrics.Handler(db))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	go hs.Serve(ln)
	log.Info("profiler listening", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return nil
}
