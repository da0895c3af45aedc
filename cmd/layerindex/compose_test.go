package main

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"layerindex/internal/config"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
)

type composeFile struct {
	Services map[string]struct {
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
	} `yaml:"services"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(b, &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return cf
}

// composeEnv turns a compose service's environment into the one used here:
// the database, listen address, data directory and mail host point at this
// machine; every other value is used exactly as written in the file.
func composeEnv(t *testing.T, env map[string]string, dbURL, dataDir string) []string {
	t.Helper()
	local := map[string]string{
		"DATABASE_URL":          dbURL,
		"LAYERINDEX_DATA_DIR":   dataDir,
		"LAYERINDEX_SMTP_HOST":  "127.0.0.1",
		"LAYERINDEX_LISTEN":     "127.0.0.1:0",
		"LAYERINDEX_SECRET_KEY": strings.Repeat("s", 40),
		"LAYERINDEX_LOG_FORMAT": "text", // the test reads text log lines
	}
	var out []string
	for k, v := range env {
		if l, ok := local[k]; ok {
			v = l
		}
		out = append(out, k+"="+v)
	}
	return out
}

// TestComposeEnvironmentIsKnown catches a misspelt setting in
// docker-compose.yml, which the program would otherwise silently ignore.
func TestComposeEnvironmentIsKnown(t *testing.T) {
	known := config.EnvNames()
	cf := loadCompose(t)
	for _, name := range []string{"serve", "worker"} {
		svc, ok := cf.Services[name]
		if !ok {
			t.Fatalf("service %s missing from docker-compose.yml", name)
		}
		if len(svc.Command) == 0 || svc.Command[0] != name {
			t.Errorf("service %s runs %v, want the %s command", name, svc.Command, name)
		}
		if !strings.HasPrefix(svc.Environment["DATABASE_URL"], "postgres://") {
			t.Errorf("service %s does not use PostgreSQL", name)
		}
		for k := range svc.Environment {
			if !slices.Contains(known, k) {
				t.Errorf("service %s sets %s, which layerindex does not read", name, k)
			}
		}
	}
}

// TestServeAndWorkerPostgres runs the compose file's serve and worker
// commands as two processes on PostgreSQL: the web process only inserts,
// the worker process works what was inserted.
func TestServeAndWorkerPostgres(t *testing.T) {
	dbURL := dbtest.PostgresURL(t)
	cf := loadCompose(t)
	serveSvc, workerSvc := cf.Services["serve"], cf.Services["worker"]

	web := start(t, composeEnv(t, serveSvc.Environment, dbURL, t.TempDir()), append(serveSvc.Command, "--listen", "127.0.0.1:0")...)
	base := web.waitLog(`msg="layerindex is serving" url=(\S+)`, 60*time.Second)[1]
	worker := start(t, composeEnv(t, workerSvc.Environment, dbURL, t.TempDir()), workerSvc.Command...)
	worker.waitLog(`msg="layerindex worker is running"`, 60*time.Second)
	workerID := worker.waitLog(`msg="River client started".* client_id=(\S+)`, 10*time.Second)[1]

	if code, body, _ := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	if code, body, _ := get(t, base+"/"); code != 200 || !strings.Contains(body, "separate <code>layerindex worker</code> processes") {
		t.Fatalf("/: %d, page does not say jobs run in a separate worker", code)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := db.OpenPostgres(ctx, dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	attemptedBy := waitJobCompleted(t, ctx, conn, insertPurgeJob(t, ctx, conn))
	if !strings.Contains(attemptedBy, workerID) {
		t.Errorf("job worked by %s, want the worker process %s", attemptedBy, workerID)
	}
	if regexp.MustCompile(`River client started`).MatchString(web.output()) {
		t.Error("the web process started working jobs although LAYERINDEX_EMBEDDED_WORKER is false")
	}

	for _, p := range []*proc{web, worker} {
		if took := p.terminate(10 * time.Second); took > 10*time.Second {
			t.Errorf("shutdown took %s", took)
		}
	}
}
