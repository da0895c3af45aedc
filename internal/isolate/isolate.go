// Package isolate runs a job on untrusted input in a child process: the
// same program re-executed, with an address-space limit, a CPU-time limit
// and a wall-clock timeout set before it reads its input. The parent sends
// the job's request and receives its result over pipes (gob). A child that
// dies — out of memory, out of CPU time, killed for its time, crashed —
// is an error with a readable reason for the parent, which carries on.
//
// Layer metadata is hostile; the static parser bounds its own work, but a
// bug in it must not take down the process that hosts it (the web server
// runs an embedded worker). This is the second wall.
//
// A program that runs isolated jobs registers them (Register, in its
// packages' init) and calls Child first thing in main — and in TestMain of
// the test binaries that run children. Run refuses to start a child from a
// program that has not called Child, which would otherwise run the
// program itself again.
package isolate

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Limits bound one child.
type Limits struct {
	// AddressSpace is the child's virtual memory (RLIMIT_AS), in bytes.
	AddressSpace uint64
	// CPU is the CPU time of all the child's threads (RLIMIT_CPU).
	CPU time.Duration
	// Wall is the time the child may run.
	Wall time.Duration
}

// DefaultLimits fit parsing the largest real layers (openembedded-core:
// under 1 GB of memory and a few minutes of CPU) with room.
var DefaultLimits = Limits{AddressSpace: 3 << 30, CPU: 20 * time.Minute, Wall: 30 * time.Minute}

// Handler runs one job in the child: it decodes its request from dec and
// returns the result to encode for the parent.
type Handler func(dec *gob.Decoder) (any, error)

var (
	mu       sync.Mutex
	handlers = map[string]Handler{}
	served   atomic.Bool
)

// Register makes a job runnable in a child under name. Call it from init.
func Register(name string, h Handler) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := handlers[name]; dup {
		panic("isolate: job registered twice: " + name)
	}
	handlers[name] = h
}

const (
	envJob    = "LAYERINDEX_ISOLATED_JOB"
	envLimits = "LAYERINDEX_ISOLATED_LIMITS"
)

// Child runs the job this process was started for and exits, if it was
// started as a child; otherwise it returns at once. Call it first in main
// (and in TestMain), before anything else reads input.
func Child() {
	served.Store(true)
	name, ok := os.LookupEnv(envJob)
	if !ok {
		return
	}
	os.Exit(child(name, os.Getenv(envLimits), os.Stdin, os.Stdout, os.Stderr))
}

// exit codes of a child, read by the parent.
const (
	exitOK       = 0
	exitJobError = 3 // the job returned an error (its text follows the result)
	exitSetup    = 4 // the limits could not be set, or the job is unknown
	exitWall     = 5 // the child's own wall-clock timer fired
)

// child sets the limits, then reads, runs and answers one job.
func child(name, limits string, in io.Reader, out io.Writer, errOut io.Writer) int {
	lim, err := parseLimits(limits)
	if err == nil {
		err = setLimits(lim)
	}
	if err != nil {
		fmt.Fprintf(errOut, "isolate: %v\n", err)
		return exitSetup
	}
	if lim.Wall > 0 {
		time.AfterFunc(lim.Wall, func() {
			fmt.Fprintf(errOut, "isolate: wall-clock limit of %s reached\n", lim.Wall)
			os.Exit(exitWall)
		})
	}
	mu.Lock()
	h := handlers[name]
	mu.Unlock()
	if h == nil {
		fmt.Fprintf(errOut, "isolate: no job %q in this program\n", name)
		return exitSetup
	}
	res, err := h(gob.NewDecoder(in))
	enc := gob.NewEncoder(out)
	if err != nil {
		_ = enc.Encode(err.Error())
		return exitJobError
	}
	if err := enc.Encode(res); err != nil {
		fmt.Fprintf(errOut, "isolate: sending the result: %v\n", err)
		return exitSetup
	}
	return exitOK
}

func setLimits(l Limits) error {
	if l.AddressSpace > 0 {
		if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: l.AddressSpace, Max: l.AddressSpace}); err != nil {
			return fmt.Errorf("setting the address-space limit: %w", err)
		}
		// The garbage collector works harder as the heap nears the
		// limit, rather than failing on an allocation it could avoid.
		debug.SetMemoryLimit(int64(l.AddressSpace) / 10 * 6)
	}
	if l.CPU > 0 {
		// Go ignores SIGXCPU at the soft limit; the kernel kills the
		// process at the hard limit a moment later.
		soft := uint64((l.CPU + time.Second - 1) / time.Second)
		if err := syscall.Setrlimit(syscall.RLIMIT_CPU, &syscall.Rlimit{Cur: soft, Max: soft + 2}); err != nil {
			return fmt.Errorf("setting the CPU limit: %w", err)
		}
	}
	return nil
}

func (l Limits) encode() string {
	return fmt.Sprintf("%d,%d,%d", l.AddressSpace, int64(l.CPU), int64(l.Wall))
}

