package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"layerindex/internal/isolate"
)

// binary is the layerindex command built once for the process tests.
var binary string

func TestMain(m *testing.M) {
	isolate.Child() // commands run in-process start their parser children from this binary
	dir, err := os.MkdirTemp("", "layerindex-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "layerindex")
	// The README's build command, from the top of the checkout.
	build := exec.Command("go", "build", "-o", binary, "./cmd/layerindex")
	build.Dir = "../.."
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		panic("building layerindex: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a layerindex process started by a test.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs []string
	news chan struct{}
	done chan struct{}
	err  error
}

// start runs the binary with args and environment (added to a minimal one).
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	p := &proc{t: t, cmd: cmd, news: make(chan struct{}, 1), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		// Lines are read whole however long (kept up to 64 KB): a reader
		// that stopped at a long line would block the process on its
		// next write to stderr.
		rd := bufio.NewReaderSize(stderr, 64<<10)
		for {
			line, err := rd.ReadSlice('\n')
			text := strings.TrimSuffix(string(line), "\n")
			long := err == bufio.ErrBufferFull
			for err == bufio.ErrBufferFull {
				_, err = rd.ReadSlice('\n')
			}
			if err != nil && len(line) == 0 {
				break
			}
			if long {
				text += " …(line cut)"
			}
			p.mu.Lock()
			p.logs = append(p.logs, text)
			p.mu.Unlock()
			select {
			case p.news <- struct{}{}:
			default:
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s logs:\n%s", args[0], p.output())
		}
	})
	return p
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.logs, "\n")
}

// waitLog waits for a log line matching re and returns its submatches.
func (p *proc) waitLog(re string, timeout time.Duration) []string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(timeout)
	for {
		p.mu.Lock()
		for _, l := range p.logs {
			if m := rx.FindStringSubmatch(l); m != nil {
				p.mu.Unlock()
				return m
			}
		}
		p.mu.Unlock()
		select {
		case <-p.news:
		case <-p.done:
			p.mu.Lock()
			for _, l := range p.logs {
				if m := rx.FindStringSubmatch(l); m != nil {
					p.mu.Unlock()
					return m
				}
			}
			p.mu.Unlock()
			p.t.Fatalf("process exited (%v) before logging %q", p.err, re)
		case <-deadline:
			p.t.Fatalf("no log line matching %q within %s", re, timeout)
		}
	}
}

// terminate sends SIGTERM and returns how long the process took to exit.
func (p *proc) terminate(timeout time.Duration) time.Duration {
	p.t.Helper()
	began := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("process still running %s after SIGTERM", timeout)
	}
	if p.err != nil {
		p.t.Fatalf("process exited with %v after SIGTERM", p.err)
	}
	return time.Since(began)
}

// serving starts a server process and returns it with its base URL.
func serving(t *testing.T, env []string, args ...string) (*proc, string) {
	t.Helper()
	p := start(t, env, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	m := p.waitLog(`msg="layerindex is serving" url=(\S+)`, 60*time.Second)
	return p, m[1]
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// runCmd runs the binary to completion and returns its exit code and output.
func runCmd(t *testing.T, env []string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}
