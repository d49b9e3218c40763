package web_test

// Headless-Chromium tests of the capture page against an httptest server that
// serves the real template and assets, fake session endpoints and, where the
// data-channel protocol is under test, a real pion WebRTC answerer on
// loopback. They need Debian's /usr/bin/chromium (or VIDID_CHROMIUM) and are
// skipped only under -short.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"vidid/internal/browsertest"
	"vidid/web"
)

const (
	testToken   = "tok_0123456789-abcdefghijklmnopqrstuvwxyzABCD"
	waitTimeout = 30 * time.Second // how long a step may take before the test gives up
)

// ---- fake API server ----

type offerFunc func(w http.ResponseWriter, sdp string)

type fakeAPI struct {
	*httptest.Server
	consents chan map[string]any
	offers   chan string
	enrolled chan url.Values
	// nHandover counts POST …/handover calls, which the page must never
	// make (the server refuses them).
	nHandover int
	mu        sync.Mutex
}

// newFakeAPI serves the capture page for data, the static assets, the
// consent endpoint (answering consentStatus) and the offer endpoint
// (answered by offer).
func newFakeAPI(t *testing.T, data web.CapturePageData, consentStatus int, offer offerFunc) *fakeAPI {
	t.Helper()
	f := &fakeAPI{consents: make(chan map[string]any, 8), offers: make(chan string, 8), enrolled: make(chan url.Values, 8)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /capture/{token}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("token") != data.Token {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", web.ContentSecurityPolicy)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := web.CapturePage(w, data); err != nil {
			t.Errorf("CapturePage: %v", err)
		}
	})
	mux.Handle(web.StaticPrefix, http.StripPrefix(web.StaticPrefix, web.StaticHandler()))
	mux.HandleFunc("POST /v1/capture/{token}/consent", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("consent body: %v", err)
		}
		f.consents <- body
		if consentStatus != http.StatusNoContent {
			writeJSON(w, consentStatus, map[string]any{"error": "expired", "message": "expired"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /v1/capture/{token}/offer", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Type, SDP string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Type != "offer" {
			t.Errorf("offer body: type %q, err %v", body.Type, err)
		}
		f.offers <- body.SDP
		offer(w, body.SDP)
	})
	mux.HandleFunc("POST /v1/capture/{token}/handover", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.nHandover++
		f.mu.Unlock()
		writeJSON(w, http.StatusForbidden, map[string]any{"error": "capture_required", "message": "capture required"})
	})
	mux.HandleFunc("POST /ca/enroll", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("enroll form: %v", err)
		}
		f.enrolled <- r.PostForm
		fmt.Fprint(w, "<!doctype html><title>CA</title><p>enrolment</p>")
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// refuse answers every offer with an API error.
func refuse(status int, body map[string]any) offerFunc {
	return func(w http.ResponseWriter, _ string) { writeJSON(w, status, body) }
}

// ---- pion answerer standing in for the capture server ----

type fakePeer struct {
	pc       *webrtc.PeerConnection
	open     chan *webrtc.DataChannel
	fromPage chan map[string]any
	tracks   chan string
}

