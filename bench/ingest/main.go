// Command ingest measures ingestion on the shared corpus: a full index of
// openembedded-core (clone + parse + store), meta-openembedded's ten layers,
// an unchanged re-run, a one-recipe change, and the process's peak memory.
//
//	go run ./bench/ingest                  # SQLite
//	go run ./bench/ingest -db postgres     # a throw-away database on the local server
//	go run ./bench/ingest -isolated=false  # parse in this process instead of a child
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"layerindex/internal/db"
	"layerindex/internal/gitrepo"
	"layerindex/internal/ingest"
	"layerindex/internal/isolate"
	"layerindex/internal/store"
)

var metaOpenembedded = []string{"meta-oe", "meta-python", "meta-networking", "meta-multimedia", "meta-gnome",
	"meta-xfce", "meta-perl", "meta-filesystems", "meta-webserver", "meta-initramfs"}

func main() {
	isolate.Child() // the parser children of -isolated are this program
	dialect := flag.String("db", "sqlite", "sqlite or postgres")
	isolated := flag.Bool("isolated", true, "parse in child processes, as the worker does")
	shared := flag.String("shared", "", "directory holding corpus/ (default: ../shared or /work/shared)")
	pgAdmin := flag.String("pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL admin URL")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(*dialect, findShared(*shared), *pgAdmin, *isolated); err != nil {
		pprof.StopCPUProfile()
		log.Fatal(err)
	}
}

func findShared(s string) string {
	for _, d := range []string{s, os.Getenv("LAYERINDEX_SHARED"), "../shared", "/work/shared"} {
		if d != "" {
			if _, err := os.Stat(filepath.Join(d, "corpus")); err == nil {
				abs, _ := filepath.Abs(d)
				return abs
			}
		}
	}
	log.Fatal("shared corpus not found; pass -shared")
	return ""
}

