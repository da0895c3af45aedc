package jobs_test

import (
	"testing"
	"time"

	"layerindex/internal/jobs"
)

// The digest's schedule is Mondays 06:00 UTC, whenever the process started.
func TestWeeklySchedule(t *testing.T) {
	for _, c := range []struct{ now, want string }{
		{"2026-12-05T00:15:00Z", "2026-12-07T06:00:00Z"}, // a Saturday
		{"2026-12-07T05:59:59Z", "2026-12-07T06:00:00Z"}, // Monday, before
		{"2026-12-07T06:00:00Z", "2026-12-14T06:00:00Z"}, // Monday, at the time
		{"2026-12-07T09:00:00+02:00", "2026-12-14T06:00:00Z"},
		{"2026-12-31T23:00:00Z", "2027-01-04T06:00:00Z"},
	} {
		now, _ := time.Parse(time.RFC3339, c.now)
		if got := (jobs.Weekly{}).Next(now).Format(time.RFC3339); got != c.want {
			t.Errorf("Next(%s) = %s, want %s", c.now, got, c.want)
		}
	}
}