// pionAnswerer answers offers with a loopback-only pion peer and hands each
// new peer to the returned channel.
func pionAnswerer(t *testing.T) (offerFunc, <-chan *fakePeer) {
	t.Helper()
	peers := make(chan *fakePeer, 4)
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	var me webrtc.MediaEngine
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(&me))
	var mu sync.Mutex
	var all []*webrtc.PeerConnection
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, pc := range all {
			_ = pc.Close()
		}
	})
	return func(w http.ResponseWriter, sdp string) {
		pc, err := api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			t.Errorf("new peer: %v", err)
			writeJSON(w, 500, map[string]any{"error": "internal"})
			return
		}
		mu.Lock()
		all = append(all, pc)
		mu.Unlock()
		p := &fakePeer{pc: pc, open: make(chan *webrtc.DataChannel, 1), fromPage: make(chan map[string]any, 32), tracks: make(chan string, 2)}
		pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			p.tracks <- tr.Codec().MimeType
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
			}
		})
		pc.OnDataChannel(func(dc *webrtc.DataChannel) {
			if dc.Label() != "guidance" || dc.Ordered() == false {
				t.Errorf("data channel %q ordered=%v, want \"guidance\" ordered", dc.Label(), dc.Ordered())
			}
			dc.OnOpen(func() { p.open <- dc })
			dc.OnMessage(func(m webrtc.DataChannelMessage) {
				var v map[string]any
				if err := json.Unmarshal(m.Data, &v); err != nil {
					t.Errorf("page sent non-JSON %q", m.Data)
					return
				}
				p.fromPage <- v
			})
		})
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
			t.Errorf("set offer: %v", err)
			writeJSON(w, 400, map[string]any{"error": "bad_offer"})
			return
		}
		answer, err := pc.CreateAnswer(nil)
		if err != nil {
			t.Errorf("answer: %v", err)
			return
		}
		gathered := webrtc.GatheringCompletePromise(pc)
		if err := pc.SetLocalDescription(answer); err != nil {
			t.Errorf("set answer: %v", err)
			return
		}
		<-gathered
		peers <- p
		writeJSON(w, 200, map[string]any{"type": "answer", "sdp": pc.LocalDescription().SDP})
	}, peers
}

func sendMsg(t *testing.T, dc *webrtc.DataChannel, v map[string]any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := dc.SendText(string(b)); err != nil {
		t.Fatalf("send %s: %v", b, err)
	}
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// ---- browser ----

// newBrowser starts headless Chromium with a fake camera. With grantCamera
// false the permission prompt is denied, as when the applicant says no.
func newBrowser(t *testing.T, grantCamera bool) context.Context {
	t.Helper()
	ctx, _ := browsertest.Start(t, browsertest.Options{DenyCamera: !grantCamera})
	return ctx
}

// newTab opens a tab that closes when the test ends.
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(browser, 3*waitTimeout)
	t.Cleanup(cancel)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	return ctx
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// waitFor polls a JavaScript condition; on timeout it reports the value of
// show, to say what the page showed instead.
func waitFor(t *testing.T, ctx context.Context, cond, show string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(waitTimeout)))
	if err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[any](show))
		t.Fatalf("waiting for %s: %v (page shows %v)", cond, err, got)
	}
}

func textOf(sel string) string {
	return fmt.Sprintf(`(document.querySelector(%s) || {}).textContent`, js(sel))
}

// waitText waits until the element's text is want.
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	waitFor(t, ctx, textOf(sel)+" === "+js(want), textOf(sel))
}

// isShown is true when the element and its ancestors are not hidden.
func isShown(sel string) string {
	return fmt.Sprintf(`(() => { const el = document.querySelector(%s); return !!el && el.getClientRects().length > 0; })()`, js(sel))
}

func waitShown(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	waitFor(t, ctx, isShown(sel), `document.querySelector("main").innerText`)
}

func shown(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	return eval[bool](t, ctx, isShown(sel))
}

func click(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	do(t, ctx, "click #"+id, chromedp.Click(chromedp.ID(id), chromedp.NodeVisible))
}

// chooseLanguage picks a language in the page's selector, as a user would.
func chooseLanguage(t *testing.T, ctx context.Context, lang string) {
	t.Helper()
	eval[bool](t, ctx, fmt.Sprintf(`(() => { const s = document.getElementById("lang"); s.focus(); s.value = %s;
		s.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`, js(lang)))
}

func cameraOff(t *testing.T, ctx context.Context) bool {
	t.Helper()
	return eval[bool](t, ctx, `document.getElementById("video").srcObject === null`)
}

func noMore[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Errorf("unexpected %s: %v", what, v)
	default:
	}
}

// ---- tests ----

