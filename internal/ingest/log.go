package ingest

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// updateLog is the human-readable log of one layer branch update, shown on
// public pages: one line per event, prefixed INFO:, WARNING: or ERROR: as
// upstream's logs are (its counts are read from those prefixes).
type updateLog struct {
	mu       sync.Mutex
	b        strings.Builder
	lines    int
	errors   int
	warnings int
	started  time.Time
	// sink, if set, receives each line as it is written (for `update --wait`).
	sink func(string)
}

// maxLogLines keeps one pathological layer from filling the database; the
// counts still cover everything.
const maxLogLines = 5000

func newLog(sink func(string)) *updateLog {
	return &updateLog{started: time.Now(), sink: sink}
}

func (l *updateLog) add(level, format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch level {
	case "ERROR":
		l.errors++
	case "WARNING":
		l.warnings++
	}
	line := level + ": " + strings.ReplaceAll(fmt.Sprintf(format, a...), "\n", " ")
	if l.sink != nil {
		l.sink(line)
	}
	l.lines++
	if l.lines == maxLogLines+1 {
		l.b.WriteString("INFO: (further lines omitted)\n")
	}
	if l.lines > maxLogLines {
		return
	}
	l.b.WriteString(line)
	l.b.WriteByte('\n')
}

func (l *updateLog) info(format string, a ...any)  { l.add("INFO", format, a...) }
func (l *updateLog) warn(format string, a ...any)  { l.add("WARNING", format, a...) }
func (l *updateLog) error(format string, a ...any) { l.add("ERROR", format, a...) }

func (l *updateLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *updateLog) counts() (errors, warnings int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errors, l.warnings
}
