package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
)

// A job's process can die (SIGKILL, out of memory, a lost machine) and
// leave the job "running". River alone cannot tell a dead job from a slow
// one, so it waits for the job's whole timeout plus its rescue time — for
// a repository check or an update, over fifteen minutes. Here every
// working process holds a lock named after its River client id for as
// long as it lives (the same kind of lock that proves an update run
// alive), and the sweep gives a running job whose client's lock is free
// back to River at once: within the rescue time, however long the job's
// timeout.

// clientLock names the lock a working process holds while it lives.
const clientLock = "river-client"

// clientIDRe reads the lock key back from a client id made by newClientID.
var clientIDRe = regexp.MustCompile(`^layerindex_(\d+)_`)

// newClientID is a River client id carrying a random lock key.
func newClientID() (string, int64) {
	key := rand.Int64N(1<<31 - 1)
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, host)
	if len(host) > 40 {
		host = host[:40]
	}
	return fmt.Sprintf("layerindex_%d_%s", key, host), key
}

// liveness holds the process's client lock, taking it again if it was
// lost (its database connection dropped).
type liveness struct {
	q       *Queue
	mu      sync.Mutex
	release func()
	stop    chan struct{}
	done    chan struct{}
}

// hold takes the lock and keeps it until ctx ends or close is called.
func (q *Queue) holdLiveness(ctx context.Context) (*liveness, error) {
	l := &liveness{q: q, stop: make(chan struct{}), done: make(chan struct{})}
	rel, ok, err := q.db.TryLock(ctx, clientLock, q.clientKey)
	if err != nil {
		return nil, fmt.Errorf("taking the worker's liveness lock: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("the worker's liveness lock %d is held by another process", q.clientKey)
	}
	l.release = rel
	go l.keep(ctx)
	return l, nil
}

// keep checks every few seconds that the lock is still held: taking it
// again succeeds only if it was lost, and then holds it anew.
func (l *liveness) keep(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.stop:
			return
		case <-t.C:
		}
		rel, ok, err := l.q.db.TryLock(ctx, clientLock, l.q.clientKey)
		if err != nil || !ok {
			continue // held (by us), or the database is away
		}
		l.q.log.Warn("the worker's liveness lock was lost (database connection); taken again")
		l.mu.Lock()
		old := l.release
		l.release = rel
		l.mu.Unlock()
		old()
	}
}

func (l *liveness) close() {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	l.release()
}

// RescueDeadJobs gives back to River every job left running by a process
// that died: running for longer than grace (the time a live process may
// need to take its lock again after a database restart), attempted by a
// client of this application whose lock nobody holds. The job is retried
// at once, or discarded when it has no attempts left, as River's own
// rescuer does. It returns how many jobs it rescued.
func (q *Queue) RescueDeadJobs(ctx context.Context, grace time.Duration) (int, error) {
	exec := q.client.Driver().GetExecutor()
	horizon := time.Now().Add(-grace)
	stuck, err := exec.JobGetStuck(ctx, &riverdriver.JobGetStuckParams{Max: 1000, StuckHorizon: horizon})
	if err != nil {
		return 0, fmt.Errorf("listing running jobs: %w", err)
	}
	params := &riverdriver.JobRescueManyParams{StuckHorizon: horizon}
	dead := map[int64]bool{}
	for _, job := range stuck {
		if len(job.AttemptedBy) == 0 {
			continue
		}
		m := clientIDRe.FindStringSubmatch(job.AttemptedBy[len(job.AttemptedBy)-1])
		if m == nil {
			continue // not ours: River's rescuer takes care of it
		}
		key, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			continue
		}
		isDead, seen := dead[key]
		if !seen {
			rel, ok, err := q.db.TryLock(ctx, clientLock, key)
			if err != nil {
				return 0, err
			}
			if ok {
				rel()
			}
			isDead, dead[key] = ok, ok
		}
		if !isDead {
			continue
		}
		now := time.Now().UTC()
		msg, _ := json.Marshal(rivertype.AttemptError{At: now, Attempt: job.Attempt,
			Error: "the process working this job stopped (client " + job.AttemptedBy[len(job.AttemptedBy)-1] + ")"})
		state, finalized := rivertype.JobStateRetryable, (*time.Time)(nil)
		if job.Attempt >= job.MaxAttempts {
			state, finalized = rivertype.JobStateDiscarded, &now
		}
		params.ID = append(params.ID, job.ID)
		params.Error = append(params.Error, msg)
		params.FinalizedAt = append(params.FinalizedAt, finalized)
		params.ScheduledAt = append(params.ScheduledAt, now)
		params.State = append(params.State, string(state))
		q.log.Warn("job rescued: its process stopped", "job", job.ID, "kind", job.Kind, "attempt", job.Attempt, "state", state)
	}
	if len(params.ID) == 0 {
		return 0, nil
	}
	if _, err := exec.JobRescueMany(ctx, params); err != nil {
		return 0, fmt.Errorf("rescuing jobs: %w", err)
	}
	return len(params.ID), nil
}