func TestBrowserConsent(t *testing.T) {
	dicts := loadDicts(t)
	browser := newBrowser(t, true)

	t.Run("agree, language switch, connection failure, try again", func(t *testing.T) {
		api := newFakeAPI(t, web.CapturePageData{Token: testToken, Lang: "ru"}, http.StatusNoContent,
			refuse(http.StatusInternalServerError, map[string]any{"error": "internal", "message": "Internal error; it has been logged."}))
		ctx := newTab(t, browser)
		do(t, ctx, "open page", chromedp.Navigate(api.URL+"/capture/"+testToken))
		waitShown(t, ctx, "#step-consent")
		waitText(t, ctx, "#consent-title", dicts["ru"]["consent.title"])
		if shown(t, ctx, "#step-camera") {
			t.Error("camera step shown before consent")
		}

		chooseLanguage(t, ctx, "en")
		waitText(t, ctx, "#consent-title", dicts["en"]["consent.title"])
		waitText(t, ctx, "#agree", dicts["en"]["consent.agree"])
		if got := eval[string](t, ctx, `document.documentElement.lang + "|" + document.title`); got != "en|"+dicts["en"]["app.title"] {
			t.Errorf("lang|title = %q", got)
		}
		// The choice survives a reload.
		do(t, ctx, "reload", chromedp.Reload())
		waitText(t, ctx, "#consent-title", dicts["en"]["consent.title"])
		if v := eval[string](t, ctx, `document.getElementById("lang").value`); v != "en" {
			t.Errorf("selector shows %q after reload, want en", v)
		}

		click(t, ctx, "agree")
		c := recv(t, api.consents, "consent POST")
		if c["accepted"] != true || c["lang"] != "en" {
			t.Errorf("consent body = %v, want accepted true, lang en", c)
		}
		sdp := recv(t, api.offers, "offer")
		for _, want := range []string{"m=video", "m=application", "a=ice-ufrag:", "a=candidate:"} {
			if !strings.Contains(sdp, want) {
				t.Errorf("offer SDP lacks %q (data channel before the offer, gathering complete)", want)
			}
		}
		waitText(t, ctx, "#message-title", dicts["en"]["error.connection.title"])
		waitText(t, ctx, "#message-text", dicts["en"]["error.connection.text"])
		if !shown(t, ctx, "#retry") || !cameraOff(t, ctx) {
			t.Errorf("after a failed connection: retry shown %v, camera off %v; want both", shown(t, ctx, "#retry"), cameraOff(t, ctx))
		}

		click(t, ctx, "retry")
		recv(t, api.offers, "second offer after Try again")
		waitShown(t, ctx, "#retry")
		noMore(t, api.consents, "second consent POST")
	})

	t.Run("decline, then change the answer", func(t *testing.T) {
		api := newFakeAPI(t, web.CapturePageData{Token: testToken, Lang: "kk", ReturnURL: "https://portal.example/back"},
			http.StatusNoContent, refuse(http.StatusInternalServerError, map[string]any{"error": "internal"}))
		ctx := newTab(t, browser)
		do(t, ctx, "open page", chromedp.Navigate(api.URL+"/capture/"+testToken))
		waitText(t, ctx, "#consent-title", dicts["kk"]["consent.title"])
		click(t, ctx, "decline")
		c := recv(t, api.consents, "consent POST")
		if c["accepted"] != false || c["lang"] != "kk" {
			t.Errorf("consent body = %v, want accepted false, lang kk", c)
		}
		waitText(t, ctx, "#message-title", dicts["kk"]["declined.title"])
		waitShown(t, ctx, "#return")
		if href := eval[string](t, ctx, `document.getElementById("return").href`); href != "https://portal.example/back" {
			t.Errorf("return link = %q", href)
		}
		if !cameraOff(t, ctx) {
			t.Error("camera on after decline")
		}
		click(t, ctx, "change-consent")
		waitShown(t, ctx, "#agree")
		noMore(t, api.offers, "offer after decline")
	})

	t.Run("consent already given skips to the camera", func(t *testing.T) {
		api := newFakeAPI(t, web.CapturePageData{Token: testToken, Lang: "en", ConsentAccepted: true},
			http.StatusNoContent, refuse(http.StatusInternalServerError, map[string]any{"error": "internal"}))
		ctx := newTab(t, browser)
		do(t, ctx, "open page", chromedp.Navigate(api.URL+"/capture/"+testToken))
		recv(t, api.offers, "offer")
		noMore(t, api.consents, "consent POST")
		if shown(t, ctx, "#step-consent") {
			t.Error("consent step shown though consent was given")
		}
	})
}

