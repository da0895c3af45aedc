package isolate

import (
	"context"
	"encoding/gob"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// The test binary is its own child: its jobs are registered here and
// TestMain dispatches to them when started as one.
func init() {
	Register("echo", func(dec *gob.Decoder) (any, error) {
		var s string
		if err := dec.Decode(&s); err != nil {
			return nil, err
		}
		return strings.ToUpper(s), nil
	})
	Register("fail", func(dec *gob.Decoder) (any, error) { return nil, errors.New("no such layer") })
	Register("hog", func(dec *gob.Decoder) (any, error) {
		for {
			hogKeep = append(hogKeep, make([]byte, 64<<20))
		}
	})
	Register("spin", func(dec *gob.Decoder) (any, error) {
		x := 0
		for {
			x++
		}
	})
	Register("sleep", func(dec *gob.Decoder) (any, error) {
		time.Sleep(time.Hour)
		return nil, nil
	})
	Register("crash", func(dec *gob.Decoder) (any, error) {
		panic("simulated parser bug")
	})
}

var hogKeep [][]byte

func TestMain(m *testing.M) {
	Child()
	os.Exit(m.Run())
}

// small leaves the child room for its heap above the 1.3 GB of address
// space a Go program reserves at start.
var small = Limits{AddressSpace: 2 << 30, CPU: 10 * time.Second, Wall: 20 * time.Second}

func TestRunReturnsTheResult(t *testing.T) {
	var out string
	u, err := Run(context.Background(), "echo", small, "meta-oe", &out)
	if err != nil || out != "META-OE" {
		t.Fatalf("%q, %v", out, err)
	}
	if u.Wall <= 0 || u.MaxRSS <= 0 {
		t.Errorf("usage %+v", u)
	}
	t.Logf("one child: %s wall, %s CPU, %d MB peak RSS", u.Wall, u.CPU, u.MaxRSS>>20)
}

func TestJobError(t *testing.T) {
	var out string
	_, err := Run(context.Background(), "fail", small, "x", &out)
	var je *JobError
	if !errors.As(err, &je) || je.Msg != "no such layer" {
		t.Fatalf("%v", err)
	}
}

func TestDeadChildren(t *testing.T) {
	cases := []struct {
		job  string
		lim  Limits
		want string
	}{
		{"hog", Limits{AddressSpace: 2 << 30, CPU: 60 * time.Second, Wall: 60 * time.Second}, "hog process killed: memory limit (2 GiB) exceeded"},
		{"spin", Limits{AddressSpace: 2 << 30, CPU: time.Second, Wall: 60 * time.Second}, "spin process killed: CPU time limit (1s) exceeded"},
		{"sleep", Limits{AddressSpace: 2 << 30, CPU: 60 * time.Second, Wall: time.Second}, "sleep process killed: time limit (1s) exceeded"},
		{"crash", small, "crash process failed (exit status 2): panic: simulated parser bug"},
		{"nosuchjob", small, `no job "nosuchjob"`},
	}
	for _, c := range cases {
		t.Run(c.job, func(t *testing.T) {
			t.Parallel()
			var out string
			_, err := Run(context.Background(), c.job, c.lim, "x", &out)
			var k *Killed
			if !errors.As(err, &k) || !strings.Contains(k.Reason, c.want) {
				t.Fatalf("error %v, want a Killed with %q", err, c.want)
			}
		})
	}
}

func TestCancelKillsTheChild(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var out string
	start := time.Now()
	_, err := Run(ctx, "sleep", small, "x", &out)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Fatalf("%v after %s", err, time.Since(start))
	}
}
