package cli_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// chromium is Debian's browser, which the test command installs.
const chromium = "/usr/bin/chromium"

// brSession is a headless Chromium tab, with every console error and
// uncaught exception the pages raise collected for the test to check.
type brSession struct {
	ctx       context.Context
	downloads string
	shots     string
	mu        sync.Mutex
	errs      []string
}

// brOpen starts Chromium for t; it fails (never skips) when the browser
// is missing, since the test command installs it.
func brOpen(t testing.TB) *brSession {
	t.Helper()
	path := chromium
	if p := os.Getenv("VM_CHROMIUM"); p != "" {
		path = p
	}
	if _, err := exec.LookPath(path); err != nil {
		t.Fatalf("browser tests need Chromium at %s (Debian: apt-get install chromium; `make test` installs it): %v", path, err)
	}
	dir := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-features", "MediaRouter,OptimizationHints,Translate"),
		chromedp.WindowSize(1200, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	s := &brSession{ctx: ctx, downloads: filepath.Join(dir, "downloads"), shots: screenshotDir(t)}
	if err := os.MkdirAll(s.downloads, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", path, err)
	}
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: s.downloads}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			// The browser logs every 4xx answer as an error of source
			// "network"; for the API those are answers (404: no such ID
			// yet), which the page handles. Anything else counts.
			if (m.Type == chromedp.ConsoleError || m.IsException()) &&
				!(m.Source == "network" && strings.Contains(m.Text, "status of 4")) {
				s.mu.Lock()
				s.errs = append(s.errs, m.String()+" ("+m.URL+")")
				s.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, e := range s.errs {
			t.Errorf("browser console: %s", e)
		}
	})
	return s
}

// screenshotDir is where browser tests leave screenshots for people to
// look at: $VM_SCREENSHOTS, else screenshots/ at the repository root (not
// committed).
func screenshotDir(t testing.TB) string {
	if d := os.Getenv("VM_SCREENSHOTS"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..", "screenshots")
}

// do runs steps, failing t with what was being done.
func (s *brSession) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// text is the text of the first element matching sel, once visible.
func (s *brSession) text(t *testing.T, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 3*time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return v
}

// waitText waits until the element matching sel contains want; a status
// line showing an error first fails at once with that error.
func (s *brSession) waitText(t *testing.T, sel, want string) string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const e = document.querySelector(`+jsString(sel)+`); return e ? e.textContent : ""; })()`))
		cancel()
		if err == nil && strings.Contains(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: want text %q, have %q (err %v)", sel, want, got, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shot saves a full-page screenshot as name.png.
func (s *brSession) shot(t *testing.T, name string) {
	t.Helper()
	b, err := chromedp.Run(s.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(s.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.shots, name+".png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// download waits for file name to finish downloading and returns it.
func (s *brSession) download(t *testing.T, name string) []byte {
	t.Helper()
	p := filepath.Join(s.downloads, name)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
			return b
		}
		if time.Now().After(deadline) {
			ents, _ := os.ReadDir(s.downloads)
			t.Fatalf("download %s did not arrive; the folder has %v", name, ents)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fill sets the value of the input matching the CSS selector sel, as
// typing would (chromedp's SetValue refuses the empty string).
func fill(sel, v string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`document.querySelector(` + jsString(sel) + `).value = ` + jsString(v))
}

// submit submits the form of the element matching the CSS selector sel
// as a person would (requestSubmit fires the submit event; chromedp's
// Submit calls form.submit(), which does not).
func submit(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`document.querySelector(` + jsString(sel) + `).form.requestSubmit()`)
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// loadStats is one cold load of a page in a fresh browser context (empty
// cache and storage).
type loadStats struct {
	ready       time.Duration // navigation start → the "vm-ready" mark (0 if the page sets none)
	loaded      time.Duration // navigation start → the load event
	transferred int64         // bytes over the wire, compressed, page and every request it made
}

// coldLoad opens url in a new browser context and waits for body[data-ready]
// when waitReady is set, else for the load event.
func (s *brSession) coldLoad(ctx context.Context, url string, waitReady bool) (loadStats, error) {
	tab, cancel := chromedp.NewContext(s.ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	tab, cancelT := context.WithTimeout(tab, time.Minute)
	defer cancelT()
	steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(url)}
	if waitReady {
		steps = append(steps, chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	}
	if err := chromedp.Do(tab, steps...); err != nil {
		return loadStats{}, err
	}
	const js = `(() => {
		const nav = performance.getEntriesByType("navigation")[0];
		const res = performance.getEntriesByType("resource");
		const mark = performance.getEntriesByName("vm-ready")[0];
		return [mark ? mark.startTime : 0, nav.loadEventEnd, nav.transferSize + res.reduce((n, r) => n + r.transferSize, 0)];
	})()`
	v, err := chromedp.Run(tab, chromedp.Evaluate[[]float64](js))
	if err != nil {
		return loadStats{}, err
	}
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	return loadStats{ready: ms(v[0]), loaded: ms(v[1]), transferred: int64(v[2])}, nil
}

// auditJS lists what the current page does wrong for keyboard and
// screen-reader users: a form control without a label, a button or link
// without a name, a page without exactly one h1, something focusable by
// mouse only (a click handler on a non-control).
const auditJS = `(() => {
	const bad = [];
	const name = (e) => (e.getAttribute("aria-label") || e.textContent || e.title || "").trim();
	for (const e of document.querySelectorAll("input, select, textarea")) {
		if (e.type === "hidden") continue;
		if (!(e.labels && e.labels.length) && !e.getAttribute("aria-label")) bad.push("unlabelled " + e.tagName + " " + (e.name || ""));
	}
	for (const e of document.querySelectorAll("button, a")) if (!name(e)) bad.push("nameless " + e.tagName + " " + e.outerHTML.slice(0, 80));
	const h1 = document.querySelectorAll("main h1").length;
	if (h1 !== 1) bad.push(h1 + " h1 elements in main");
	for (const e of document.querySelectorAll("[onclick]")) bad.push("inline handler on " + e.tagName);
	return bad;
})()`

// audit fails t with the page's accessibility problems, and checks it
// fits a phone-sized screen (390 px) without sideways scrolling.
func (s *brSession) audit(t *testing.T, page string) {
	t.Helper()
	bad, err := chromedp.Run(s.ctx, chromedp.Evaluate[[]string](auditJS))
	if err != nil {
		t.Fatalf("audit %s: %v", page, err)
	}
	for _, b := range bad {
		t.Errorf("%s: %s", page, b)
	}
	if err := chromedp.Do(s.ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	w, err := chromedp.Run(s.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if w > 390 {
		t.Errorf("%s is %d px wide on a 390 px screen", page, w)
	}
	if err := chromedp.Do(s.ctx, chromedp.EmulateViewport(1200, 900)); err != nil {
		t.Fatal(err)
	}
}