func TestBrowserOfferRefused(t *testing.T) {
	dicts := loadDicts(t)
	en := dicts["en"]
	browser := newBrowser(t, true)
	tests := []struct {
		name      string
		status    int
		body      map[string]any
		title     string
		extra     *regexp.Regexp // countdown text, when there is one
		retry     bool
		returnURL bool
	}{
		{"server error", 500, map[string]any{"error": "internal", "message": "Internal error"}, "error.connection.title", nil, true, false},
		{"bad gateway without JSON", 502, nil, "error.connection.title", nil, true, false},
		{"locked", 423, map[string]any{"error": "locked", "retry_after_seconds": 600}, "result.locked.title",
			regexp.MustCompile(`^You can submit a new application in (10:00|09:[0-5]\d)$`), false, true},
		{"expired", 410, map[string]any{"error": "expired"}, "error.expired.title", nil, false, true},
		{"closed", 410, map[string]any{"error": "closed"}, "error.closed.title", nil, false, true},
		{"unknown session", 404, map[string]any{"error": "unknown_session"}, "error.unknown_session.title", nil, false, true},
		{"attempt running", 409, map[string]any{"error": "attempt_in_progress"}, "error.busy.title", nil, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t, web.CapturePageData{Token: testToken, Lang: "en", ConsentAccepted: true,
				ReturnURL: "https://portal.example/back"}, http.StatusNoContent, refuse(tc.status, tc.body))
			ctx := newTab(t, browser)
			do(t, ctx, "open page", chromedp.Navigate(api.URL+"/capture/"+testToken))
			recv(t, api.offers, "offer")
			waitText(t, ctx, "#message-title", en[tc.title])
			if tc.extra != nil {
				got := eval[string](t, ctx, textOf("#countdown"))
				if !tc.extra.MatchString(got) || !shown(t, ctx, "#countdown") {
					t.Errorf("countdown = %q, want %v", got, tc.extra)
				}
			}
			if got := shown(t, ctx, "#retry"); got != tc.retry {
				t.Errorf("Try again shown = %v, want %v", got, tc.retry)
			}
			if got := shown(t, ctx, "#return"); got != tc.returnURL {
				t.Errorf("return link shown = %v, want %v", got, tc.returnURL)
			}
			if !cameraOff(t, ctx) {
				t.Error("camera still on")
			}
		})
	}
}

func TestBrowserCameraDenied(t *testing.T) {
	dicts := loadDicts(t)
	browser := newBrowser(t, false)
	api := newFakeAPI(t, web.CapturePageData{Token: testToken, Lang: "en"}, http.StatusNoContent,
		refuse(http.StatusInternalServerError, map[string]any{"error": "internal"}))
	ctx := newTab(t, browser)
	do(t, ctx, "open page", chromedp.Navigate(api.URL+"/capture/"+testToken))
	click(t, ctx, "agree")
	recv(t, api.consents, "consent POST")
	waitText(t, ctx, "#message-title", dicts["en"]["error.camera_denied.title"])
	waitText(t, ctx, "#message-text", dicts["en"]["error.camera_denied.text"])
	if !shown(t, ctx, "#retry") {
		t.Error("no Try again after the camera was denied")
	}
	noMore(t, api.offers, "offer without a camera")

	chooseLanguage(t, ctx, "ru")
	waitText(t, ctx, "#message-title", dicts["ru"]["error.camera_denied.title"])
}

