package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"layerindex/internal/prereq"
)

// startBrowser starts headless Debian Chromium for a browser test and
// returns its context and the directory for the test's screenshots
// ($LAYERINDEX_SCREENSHOTS/subdir, default a temporary directory; logged).
// Without Chromium the test skips, except in CI (.ci/run installs it); in
// -short mode it always skips.
func startBrowser(t *testing.T, subdir string) (context.Context, string) {
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
	return bctx, shots
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
