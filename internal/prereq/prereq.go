// Package prereq is how a test says that something it needs from the
// machine is missing: the shared corpus, PostgreSQL, Chromium,
// git-http-backend, Python, BitBake. On a developer's machine the test
// skips with the reason; under CI (the CI environment variable set, as
// .ci/run does) it fails, because CI installs every prerequisite and a
// skipped test there would pass without having run.
package prereq

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// InCI reports whether the tests run in CI: CI set to anything but "",
// "0" or "false".
func InCI() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv("CI")))
	return v != "" && v != "0" && v != "false"
}

// Missing ends the test for want of a prerequisite: a skip, or under CI a
// failure. The message says what is missing and how to get it.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if InCI() {
		tb.Fatalf("missing prerequisite (required in CI): "+format, args...)
	}
	tb.Skipf(format, args...)
}

// Command returns the path of an executable found on $PATH, or ends the
// test with Missing.
func Command(tb testing.TB, name, hint string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(tb, "%s not found on $PATH (%s)", name, hint)
	}
	return p
}

// File returns path when it exists, or ends the test with Missing.
func File(tb testing.TB, path, hint string) string {
	tb.Helper()
	if _, err := os.Stat(path); err != nil {
		Missing(tb, "%s: %v (%s)", path, err, hint)
	}
	return path
}