// TestBrowserCaptureProtocol runs the data-channel protocol against a real
// WebRTC peer: guidance, oval size and state, challenge prompts, the colour
// cue with and without the photosensitivity-safe mode, a language switch
// mid-capture and the final auto-submitted form carrying the assertion.
func TestBrowserCaptureProtocol(t *testing.T) {
	dicts := loadDicts(t)
	en, kk := dicts["en"], dicts["kk"]
	browser := newBrowser(t, true)
	answer, peers := pionAnswerer(t)
	api := newFakeAPI(t, web.CapturePageData{Token: testToken, Lang: "en", ConsentAccepted: true}, http.StatusNoContent, answer)
	ctx := newTab(t, browser)
	do(t, ctx, "open page", chromedp.Navigate(api.URL+"/capture/"+testToken))

	p := recv(t, peers, "peer")
	dc := recv(t, p.open, "data channel open")
	if m := recv(t, p.fromPage, "settings"); m["type"] != "settings" || m["photosensitive_safe"] != false {
		t.Errorf("first message = %v, want settings with photosensitive_safe false", m)
	}
	if m := recv(t, p.fromPage, "camera"); m["type"] != "camera" || m["label"] != "fake_device_0" {
		t.Errorf("second message = %v, want camera with the fake device's label", m)
	}
	if m := recv(t, p.fromPage, "start"); m["type"] != "start" {
		t.Errorf("third message = %v, want start", m)
	}
	if mime := recv(t, p.tracks, "video track"); !strings.HasPrefix(strings.ToLower(mime), "video/") {
		t.Errorf("track %q, want video", mime)
	}

	ovalShare := `(() => { const s = document.getElementById("stage").getBoundingClientRect();
		const o = document.querySelector(".oval").getBoundingClientRect(); return o.height / s.height; })()`
	sendMsg(t, dc, map[string]any{"type": "guidance", "phase": "small_oval", "code": "move_closer", "progress": 0.2})
	waitText(t, ctx, "#guidance", en["guidance.move_closer"])
	waitText(t, ctx, "#phase-text", en["phase.small_oval"])
	if v := eval[float64](t, ctx, `document.getElementById("progress").value`); v != 0.2 {
		t.Errorf("progress = %v, want 0.2", v)
	}
	small := eval[float64](t, ctx, ovalShare)
	if shown(t, ctx, ".oval-ok") {
		t.Error("ok mark shown before ok")
	}

	sendMsg(t, dc, map[string]any{"type": "guidance", "phase": "large_oval", "code": "ok", "progress": 0.5})
	waitText(t, ctx, "#guidance", en["guidance.ok"])
	waitFor(t, ctx, ovalShare+` > 0.8`, ovalShare)
	if !(small < 0.65) {
		t.Errorf("small oval takes %.2f of the stage height, want < 0.65", small)
	}
	if !shown(t, ctx, ".oval-ok") || eval[string](t, ctx, `getComputedStyle(document.querySelector(".oval")).borderTopStyle`) != "solid" {
		t.Error("ok is not shown by a check mark and a solid line")
	}

	sendMsg(t, dc, map[string]any{"type": "challenge", "code": "turn_left", "index": 1, "total": 3})
	waitText(t, ctx, "#challenge-text", en["challenge.turn_left"])
	waitText(t, ctx, "#challenge-step", "Step 1 of 3")
	if href := eval[string](t, ctx, `document.getElementById("challenge-use").getAttribute("href")`); href != "#i-turn_left" {
		t.Errorf("challenge icon = %q", href)
	}

	// Record every time the colour overlay is painted.
	eval[bool](t, ctx, `(() => { window.__flashes = []; const f = document.getElementById("flash");
		new MutationObserver(() => { if (!f.hidden) window.__flashes.push(f.style.backgroundColor); })
			.observe(f, {attributes: true}); return true; })()`)
	sendMsg(t, dc, map[string]any{"type": "screen_colour", "colour": "#ff0000", "ms": 300})
	waitFor(t, ctx, `window.__flashes.length === 1 && window.__flashes[0] === "rgb(255, 0, 0)"`, `window.__flashes`)
	waitFor(t, ctx, `document.getElementById("flash").hidden`, `document.getElementById("flash").style.backgroundColor`)

	click(t, ctx, "pref-safe")
	if m := recv(t, p.fromPage, "settings after the toggle"); m["type"] != "settings" || m["photosensitive_safe"] != true {
		t.Errorf("after turning on no-flashing the page sent %v", m)
	}
	sendMsg(t, dc, map[string]any{"type": "screen_colour", "colour": "#00ff00", "ms": 300})
	sendMsg(t, dc, map[string]any{"type": "guidance", "phase": "challenge", "code": "hold_still", "progress": 0.7})
	waitText(t, ctx, "#guidance", en["guidance.hold_still"]) // ordered channel: the colour cue came first
	if n := eval[int](t, ctx, `window.__flashes.length`); n != 1 {
		t.Errorf("overlay painted %d times, want 1 (the second cue came in no-flashing mode)", n)
	}

	chooseLanguage(t, ctx, "kk")
	waitText(t, ctx, "#guidance", kk["guidance.hold_still"])
	waitText(t, ctx, "#challenge-step", "Қадам: 1 / 3")
	waitText(t, ctx, "#challenge-text", kk["challenge.turn_left"])
	chooseLanguage(t, ctx, "en")

	sendMsg(t, dc, map[string]any{"type": "guidance", "phase": "processing", "code": "ok", "progress": 1})
	waitText(t, ctx, "#guidance", en["phase.processing"])

	sendMsg(t, dc, map[string]any{"type": "result", "outcome": "match", "attempts_left": 9,
		"next": map[string]any{"url": api.URL + "/ca/enroll", "method": "POST", "fields": map[string]string{"assertion": "eyJhbGciOiJFUzI1NiJ9.e30.sig"}}})
	waitFor(t, ctx, textOf("#message-title")+` === `+js(en["result.match.title"])+
		` && document.getElementById("video").srcObject === null && document.getElementById("continue").getClientRects().length > 0`,
		textOf("#message-title"))
	form := recv(t, api.enrolled, "auto-submitted form")
	if got := form.Get("assertion"); got != "eyJhbGciOiJFUzI1NiJ9.e30.sig" {
		t.Errorf("CA got assertion %q", got)
	}
}

