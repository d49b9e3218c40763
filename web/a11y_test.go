package web_test

// Accessibility in headless Chromium: axe-core (WCAG 2.0/2.1 A and AA) on
// every page this package renders, in each of its states, and the moderator
// pages at a phone's width without sideways scrolling. axe-core comes from
// var/node (make npm-deps); its absence fails these tests.

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vidid/internal/browsertest"
	"vidid/moderation"
	"vidid/session"
	"vidid/web"
)

// phoneWidth is the narrowest common phone the moderator pages are checked at.
const phoneWidth = 390

// TestAccessibilityCapturePage runs axe-core on the capture page's steps:
// consent, declined, camera with a challenge, a failed attempt, a lock,
// success, and in high contrast.
func TestAccessibilityCapturePage(t *testing.T) {
	browser := newBrowser(t, true)
	for _, lang := range web.Languages() {
		t.Run(lang, func(t *testing.T) {
			answer, peers := pionAnswerer(t)
			api := newFakeAPI(t, web.CapturePageData{Token: testToken, Lang: lang, ReturnURL: "https://portal.example/back",
				ExpiresAt: time.Now().Add(time.Hour)}, http.StatusNoContent, answer)
			ctx := newTab(t, browser)
			do(t, ctx, "open page", chromedp.Navigate(api.URL+"/capture/"+testToken))
			waitShown(t, ctx, "#agree")
			browsertest.CheckAxe(t, ctx, "consent")

			click(t, ctx, "decline")
			recv(t, api.consents, "consent POST")
			waitShown(t, ctx, "#change-consent")
			browsertest.CheckAxe(t, ctx, "declined")
			click(t, ctx, "change-consent")
			waitShown(t, ctx, "#agree")

			click(t, ctx, "agree")
			recv(t, api.consents, "consent POST")
			p := recv(t, peers, "peer")
			dc := recv(t, p.open, "data channel")
			sendMsg(t, dc, map[string]any{"type": "guidance", "phase": "large_oval", "code": "move_closer", "progress": 0.5})
			sendMsg(t, dc, map[string]any{"type": "challenge", "code": "turn_left", "index": 1, "total": 3})
			waitShown(t, ctx, "#challenge-box")
			browsertest.CheckAxe(t, ctx, "camera")
			click(t, ctx, "pref-contrast")
			browsertest.CheckAxe(t, ctx, "camera, high contrast")
			click(t, ctx, "pref-contrast")

			sendMsg(t, dc, map[string]any{"type": "result", "outcome": "no_match", "reason": "no_match", "attempts_left": 7})
			waitShown(t, ctx, "#retry")
			browsertest.CheckAxe(t, ctx, "failure")

			click(t, ctx, "retry")
			p2 := recv(t, peers, "second peer")
			dc2 := recv(t, p2.open, "second data channel")
			sendMsg(t, dc2, map[string]any{"type": "result", "outcome": "locked", "attempts_left": 0, "retry_after_seconds": 600})
			waitShown(t, ctx, "#countdown")
			browsertest.CheckAxe(t, ctx, "locked")
		})
	}
	t.Run("success", func(t *testing.T) {
		answer, peers := pionAnswerer(t)
		api := newFakeAPI(t, web.CapturePageData{Token: testToken, Lang: "kk", ConsentAccepted: true}, http.StatusNoContent, answer)
		ctx := newTab(t, browser)
		do(t, ctx, "open page", chromedp.Navigate(api.URL+"/capture/"+testToken))
		p := recv(t, peers, "peer")
		dc := recv(t, p.open, "data channel")
		// A next step the page refuses (ftp:), so it stays on the success screen.
		sendMsg(t, dc, map[string]any{"type": "result", "outcome": "match", "attempts_left": 9,
			"next": map[string]any{"url": "ftp://ca.example/enroll", "method": "POST"}})
		waitShown(t, ctx, "#message-title")
		browsertest.CheckAxe(t, ctx, "success")
	})
}

// TestAccessibilityModeratorPages runs axe-core on the moderator pages in
// each language, on a desktop screen and on a 390 px phone, where nothing
// may stick out sideways.
func TestAccessibilityModeratorPages(t *testing.T) {
	srv := newModServer(t)
	browser := newBrowser(t, true)
	for _, lang := range web.Languages() {
		for _, page := range []string{web.ModLoginPage, web.ModQueuePage, web.ModCasePage, web.ModMessagePage} {
			t.Run(lang+"/"+page, func(t *testing.T) {
				ctx := newTab(t, browser)
				url := fmt.Sprintf("%s/moderation/%s?lang=%s", srv.URL, page, lang)
				do(t, ctx, "open "+page, chromedp.Navigate(url))
				waitFor(t, ctx, `document.readyState === "complete"`, `document.readyState`)
				browsertest.CheckAxe(t, ctx, page)

				do(t, ctx, "phone viewport", chromedp.EmulateViewport(phoneWidth, 800, chromedp.EmulateScale(2), chromedp.EmulateMobile))
				do(t, ctx, "reload", chromedp.Reload())
				waitFor(t, ctx, `document.readyState === "complete"`, `document.readyState`)
				if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > phoneWidth {
					t.Errorf("%s is %d px wide on a %d px phone", page, w, phoneWidth)
				}
				if out := eval[string](t, ctx, offScreen); out != "" {
					t.Errorf("%s on a phone: off-screen %s", page, out)
				}
				browsertest.CheckAxe(t, ctx, page+" on a phone")
			})
		}
	}
}

