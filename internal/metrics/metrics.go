// Package metrics holds the process's Prometheus metrics: HTTP latency by
// route, update runs (duration, outcome, recipes changed, parser
// diagnostics), mail sent and failed, and, read from the database when
// scraped, background jobs by kind and state. They are served at /metrics
// on the --debug-listen address, apart from the site.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"gorm.io/gorm"
)

// Registry holds every metric of the process.
var Registry = prometheus.NewRegistry()

var (
	httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "layerindex_http_request_duration_seconds", Help: "HTTP request latency by route pattern, method and status class.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method", "code"})
	runDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "layerindex_update_run_duration_seconds", Help: "Duration of update run attempts (fetch, parse, store) by outcome.",
		Buckets: prometheus.ExponentialBuckets(0.25, 2, 14),
	}, []string{"status"})
	recipes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "layerindex_recipes_indexed_total", Help: "Recipes added, changed and removed by update runs.",
	}, []string{"change"})
	diagnostics = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "layerindex_parser_diagnostics_total", Help: "Errors and warnings in update run logs.",
	}, []string{"level"})
	mails = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "layerindex_mail_total", Help: "Mail delivery attempts by result (sent, failed).",
	}, []string{"result"})
	jobs = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "layerindex_jobs", Help: "Background jobs by kind and state, read from the queue when scraped.",
	}, []string{"kind", "state"})
)

func init() {
	Registry.MustRegister(httpDuration, runDuration, recipes, diagnostics, mails, jobs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// ObserveHTTP records one request; route is the pattern ("/layerindex/recipe/:id/"),
// never the raw path, so the series stay few.
func ObserveHTTP(route, method string, code int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	httpDuration.WithLabelValues(route, method, strconv.Itoa(code/100)+"xx").Observe(d.Seconds())
}

// Run records an ended attempt of an update run.
func Run(status string, d time.Duration, added, changed, removed, errs, warnings int) {
	runDuration.WithLabelValues(status).Observe(d.Seconds())
	recipes.WithLabelValues("added").Add(float64(added))
	recipes.WithLabelValues("changed").Add(float64(changed))
	recipes.WithLabelValues("removed").Add(float64(removed))
	diagnostics.WithLabelValues("error").Add(float64(errs))
	diagnostics.WithLabelValues("warning").Add(float64(warnings))
}

// Mail records a delivery attempt.
func Mail(err error) {
	if err != nil {
		mails.WithLabelValues("failed").Inc()
		return
	}
	mails.WithLabelValues("sent").Inc()
}

// Handler serves the metrics, counting the jobs in db's queue first.
func Handler(db *gorm.DB) http.Handler {
	h := promhttp.HandlerFor(Registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if db != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
			countJobs(ctx, db)
			cancel()
		}
		h.ServeHTTP(w, r)
	})
}

func countJobs(ctx context.Context, db *gorm.DB) {
	var rows []struct {
		Kind, State string
		N           int64
	}
	if err := db.WithContext(ctx).Raw("SELECT kind, state, COUNT(*) AS n FROM river_job GROUP BY kind, state").Scan(&rows).Error; err != nil {
		return
	}
	jobs.Reset()
	for _, r := range rows {
		jobs.WithLabelValues(r.Kind, r.State).Set(float64(r.N))
	}
}