// TestBrowserFailureRetryLock: a failed attempt offers Try again with the
// attempts left; Try again makes a new offer; a lock shows a countdown.
func TestBrowserFailureRetryLock(t *testing.T) {
	ru := loadDicts(t)["ru"]
	browser := newBrowser(t, true)
	answer, peers := pionAnswerer(t)
	api := newFakeAPI(t, web.CapturePageData{Token: testToken, Lang: "ru", ConsentAccepted: true,
		ReturnURL: "https://portal.example/back"}, http.StatusNoContent, answer)
	ctx := newTab(t, browser)
	do(t, ctx, "open page", chromedp.Navigate(api.URL+"/capture/"+testToken))

	p := recv(t, peers, "first peer")
	dc := recv(t, p.open, "first data channel")
	sendMsg(t, dc, map[string]any{"type": "result", "outcome": "no_match", "reason": "no_match", "attempts_left": 7})
	waitText(t, ctx, "#message-title", ru["result.fail.title"])
	waitText(t, ctx, "#message-text", ru["reason.no_match"])
	waitText(t, ctx, "#message-extra", "Осталось попыток: 7")
	if !shown(t, ctx, "#retry") || shown(t, ctx, "#return") {
		t.Error("want Try again and no return link while attempts are left")
	}

	click(t, ctx, "retry")
	p2 := recv(t, peers, "second peer (a new attempt)")
	dc2 := recv(t, p2.open, "second data channel")
	sendMsg(t, dc2, map[string]any{"type": "result", "outcome": "locked", "reason": "no_match", "attempts_left": 0, "retry_after_seconds": 65})
	waitText(t, ctx, "#message-title", ru["result.locked.title"])
	cd := eval[string](t, ctx, textOf("#countdown"))
	if !regexp.MustCompile(`^Подать новую заявку можно через (01:0[0-5]|00:[0-5]\d)$`).MatchString(cd) {
		t.Errorf("countdown = %q", cd)
	}
	// It counts down (a live timer, not a fixed text).
	waitFor(t, ctx, textOf("#countdown")+` !== `+js(cd), textOf("#countdown"))
	if shown(t, ctx, "#retry") {
		t.Error("Try again offered while locked")
	}
}