func sh(dir string, name string, args ...string) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@example.org", "GIT_COMMITTER_NAME=b", "GIT_COMMITTER_EMAIL=b@example.org")
	if out, err := cmd.CombinedOutput(); err != nil {
		log.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func run(dialect, shared, pgAdmin string, isolated bool) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "bench-ingest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	sh(tmp, "tar", "-xf", filepath.Join(shared, "corpus", "openembedded-core.git.tar"))
	sh(tmp, "tar", "-xf", filepath.Join(shared, "corpus", "meta-openembedded.git.tar"))
	// oe-core is served from a working clone so the benchmark can commit a change.
	work := filepath.Join(tmp, "oe-core-work")
	sh(tmp, "git", "clone", "-q", "--no-local", "-b", "master", filepath.Join(tmp, "oe-core.git"), work)

	var conn *db.DB
	switch dialect {
	case "sqlite":
		conn, err = db.OpenSQLite(ctx, filepath.Join(tmp, "bench.db"), nil)
	case "postgres":
		var dbURL string
		dbURL, err = createPG(pgAdmin)
		if err == nil {
			defer dropPG(pgAdmin, dbURL)
			conn, err = db.OpenPostgres(ctx, dbURL, nil)
		}
	default:
		err = errors.New("-db must be sqlite or postgres")
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Migrate(ctx, nil); err != nil {
		return err
	}
	st := store.New(conn.Gorm)
	br := &store.Branch{Name: "master", BitbakeBranch: "master", UpdatesEnabled: true}
	if err := st.CreateBranch(ctx, br); err != nil {
		return err
	}
	add := func(name, url, subdir string) *store.LayerBranch {
		l := &store.Layer{Name: name, Status: store.StatusPublished, LayerType: store.TypeSoftware, VCSURL: url}
		if err := st.CreateLayer(ctx, l); err != nil {
			log.Fatal(err)
		}
		lb := &store.LayerBranch{LayerID: l.ID, BranchID: br.ID, VCSSubdir: subdir, UpdatesEnabled: true}
		if err := st.CreateLayerBranch(ctx, lb); err != nil {
			log.Fatal(err)
		}
		return lb
	}
	cache := gitrepo.NewCache(filepath.Join(tmp, "repos"), gitrepo.Policy{AllowLocal: true}, gitrepo.DefaultLimits)
	ix := ingest.New(conn.Gorm, cache, nil)
	mode := "in-process"
	if isolated {
		lim := isolate.DefaultLimits
		ix.Isolation = &lim
		mode = "isolated"
	}
	fmt.Printf("%-9s parser %s\n", dialect, mode)
	update := func(lb *store.LayerBranch) (*ingest.Result, error) {
		return ix.UpdateLayerBranch(ctx, ingest.Request{LayerBranchID: lb.ID})
	}

	core := add("openembedded-core", work, "meta")
	t0 := time.Now()
	r, err := update(core)
	if err != nil {
		return fmt.Errorf("oe-core: %v\n%s", err, r.Log)
	}
	fmt.Printf("%-9s full index of oe-core (clone + parse + store, %d recipes): %v\n", dialect, r.Stats.Added, time.Since(t0).Round(time.Millisecond))

	var mo []*store.LayerBranch
	for _, name := range metaOpenembedded {
		mo = append(mo, add(name, filepath.Join(tmp, "meta-openembedded.git"), name))
	}
	t0 = time.Now()
	recipes := 0
	reqs := make([]ingest.Request, len(mo))
	for i, lb := range mo {
		reqs[i] = ingest.Request{LayerBranchID: lb.ID}
	}
	var firstErr error
	ix.UpdateAll(ctx, reqs, func(req ingest.Request, r *ingest.Result, err error) {
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("layer branch %d: %v\n%s", req.LayerBranchID, err, r.Log)
		}
		if err == nil {
			recipes += r.Stats.Added
		}
	})
	if firstErr != nil {
		return firstErr
	}
	fmt.Printf("%-9s meta-openembedded, 10 layers (clone + parse + store, %d recipes): %v\n", dialect, recipes, time.Since(t0).Round(time.Millisecond))

	t0 = time.Now()
	if r, err := update(core); err != nil || r.Status != store.UpdateUnchanged {
		return fmt.Errorf("unchanged re-run: %v %s", err, r.Status)
	}
	fmt.Printf("%-9s unchanged re-run of oe-core (fetch + compare): %v\n", dialect, time.Since(t0).Round(time.Millisecond))

	// What isolation costs per update: an unchanged re-run reads
	// conf/layer.conf (in a child when isolated) and parses nothing else.
	const reruns = 10
	cpu0 := cpuTime()
	t0 = time.Now()
	for i := 0; i < reruns; i++ {
		if r, err := update(core); err != nil || r.Status != store.UpdateUnchanged {
			return fmt.Errorf("unchanged re-run: %v %s", err, r.Status)
		}
	}
	fmt.Printf("%-9s unchanged re-run of oe-core, mean of %d: %v wall, %v CPU (this process and its children)\n", dialect, reruns,
		(time.Since(t0) / reruns).Round(time.Millisecond), ((cpuTime() - cpu0) / reruns).Round(time.Millisecond))

	p := filepath.Join(work, "meta/recipes-core/zlib/zlib_1.3.2.bb")
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	os.WriteFile(p, append(b, []byte("\nSUMMARY = \"benchmark edit\"\n")...), 0o644)
	sh(work, "git", "commit", "-qam", "bench: edit one recipe")
	t0 = time.Now()
	r, err = update(core)
	if err != nil || r.Stats.Changed != 1 {
		return fmt.Errorf("one-recipe change: %v %+v\n%s", err, r.Stats, r.Log)
	}
	fmt.Printf("%-9s one-recipe change in oe-core (fetch + diff + parse 1 + store): %v\n", dialect, time.Since(t0).Round(time.Millisecond))
	for _, line := range strings.Split(r.Log, "\n") {
		if strings.Contains(line, "isolated process") {
			fmt.Printf("%-9s   its child: %s\n", dialect, strings.TrimPrefix(line, "INFO: "))
		}
	}

	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("%-9s peak RSS of the process (all of the above): %d MB; CPU %s\n", dialect, ru.Maxrss/1024,
		time.Duration(ru.Utime.Nano()+ru.Stime.Nano()).Round(time.Millisecond))
	if isolated {
		syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru)
		fmt.Printf("%-9s child processes (the parsers; tar and git of the set-up): largest peak RSS %d MB; CPU %s in all\n", dialect, ru.Maxrss/1024,
			time.Duration(ru.Utime.Nano()+ru.Stime.Nano()).Round(time.Millisecond))
	}
	return nil
}

func createPG(admin string) (string, error) {
	a, err := sql.Open("pgx", admin)
	if err != nil {
		return "", err
	}
	defer a.Close()
	name := fmt.Sprintf("layerindex_bench_%d", time.Now().UnixNano())
	if _, err := a.Exec("CREATE DATABASE " + name); err != nil {
		return "", err
	}
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String(), nil
}

func dropPG(admin, dbURL string) {
	a, err := sql.Open("pgx", admin)
	if err != nil {
		return
	}
	defer a.Close()
	u, _ := url.Parse(dbURL)
	a.Exec("DROP DATABASE IF EXISTS " + strings.TrimPrefix(u.Path, "/") + " WITH (FORCE)")
}

// cpuTime is the CPU time of this process and its finished children.
func cpuTime() time.Duration {
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	return time.Duration(self.Utime.Nano() + self.Stime.Nano() + children.Utime.Nano() + children.Stime.Nano())
}
