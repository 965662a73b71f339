package htmlreport

import (
	"bytes"
	"context"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"gotest.tools/v3/assert"
)

// chromium finds a Chromium to drive, or skips the test where none can
// be had: make test installs Debian's (bench/install-tools.sh test), so
// as root, which CI is, a missing browser is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Geteuid() == 0 {
		t.Fatal("no chromium: make test installs it (bash bench/install-tools.sh test); run that first")
	}
	t.Skip("no chromium, and not root to install it (bash bench/install-tools.sh test as root does)")
	return ""
}

// browsed is what the browser saw of a page.
type browsed struct {
	mu       sync.Mutex
	requests []string // every request the page made
	errors   []string // console errors and error log entries
}

func (b *browsed) add(list *[]string, s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	*list = append(*list, s)
}

// chartPixels counts a screenshot's pixels that are not white, and the
// palette's colours among them.
func chartPixels(t *testing.T, shot []byte) (inked int, colours map[color.RGBA]bool) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	assert.NilError(t, err)
	colours = map[color.RGBA]bool{}
	want := map[color.RGBA]bool{}
	for _, c := range palette {
		want[color.RGBAModel.Convert(c).(color.RGBA)] = true
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			if c.R < 240 || c.G < 240 || c.B < 240 {
				inked++
			}
			if want[c] {
				colours[c] = true
			}
		}
	}
	return inked, colours
}

// TestReportInBrowser opens reports (three runs' and an A/B verdict's)
// in headless Chromium, offline, and
// checks that every chart rendered: its SVG laid out at a real size,
// lines and bars drawn, the screenshot of each chart inked in the
// palette's colours; that the page made no request but for itself; and
// that nothing went to the console as an error.
func TestReportInBrowser(t *testing.T) {
	exe := chromium(t)
	dir := t.TempDir()
	pages := map[string][]byte{}
	runs := map[string]*Run{"fixed": fixedRun()}
	for _, name := range []string{"tcp_rr", "tcp_stream"} {
		f, err := os.Open(filepath.Join("testdata", name+".json"))
		assert.NilError(t, err)
		r, err := Decode(f)
		f.Close()
		assert.NilError(t, err)
		runs[name] = r
	}
	for name, r := range runs {
		var buf bytes.Buffer
		assert.NilError(t, Write(&buf, r))
		pages[name] = buf.Bytes()
	}
	var ab bytes.Buffer
	assert.NilError(t, WriteAB(&ab, abReport(t), "A vs B"))
	pages["ab"] = ab.Bytes()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // root in CI
		chromedp.DisableGPU,
		chromedp.WindowSize(1100, 900),
		// No network: names do not resolve and any proxied request fails.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		chromedp.ProxyServer("127.0.0.1:9"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	// The browser starts with the first action, and lives as long as bctx.
	_, err := chromedp.Run(bctx, chromedp.Evaluate[int]("1"))
	assert.NilError(t, err, "starting %s", exe)

	for name, page := range pages {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".html")
			assert.NilError(t, os.WriteFile(path, page, 0o644))
			url := "file://" + path

			tab, cancel := chromedp.NewContext(bctx)
			defer cancel()
			seen := &browsed{}
			assert.NilError(t, chromedp.Listen(tab, func(ev any) {
				switch ev := ev.(type) {
				case *network.EventRequestWillBeSent:
					seen.add(&seen.requests, ev.Request.URL)
				case *runtime.EventConsoleAPICalled:
					if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
						seen.add(&seen.errors, "console "+string(ev.Type))
					}
				case *runtime.EventExceptionThrown:
					seen.add(&seen.errors, "exception: "+ev.ExceptionDetails.Text)
				case *log.EventEntryAdded:
					if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
						seen.add(&seen.errors, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
					}
				}
			}))
			ctx, cancelTimeout := context.WithTimeout(tab, 60*time.Second)
			defer cancelTimeout()
			_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
			assert.NilError(t, err)
			_, err = chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
				MatchedNetworkConditions: []*network.Conditions{{Offline: true}},
			})
			assert.NilError(t, err)
			_, err = chromedp.Call(ctx, log.Enable, cdp.Empty{})
			assert.NilError(t, err)
			_, err = chromedp.Call(ctx, runtime.Enable, cdp.Empty{})
			assert.NilError(t, err)
			assert.NilError(t, chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady("body")))
			ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("figure.chart")).map(f => f.id)`))
			assert.NilError(t, err)
			sizes, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`Array.from(document.querySelectorAll("figure.chart svg")).flatMap(s => {
				const r = s.getBoundingClientRect();
				return [r.width, r.height, s.querySelectorAll("path").length, s.querySelectorAll("text").length];
			})`))
			assert.NilError(t, err)
			figs, _ := parseReport(t, string(page))
			assert.Equal(t, len(ids), len(figs), "charts in the page")
			assert.Equal(t, len(sizes), 4*len(figs))
			for i, id := range ids {
				w, h, paths, texts := sizes[4*i], sizes[4*i+1], sizes[4*i+2], sizes[4*i+3]
				assert.Assert(t, w > 300 && h > 100, "%s laid out at %vx%v", id, w, h)
				// Axes, ticks and grid are paths too: a chart draws more
				// paths than its frame and labels alone.
				assert.Assert(t, paths > float64(figs[i].series)+10 && texts > 3, "%s: %v paths, %v texts", id, paths, texts)

				shot, err := chromedp.Run(ctx, chromedp.Screenshot("#"+id+" svg"))
				assert.NilError(t, err)
				inked, colours := chartPixels(t, shot)
				assert.Assert(t, inked > 500, "%s: %d inked pixels", id, inked)
				assert.Assert(t, len(colours) >= 1, "%s: no series colour in its screenshot", id)
			}
			for _, u := range seen.requests {
				assert.Assert(t, u == url, "the page requested %s", u)
			}
			assert.Assert(t, len(seen.requests) >= 1, "no request seen, not even the page's own: the listener saw nothing")
			assert.Assert(t, len(seen.errors) == 0, "console: %s", strings.Join(seen.errors, "; "))
		})
	}
}