// TestBrowserHonoursSystemPreferences: prefers-reduced-motion turns on the
// photosensitivity-safe mode (and the server is told), prefers-contrast
// turns on high contrast; both show as checked toggles.
func TestBrowserHonoursSystemPreferences(t *testing.T) {
	browser := newBrowser(t, true)
	answer, peers := pionAnswerer(t)
	api := newFakeAPI(t, web.CapturePageData{Token: testToken, Lang: "en", ConsentAccepted: true}, http.StatusNoContent, answer)
	ctx := newTab(t, browser)
	do(t, ctx, "emulate system preferences", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{
			{Name: "prefers-reduced-motion", Value: "reduce"}, {Name: "prefers-contrast", Value: "more"},
		}})
		return err
	}))
	do(t, ctx, "open page", chromedp.Navigate(api.URL+"/capture/"+testToken))

	p := recv(t, peers, "peer")
	dc := recv(t, p.open, "data channel")
	if m := recv(t, p.fromPage, "settings"); m["type"] != "settings" || m["photosensitive_safe"] != true {
		t.Errorf("first message = %v, want settings with photosensitive_safe true", m)
	}
	if got := eval[string](t, ctx, `[document.getElementById("pref-safe").checked, document.getElementById("pref-contrast").checked,
		getComputedStyle(document.body).backgroundColor].join("|")`); got != "true|true|rgb(0, 0, 0)" {
		t.Errorf("safe|contrast|background = %q, want true|true|rgb(0, 0, 0)", got)
	}
	eval[bool](t, ctx, `(() => { window.__flashes = 0; const f = document.getElementById("flash");
		new MutationObserver(() => { if (!f.hidden) window.__flashes++; }).observe(f, {attributes: true}); return true; })()`)
	sendMsg(t, dc, map[string]any{"type": "screen_colour", "colour": "#ffffff", "ms": 500})
	sendMsg(t, dc, map[string]any{"type": "guidance", "phase": "small_oval", "code": "center_face", "progress": 0.1})
	waitText(t, ctx, "#guidance", loadDicts(t)["en"]["guidance.center_face"])
	if n := eval[int](t, ctx, `window.__flashes`); n != 0 {
		t.Errorf("overlay painted %d times under prefers-reduced-motion", n)
	}
}

// TestBrowserPhoneLayout checks the layout promises at 360x640 on every
// step: no sideways scrolling, no text under 16px, touch targets at least
// 44px tall, and while capturing the stage, the guidance and the challenge
// fit on the screen together.
func TestBrowserPhoneLayout(t *testing.T) {
	browser := newBrowser(t, true)
	for _, lang := range web.Languages() {
		t.Run(lang, func(t *testing.T) {
			answer, peers := pionAnswerer(t)
			api := newFakeAPI(t, web.CapturePageData{Token: testToken, Lang: lang, ReturnURL: "https://portal.example/back"},
				http.StatusNoContent, answer)
			ctx := newTab(t, browser)
			do(t, ctx, "phone viewport", chromedp.EmulateViewport(360, 640, chromedp.EmulateScale(2), chromedp.EmulateMobile))
			do(t, ctx, "open page", chromedp.Navigate(api.URL+"/capture/"+testToken))
			waitShown(t, ctx, "#agree")
			checkPhoneLayout(t, ctx, "consent")

			click(t, ctx, "agree")
			p := recv(t, peers, "peer")
			dc := recv(t, p.open, "data channel")
			sendMsg(t, dc, map[string]any{"type": "guidance", "phase": "large_oval", "code": "one_face_only", "progress": 0.5})
			sendMsg(t, dc, map[string]any{"type": "challenge", "code": "turn_right", "index": 3, "total": 3})
			waitShown(t, ctx, "#challenge-box")
			checkPhoneLayout(t, ctx, "camera")
			fits := `["#stage", "#guidance", "#challenge-box"].every((s) => {
				const r = document.querySelector(s).getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })`
			if !eval[bool](t, ctx, fits) {
				t.Error("stage, guidance and challenge do not fit on a 360x640 screen together")
			}

			sendMsg(t, dc, map[string]any{"type": "result", "outcome": "liveness_failed", "reason": "liveness_failed", "attempts_left": 3})
			waitShown(t, ctx, "#retry")
			checkPhoneLayout(t, ctx, "failure")
		})
	}
}