// offScreen names the first control that is not wholly inside the window
// (and not inside a box of its own that scrolls sideways).
const offScreen = `(() => {
	for (const el of document.querySelectorAll("a, button, input, select, textarea")) {
		if (el.closest(".scroll, .frames, .clip") || el.type === "hidden") continue;
		const r = el.getBoundingClientRect();
		if (r.width && (r.left < 0 || r.right > innerWidth)) return el.outerHTML.slice(0, 80);
	}
	return "";
})()`

// modServer renders the moderator pages with fixed data, under the pages'
// own Content-Security-Policy, with the static files and stand-in photos.
func newModServer(t *testing.T) *httptest.Server {
	t.Helper()
	now := time.Date(2026, 12, 5, 9, 30, 0, 0, time.UTC)
	until := now.Add(20 * time.Minute)
	match, liveness, same, threshold := 0.61, 0.93, 0.88, 0.65
	summary := moderation.CaseSummary{SessionID: "7e7165f8-1006-4b10-97ab-fb3746fa5413", ClientName: "egov.kz portal",
		IINMasked: "85********12", EnteredAt: now.Add(-50 * time.Hour), Due: now.Add(-26 * time.Hour), Overdue: true,
		Why: moderation.WhyNearThreshold, Reason: session.ReasonNoMatch, Attempts: 2, BestMatchScore: &match,
		ClaimedBy: "Dana Seitkali", ClaimedByID: "m1", ClaimedUntil: &until}
	free := summary
	free.SessionID, free.ClaimedBy, free.ClaimedByID, free.ClaimedUntil, free.Overdue = "0b2c", "", "", nil, false
	free.Due, free.Why = now.Add(3*time.Hour), moderation.WhyRegisterPhoto
	data := map[string]any{
		web.ModLoginPage: struct{ Error bool }{true},
		web.ModQueuePage: queueView{Moderator: "Dana Seitkali", ModeratorID: "m1", Notice: "approved", Now: now,
			Stats: moderation.Stats{Cases: 2, Overdue: 1, Oldest: summary.EnteredAt},
			Cases: []moderation.CaseSummary{summary, free}},
		web.ModCasePage: struct {
			Moderator     string
			Case          moderation.Case
			Base          string
			Now           time.Time
			RejectReasons []string
		}{"Dana Seitkali", moderation.Case{CaseSummary: summary,
			Citizen: moderation.Citizen{Surname: "Сейтқали", GivenName: "Әлия", Patronymic: "Нұрланқызы",
				BirthDate: time.Date(1985, 3, 14, 0, 0, 0, 0, time.UTC), HasPhoto: true},
			Attempts: []moderation.CaseAttempt{{N: 1, StartedAt: now.Add(-51 * time.Hour), Outcome: session.OutcomeNoMatch,
				Reason: session.ReasonNoMatch, Counted: true, LivenessScore: &liveness, MatchScore: &match, SamePersonScore: &same,
				Threshold: &threshold, ThresholdVersion: "2026-11", Model: "dlib-resnet-v1", BestFrames: 3, ClipFrames: 12}},
			History: []moderation.PastSession{{CreatedAt: now.Add(-30 * 24 * time.Hour), ClientName: "egov.kz portal",
				State: session.StateLocked, Attempts: 10, FailedAttempts: 10}}},
			"/moderation/cases/" + summary.SessionID, now, session.RejectReasons},
		web.ModMessagePage: struct {
			Moderator, Code, Message, Who string
			Status                        int
			Until                         time.Time
		}{"Dana Seitkali", "claimed", "", "Erlan", http.StatusConflict, until},
	}
	photo := stillPNG(t, 300, 400)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /moderation/{page}", func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		page := r.PathValue("page")
		if err := web.ModerationPage(&buf, page, web.ModerationLang(r.URL.Query().Get("lang")), data[page]); err != nil {
			t.Errorf("render %s: %v", page, err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Security-Policy", web.ModerationCSP)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(buf.Bytes())
	})
	mux.HandleFunc("GET /moderation/cases/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(photo)
	})
	mux.Handle(web.StaticPrefix, http.StripPrefix(web.StaticPrefix, web.StaticHandler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// stillPNG is a grey picture of the given size, standing in for a photo.
func stillPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	img.Set(0, 0, color.White)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
