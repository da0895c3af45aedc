package ingest

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Log is the human-readable log of one layer branch update, shown on
// public pages: one line per event, prefixed INFO:, WARNING: or ERROR: as
// upstream's logs are (its counts are read from those prefixes).
type Log struct {
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

// maxLineBytes caps one line of a log.
const maxLineBytes = 2000

// NewLog starts a log; sink, if set, receives every line as it is written.
func NewLog(sink func(string)) *Log {
	return &Log{started: time.Now(), sink: sink}
}

// ContinueLog starts a log that goes on from an earlier one (a run's earlier
// attempts): prior is kept as it is and new lines follow.
func ContinueLog(prior string, sink func(string)) *Log {
	l := NewLog(sink)
	if prior != "" {
		l.b.WriteString(prior)
		if !strings.HasSuffix(prior, "\n") {
			l.b.WriteByte('\n')
		}
		l.lines = strings.Count(l.b.String(), "\n")
	}
	return l
}

func (l *Log) add(level, format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch level {
	case "ERROR":
		l.errors++
	case "WARNING":
		l.warnings++
	}
	// A line may quote a layer's names and values: it is made printable
	// and storable (no control characters, NUL or invalid UTF-8).
	line := level + ": " + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			if r == '\n' || r == '\t' {
				return ' '
			}
			return '\uFFFD'
		}
		return r
	}, storableText(fmt.Sprintf(format, a...)))
	if len(line) > maxLineBytes {
		// A hostile layer's names and values run to megabytes.
		line = fmt.Sprintf("%s… (%d bytes)", strings.ToValidUTF8(line[:maxLineBytes], ""), len(line))
	}
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

func (l *Log) info(format string, a ...any)  { l.add("INFO", format, a...) }
func (l *Log) warn(format string, a ...any)  { l.add("WARNING", format, a...) }
func (l *Log) error(format string, a ...any) { l.add("ERROR", format, a...) }

// Info, Warn and Error add a line of that level.
func (l *Log) Info(format string, a ...any)  { l.add("INFO", format, a...) }
func (l *Log) Warn(format string, a ...any)  { l.add("WARNING", format, a...) }
func (l *Log) Error(format string, a ...any) { l.add("ERROR", format, a...) }

// Elapsed is the time since the log was started.
func (l *Log) Elapsed() time.Duration { return time.Since(l.started) }

func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Counts is how many ERROR and WARNING lines were written to this log
// (not counting an earlier attempt's lines it continues).
func (l *Log) Counts() (errors, warnings int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errors, l.warnings
}