func checkPhoneLayout(t *testing.T, ctx context.Context, step string) {
	t.Helper()
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("%s: page is %dpx wide on a 360px screen", step, w)
	}
	small := eval[[]string](t, ctx, `[...document.querySelectorAll("body *")].filter((el) =>
		el.getClientRects().length > 0 && [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()) &&
		parseFloat(getComputedStyle(el).fontSize) < 16).map((el) => el.id || el.className || el.tagName)`)
	if len(small) > 0 {
		t.Errorf("%s: text under 16px in %v", step, small)
	}
	tiny := eval[[]string](t, ctx, `[...document.querySelectorAll("button, a, select, label.pref")].filter((el) =>
		el.getClientRects().length > 0 && el.getBoundingClientRect().height < 44).map((el) => el.id || el.textContent.trim())`)
	if len(tiny) > 0 {
		t.Errorf("%s: touch targets under 44px tall: %v", step, tiny)
	}
}

// TestBrowserApprovedHandover: the applicant of a session a moderator
// approved comes back by the same link: no camera at first, a
// confirmation, and Continue starts the short live capture that hands the
// assertion over. The page never asks for the assertion with the link
// alone (POST …/handover).
func TestBrowserApprovedHandover(t *testing.T) {
	en := loadDicts(t)["en"]
	browser := newBrowser(t, true)
	api := newFakeAPI(t, web.CapturePageData{Token: testToken, Lang: "en", ConsentAccepted: true, Moderation: web.ModerationApproved,
		ReturnURL: "https://portal.example/back"}, http.StatusNoContent, refuse(500, nil))
	ctx := newTab(t, browser)
	do(t, ctx, "open page", chromedp.Navigate(api.URL+"/capture/"+testToken))
	waitText(t, ctx, "#message-title", en["result.approved.title"])
	if !shown(t, ctx, "#continue") || shown(t, ctx, "#retry") {
		t.Error("the approved page should offer Continue and no retry")
	}
	if !cameraOff(t, ctx) {
		t.Error("the camera was turned on before the applicant pressed Continue")
	}
	noMore(t, api.offers, "offer")
	click(t, ctx, "continue")
	if sdp := recv(t, api.offers, "offer"); !strings.Contains(sdp, "m=video") {
		t.Fatalf("Continue did not start a capture: offer %q", sdp)
	}
	api.mu.Lock()
	calls := api.nHandover
	api.mu.Unlock()
	if calls != 0 {
		t.Fatalf("the page asked for the assertion with the link alone (%d calls)", calls)
	}
	noMore(t, api.enrolled, "enrolment")
}

// TestBrowserModerationStates: an applicant who opens the link while a
// moderator has the case, after a rejection, after the hand-over window
// or after the hand-over is told so; the camera stays off and no capture
// is offered.
func TestBrowserModerationStates(t *testing.T) {
	en := loadDicts(t)["en"]
	browser := newBrowser(t, true)
	for _, tc := range []struct{ moderation, title string }{
		{web.ModerationPending, "result.review.title"},
		{web.ModerationRejected, "result.rejected.title"},
		{web.ModerationHandoverExpired, "result.handover_expired.title"},
		{web.ModerationHandedOver, "error.handed_over.title"},
	} {
		t.Run(tc.moderation, func(t *testing.T) {
			api := newFakeAPI(t, web.CapturePageData{Token: testToken, Lang: "en", ConsentAccepted: true, Moderation: tc.moderation,
				ReturnURL: "https://portal.example/back"}, http.StatusNoContent, refuse(500, nil))
			ctx := newTab(t, browser)
			do(t, ctx, "open page", chromedp.Navigate(api.URL+"/capture/"+testToken))
			waitText(t, ctx, "#message-title", en[tc.title])
			if !shown(t, ctx, "#return") || shown(t, ctx, "#retry") || shown(t, ctx, "#continue") {
				t.Error("the page should offer only the way back")
			}
			if !cameraOff(t, ctx) {
				t.Error("the camera was turned on")
			}
			noMore(t, api.offers, "offer")
		})
	}
	if err := web.CapturePage(io.Discard, web.CapturePageData{Token: testToken, Moderation: "maybe"}); !errors.Is(err, web.ErrInvalidPageData) {
		t.Errorf("unknown moderation state: %v, want ErrInvalidPageData", err)
	}
}
