package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"layerindex/internal/prereq"
)

// browserStep bounds one step of a browser test, so that a page that never
// shows what the step waits for fails that step with its name rather than
// the whole test binary at its deadline.
const browserStep = 30 * time.Second

// browser is one test's headless Chromium and the steps the browser tests
// share: act, read the page, take a screenshot. Each step fails the test
// with what it was doing.
type browser struct {
	t *testing.T
	// ctx is the browser's own context, for the rare step that needs a
	// deadline other than browserStep.
	ctx context.Context
	// shots is the directory the screenshots go in.
	shots string
}

// step returns a context for one step of browserStep.
func (b *browser) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, browserStep)
}

// do runs actions as one step called what.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// browserRun runs the action a as one step called what and returns its
// result.
func browserRun[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// text returns the visible text of the first element matching the CSS
// selector sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return browserRun(b, "reading "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// value returns the value of the form field matching the CSS selector sel.
func (b *browser) value(sel string) string {
	b.t.Helper()
	return browserRun(b, "reading the value of "+sel, chromedp.Value(chromedp.CSS(sel)))
}

// location returns the page's URL without the prefix base (the test
// server's URL), so tests compare paths.
func (b *browser) location(base string) string {
	b.t.Helper()
	return strings.TrimPrefix(browserRun(b, "reading the location", chromedp.Location()), base)
}

// shot saves a screenshot of the whole page as name.png in b.shots.
func (b *browser) shot(name string) {
	b.t.Helper()
	png := browserRun(b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// expect fails the test for each of wants that text (read from the page
// where) lacks.
func (b *browser) expect(where, text string, wants ...string) {
	b.t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			b.t.Errorf("%s: %q not visible in:\n%s", where, w, text)
		}
	}
}

// fill types v into the field matching the CSS selector sel.
func fill(sel, v string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), v)
}

// startBrowser starts headless Debian Chromium for a browser test; its
// screenshots go in $LAYERINDEX_SCREENSHOTS/subdir (default a temporary
// directory; logged). Without Chromium the test skips, except in CI
// (.ci/run installs it); in -short mode it always skips.
func startBrowser(t *testing.T, subdir string) *browser {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := findChromium(t)
	shots := os.Getenv("LAYERINDEX_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	shots = filepath.Join(shots, subdir)
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)
	// Without the networking flags Chromium's own connections are refused
	// on this machine's closed network and it stalls.
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	bctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Do starts the browser; its context must not time out, or
	// the browser stops with it. Steps get their own deadlines.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return &browser{t: t, ctx: bctx, shots: shots}
}

// findChromium finds Debian's Chromium.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("LAYERINDEX_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	prereq.Missing(t, "Chromium not found at /usr/bin/chromium (apt-get install chromium, or set LAYERINDEX_CHROMIUM); skipping the browser test")
	return ""
}
