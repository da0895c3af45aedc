package catalog

import (
	"testing"
	"time"
)

// TestDefaultBackoff is the schedule the README announces: a transient
// failure is retried after 1, 5, 15 and 30 minutes, five attempts in all.
func TestDefaultBackoff(t *testing.T) {
	want := []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute}
	for i, w := range want {
		if got := (Timing{}).backoff(i + 1); got != w {
			t.Errorf("after attempt %d: %s, want %s", i+1, got, w)
		}
	}
	if maxAttempts != len(want)+1 {
		t.Errorf("%d attempts, want %d", maxAttempts, len(want)+1)
	}
}
