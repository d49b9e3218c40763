package web_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"vidid/web"
)

// TestScreenshots is a tool for people, not a check: with VIDID_WEB_SHOTS=DIR
// it saves PNGs of every screen of the capture page and the moderator
// pages (phone 360x640 and desktop 1280x800, in kk,
// ru and en) for a look at the layout. Without the variable it is skipped.
//
//	VIDID_WEB_SHOTS=/tmp/web-shots go test -run TestScreenshots ./web/
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("VIDID_WEB_SHOTS")
	if dir == "" {
		t.Skip("set VIDID_WEB_SHOTS=DIR to save screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	browser := newBrowser(t, true)
	mods := newModServer(t)
	sizes := []struct {
		name   string
		w, h   int64
		mobile bool
	}{{"phone", 360, 640, true}, {"desktop", 1280, 800, false}}

	for _, size := range sizes {
		for _, lang := range web.Languages() {
			t.Run(size.name+"-"+lang, func(t *testing.T) {
				view := func(ctx context.Context) {
					opts := []chromedp.EmulateViewportOption{}
					if size.mobile {
						opts = append(opts, chromedp.EmulateScale(2), chromedp.EmulateMobile)
					}
					do(t, ctx, "viewport", chromedp.EmulateViewport(size.w, size.h, opts...))
				}
				shot := func(ctx context.Context, name string, full bool) {
					var png []byte
					var err error
					if full {
						png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
					} else {
						png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
					}
					if err != nil {
						t.Fatalf("screenshot %s: %v", name, err)
					}
					p := filepath.Join(dir, size.name+"-"+lang+"-"+name+".png")
					if err := os.WriteFile(p, png, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				for _, page := range []string{web.ModLoginPage, web.ModQueuePage, web.ModCasePage} {
					ctx := newTab(t, browser)
					view(ctx)
					do(t, ctx, "open "+page, chromedp.Navigate(mods.URL+"/moderation/"+page+"?lang="+lang))
					waitFor(t, ctx, `document.readyState === "complete"`, `document.readyState`)
					shot(ctx, "moderation-"+page, true)
				}
				answer, peers := pionAnswerer(t)
				api := newFakeAPI(t, web.CapturePageData{Token: testToken, Lang: lang, ReturnURL: "https://portal.example/back"},
					http.StatusNoContent, answer)
				ctx := newTab(t, browser)
				view(ctx)
				do(t, ctx, "open", chromedp.Navigate(api.URL+"/capture/"+testToken))
				waitShown(t, ctx, "#agree")
				shot(ctx, "1-consent", false)
				shot(ctx, "1-consent-full", true)

				click(t, ctx, "agree")
				p := recv(t, peers, "peer")
				dc := recv(t, p.open, "channel")
				sendMsg(t, dc, map[string]any{"type": "guidance", "phase": "small_oval", "code": "move_closer", "progress": 0.15})
				waitFor(t, ctx, `document.getElementById("guidance").textContent.length > 0`, `""`)
				do(t, ctx, "settle", chromedp.Sleep(400e6))
				shot(ctx, "2-camera-small", false)
				sendMsg(t, dc, map[string]any{"type": "guidance", "phase": "large_oval", "code": "ok", "progress": 0.55})
				sendMsg(t, dc, map[string]any{"type": "challenge", "code": "turn_left", "index": 2, "total": 3})
				waitShown(t, ctx, "#challenge-box")
				do(t, ctx, "settle", chromedp.Sleep(1200e6))
				shot(ctx, "3-camera-challenge", false)
				click(t, ctx, "pref-contrast")
				do(t, ctx, "settle", chromedp.Sleep(300e6))
				shot(ctx, "4-camera-contrast", false)
				click(t, ctx, "pref-contrast")

				sendMsg(t, dc, map[string]any{"type": "result", "outcome": "no_match", "reason": "poor_light", "attempts_left": 7})
				waitShown(t, ctx, "#retry")
				shot(ctx, "5-failure", false)

				click(t, ctx, "retry")
				p2 := recv(t, peers, "peer 2")
				dc2 := recv(t, p2.open, "channel 2")
				sendMsg(t, dc2, map[string]any{"type": "result", "outcome": "locked", "attempts_left": 0, "retry_after_seconds": 600})
				waitShown(t, ctx, "#countdown")
				shot(ctx, "6-locked", false)

				api2 := newFakeAPI(t, web.CapturePageData{Token: testToken, Lang: lang, ConsentAccepted: true},
					http.StatusNoContent, answer)
				ctx2 := newTab(t, browser)
				view(ctx2)
				do(t, ctx2, "open", chromedp.Navigate(api2.URL+"/capture/"+testToken))
				p3 := recv(t, peers, "peer 3")
				dc3 := recv(t, p3.open, "channel 3")
				sendMsg(t, dc3, map[string]any{"type": "result", "outcome": "match", "attempts_left": 9,
					"next": map[string]any{"url": api2.URL + "/ca/enroll", "method": "POST", "fields": map[string]string{"assertion": "x"}}})
				waitShown(t, ctx2, "#continue")
				shot(ctx2, "7-success", false)

				api3 := newFakeAPI(t, web.CapturePageData{Token: testToken, Lang: lang, ConsentAccepted: true},
					http.StatusNoContent, refuse(http.StatusInternalServerError, map[string]any{"error": "internal"}))
				ctx3 := newTab(t, browser)
				view(ctx3)
				do(t, ctx3, "open", chromedp.Navigate(api3.URL+"/capture/"+testToken))
				waitShown(t, ctx3, "#retry")
				shot(ctx3, "8-connection-failed", false)
			})
		}
	}
}