func parseLimits(s string) (Limits, error) {
	f := strings.Split(s, ",")
	if len(f) != 3 {
		return Limits{}, fmt.Errorf("bad limits %q", s)
	}
	as, err1 := strconv.ParseUint(f[0], 10, 64)
	cpu, err2 := strconv.ParseInt(f[1], 10, 64)
	wall, err3 := strconv.ParseInt(f[2], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return Limits{}, fmt.Errorf("bad limits %q: %w", s, err)
	}
	return Limits{AddressSpace: as, CPU: time.Duration(cpu), Wall: time.Duration(wall)}, nil
}

// Killed is the error of a child that did not finish its job: Reason says
// why in words for a log ("parser process killed: memory limit (3 GiB)
// exceeded").
type Killed struct {
	Job    string
	Reason string
}

func (k *Killed) Error() string { return k.Reason }

// JobError is an error the job itself returned in the child.
type JobError struct{ Msg string }

func (e *JobError) Error() string { return e.Msg }

// Usage is what a finished child cost.
type Usage struct {
	CPU  time.Duration // user and system time
	Wall time.Duration
	// MaxRSS is the child's peak resident memory in bytes.
	MaxRSS int64
}

// Run runs the job name in a child under lim: it sends req, and decodes
// the child's result into resp (a pointer). The error is a *Killed when
// the child died, a *JobError when the job failed, ctx's error when ctx
// ended first (the child is then killed).
func Run(ctx context.Context, name string, lim Limits, req, resp any) (Usage, error) {
	if !served.Load() {
		return Usage{}, errors.New("isolate: this program does not run isolated jobs (isolate.Child is not called first in its main)")
	}
	exe, err := os.Executable()
	if err != nil {
		return Usage{}, fmt.Errorf("isolate: %w", err)
	}
	var input bytes.Buffer
	if err := gob.NewEncoder(&input).Encode(req); err != nil {
		return Usage{}, fmt.Errorf("isolate: encoding the request: %w", err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envJob+"="+name, envLimits+"="+lim.encode())
	cmd.Stdin = &input
	var stdout bytes.Buffer
	stderr := &capped{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Usage{}, fmt.Errorf("isolate: starting the child: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	wall := lim.Wall + 5*time.Second // the child's own timer fires first
	if lim.Wall <= 0 {
		wall = 24 * time.Hour
	}
	timer := time.NewTimer(wall)
	defer timer.Stop()
	var waitErr error
	timedOut := false
	select {
	case waitErr = <-done:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return usage(cmd, start), ctx.Err()
	case <-timer.C:
		timedOut = true
		_ = cmd.Process.Kill()
		waitErr = <-done
	}
	u := usage(cmd, start)
	code := cmd.ProcessState.ExitCode()
	switch {
	case waitErr == nil:
		if err := gob.NewDecoder(&stdout).Decode(resp); err != nil {
			return u, &Killed{Job: name, Reason: fmt.Sprintf("%s process sent an unreadable result: %v", name, err)}
		}
		return u, nil
	case code == exitJobError:
		var msg string
		if err := gob.NewDecoder(&stdout).Decode(&msg); err != nil {
			msg = "unreadable error"
		}
		return u, &JobError{Msg: msg}
	}
	return u, &Killed{Job: name, Reason: deathReason(name, lim, u, code, timedOut, stderr.String())}
}

// deathReason explains why a child ended without a result.
func deathReason(name string, lim Limits, u Usage, code int, timedOut bool, stderr string) string {
	prefix := name + " process killed: "
	switch {
	case timedOut || code == exitWall:
		return prefix + fmt.Sprintf("time limit (%s) exceeded", lim.Wall)
	case strings.Contains(stderr, "out of memory") || strings.Contains(stderr, "cannot allocate memory"):
		return prefix + fmt.Sprintf("memory limit (%s) exceeded", bytesText(lim.AddressSpace))
	case lim.CPU > 0 && u.CPU >= lim.CPU:
		return prefix + fmt.Sprintf("CPU time limit (%s) exceeded", lim.CPU)
	}
	last := strings.TrimSpace(stderr)
	if i := strings.IndexByte(last, '\n'); i >= 0 {
		last = last[:i] // the first line of a panic or fatal error says what
	}
	if last == "" {
		last = "no message"
	}
	if code < 0 {
		return prefix + fmt.Sprintf("terminated by a signal (%s)", last)
	}
	return fmt.Sprintf("%s process failed (exit status %d): %s", name, code, last)
}

func usage(cmd *exec.Cmd, start time.Time) Usage {
	u := Usage{Wall: time.Since(start)}
	if st := cmd.ProcessState; st != nil {
		u.CPU = st.UserTime() + st.SystemTime()
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			u.MaxRSS = ru.Maxrss << 10
		}
	}
	return u
}

func bytesText(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// capped keeps the start of what a child writes to stderr (a fatal error's
// first lines say what happened), up to max bytes.
type capped struct {
	mu  sync.Mutex
	b   bytes.Buffer
	max int
}

func (t *capped) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := t.max - t.b.Len(); room > 0 {
		if len(p) > room {
			t.b.Write(p[:room])
		} else {
			t.b.Write(p)
		}
	}
	return len(p), nil
}

func (t *capped) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}
