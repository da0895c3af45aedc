package main

import (
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"path/filepath"
	"strings"
	"testing"
	"time"
)

// --debug-listen serves Go's profiler on its own address, not on the site's.
func TestDebugListen(t *testing.T) {
	p, base := serving(t, []string{"LAYERINDEX_DATA_DIR=" + filepath.Join(t.TempDir(), "data")}, "--debug-listen", "127.0.0.1:0")
	url := p.waitLog(`msg="profiler listening" url=(\S+)`, 10*time.Second)[1]
	if code, body, _ := get(t, url+"cmdline"); code != 200 || !strings.Contains(body, "serve") {
		t.Errorf("profiler: %d %q", code, body)
	}
	if code, body, _ := get(t, url+"heap?debug=1"); code != 200 || !strings.Contains(body, "heap profile") {
		t.Errorf("heap profile: %d %.100q", code, body)
	}
	if code, _, _ := get(t, base+"/debug/pprof/"); code != 404 {
		t.Errorf("the profiler is reachable through the site's address: %d", code)
	}

	// Prometheus metrics, on the same address: the page just served is
	// counted by route, and the jobs queued at start by kind and state.
	if code, _, _ := get(t, base+"/"); code != 200 {
		t.Fatalf("home page: %d", code)
	}
	if code, _, _ := get(t, base+"/metrics"); code != 404 {
		t.Errorf("the metrics are reachable through the site's address: %d", code)
	}
	// The periodic jobs are queued once the worker is elected leader.
	var fams map[string]*dto.MetricFamily
	var body string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		var code int
		code, body, _ = get(t, strings.TrimSuffix(url, "debug/pprof/")+"metrics")
		if code != 200 {
			t.Fatalf("metrics: %d %.200q", code, body)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		var err error
		if fams, err = parser.TextToMetricFamilies(strings.NewReader(body)); err != nil {
			t.Fatalf("metrics are not Prometheus text format: %v", err)
		}
		if len(fams["layerindex_jobs"].GetMetric()) > 0 || time.Now().After(deadline) {
			break
		}
	}
	label := func(m *dto.Metric, name string) string {
		for _, l := range m.GetLabel() {
			if l.GetName() == name {
				return l.GetValue()
			}
		}
		return ""
	}
	found := false
	for _, m := range fams["layerindex_http_request_duration_seconds"].GetMetric() {
		found = found || (label(m, "route") == "/" && label(m, "method") == "GET" && label(m, "code") == "2xx" && m.GetHistogram().GetSampleCount() >= 1)
	}
	if !found {
		t.Errorf("no latency of GET / in the metrics:\n%s", body)
	}
	kinds := map[string]bool{}
	for _, m := range fams["layerindex_jobs"].GetMetric() {
		kinds[label(m, "kind")] = true
	}
	if !kinds["refresh_all"] && !kinds["purge_updates"] {
		t.Errorf("no periodic job counted in layerindex_jobs: %v", kinds)
	}
	for _, name := range []string{"layerindex_update_run_duration_seconds", "layerindex_recipes_indexed_total",
		"layerindex_parser_diagnostics_total", "layerindex_mail_total", "go_goroutines"} {
		if _, ok := fams[name]; !ok && !strings.HasPrefix(name, "layerindex_") {
			t.Errorf("metric %s missing", name)
		}
	}
	p.terminate(10 * time.Second)
}
