package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vidid/api"
	"vidid/audit"
	"vidid/evidence"
	"vidid/idnum"
	"vidid/internal/pgtest"
	"vidid/internal/testenv"
	"vidid/moderation"
	"vidid/policy"
	"vidid/register"
	"vidid/rp"
	"vidid/session"
	"vidid/web"
)

// TestModeratorUI walks a moderator through the pages over HTTP, against
// the real queue on Postgres: sign in, see the queue, open a case (photos
// and frames), and decide, with the refusals a moderator can run into.
func TestModeratorUI(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	al, err := audit.New(audit.Config{SubjectKey: bytes.Repeat([]byte{9}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	clientID, _, _, err := rp.NewClients(pool).Create(ctx, "e-gov portal", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := session.NewPG(pool, session.Config{Logger: slog.New(slog.DiscardHandler)}, al)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := register.NewPG(pool, bytes.Repeat([]byte{1}, register.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := evidence.NewPG(pool, bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	photo, err := os.ReadFile(filepath.Join(testenv.DataDir(t), "faces", "lfw-Anthony_Fauci", "1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	frame, err := os.ReadFile(filepath.Join(testenv.DataDir(t), "faces", "lfw-Anthony_Fauci", "2.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	iin, _ := idnum.GenerateIIN(time.Date(1954, 12, 24, 0, 0, 0, 0, time.UTC), true, 7)
	if err := reg.Put(ctx, register.Citizen{IIN: iin, Surname: "Fauci", GivenName: "Anthony", Photo: photo}); err != nil {
		t.Fatal(err)
	}
	// startAttempt opens a session for the citizen (flagged after repeated
	// lockouts when escalated) and starts its first attempt.
	startAttempt := func(escalated bool) (session.Session, session.Attempt) {
		t.Helper()
		s, tok, err := sessions.Create(ctx, session.CreateRequest{ClientID: clientID, IIN: iin, CallbackURL: "http://127.0.0.1/cb", ReturnURL: "http://127.0.0.1/r"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `UPDATE sessions SET requires_moderation = $2 WHERE id = $1`, s.ID, escalated); err != nil {
			t.Fatal(err)
		}
		if err := sessions.RecordConsent(ctx, tok, "kk", true); err != nil {
			t.Fatal(err)
		}
		a, err := sessions.StartAttempt(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		return s, a
	}
	s, a := startAttempt(false)
	ref, err := ev.Save(ctx, a.ID, evidence.KindBest, [][]byte{frame})
	if err != nil {
		t.Fatal(err)
	}
	if s, err = sessions.FinishAttempt(ctx, a.ID, session.Result{Outcome: session.OutcomeNoMatch, Route: policy.RouteModerate, MatchScore: 0.68, Threshold: 0.705, EvidenceRef: ref}); err != nil || s.State != session.StateModeration {
		t.Fatalf("to moderation: %v, %v", s.State, err)
	}
	mods := moderation.NewModerators(pool, al)
	_, aliceToken, err := mods.Create(ctx, "Alice Moderator")
	if err != nil {
		t.Fatal(err)
	}
	_, bobToken, err := mods.Create(ctx, "Bob Moderator")
	if err != nil {
		t.Fatal(err)
	}
	q, err := moderation.NewQueue(pool, moderation.Config{FourEyes: []string{moderation.WhyRepeatedLockouts}}, sessions, reg, ev, al, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Config{PublicURL: "http://127.0.0.1"}, api.Deps{Moderation: q, Moderators: mods,
		ModerationPages: api.ModerationPages{Render: web.ModerationPage, Lang: web.ModerationLang, CSP: web.ModerationCSP}},
		nil, slog.New(slog.DiscardHandler), prometheus.NewRegistry(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	do := func(method, path string, form url.Values, hdr map[string]string) (*http.Response, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, ts.URL+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	expect := func(resp *http.Response, body string, status int, contains ...string) {
		t.Helper()
		if resp.StatusCode != status {
			t.Fatalf("%s %s: status %d, want %d\n%s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, body)
		}
		for _, s := range contains {
			if !strings.Contains(body, s) {
				t.Fatalf("%s %s: body lacks %q\n%s", resp.Request.Method, resp.Request.URL.Path, s, body)
			}
		}
	}
	casePath := "/moderation/cases/" + s.ID

	// Not signed in: pages send the browser to sign in; images are refused.
	resp, _ := do("GET", "/moderation", nil, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/moderation/login" {
		t.Fatalf("queue without signing in: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := do("GET", casePath+"/register-photo", nil, nil)
	expect(resp, body, http.StatusUnauthorized, `"unauthorized"`)
	resp, body = do("POST", "/moderation/login", url.Values{"token": {aliceToken + "x"}}, nil)
	expect(resp, body, http.StatusUnauthorized, "not valid")
	for _, hdr := range []map[string]string{
		{"Origin": "https://evil.example"},
		{"Origin": "null"}, // no-referrer page elsewhere
		{"Origin": "null", "Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
	} {
		resp, body = do("POST", "/moderation/login", url.Values{"token": {aliceToken}}, hdr)
		expect(resp, body, http.StatusForbidden, "other sites")
	}

	// What Chromium sends for the page's own form under a no-referrer policy.
	resp, _ = do("POST", "/moderation/login", url.Values{"token": {aliceToken}}, map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "vidid_moderator" {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/moderation" {
		t.Fatalf("session cookie = %+v", ck)
	}

	// Languages: the browser's preference, then a choice that is remembered.
	resp, body = do("GET", "/moderation/login", nil, map[string]string{"Accept-Language": "kk-KZ,ru;q=0.8"})
	expect(resp, body, http.StatusOK, `lang="kk"`, "Модератордың кіруі")
	resp, body = do("GET", "/moderation?lang=ru", nil, nil)
	expect(resp, body, http.StatusOK, `lang="ru"`, "Заявки, ожидающие решения", "Сходство чуть ниже порога")
	resp, body = do("GET", "/moderation", nil, map[string]string{"Accept-Language": "en"})
	expect(resp, body, http.StatusOK, `lang="ru"`)
	resp, body = do("GET", "/moderation?lang=en", nil, nil)
	expect(resp, body, http.StatusOK, `lang="en"`)

	resp, body = do("GET", "/moderation", nil, nil)
	expect(resp, body, http.StatusOK, "Alice Moderator", `id="stat-cases">1<`, "Just under the match threshold", "0.680", idnum.MaskIIN(iin), `href="`+casePath+`"`)
	if resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") ||
		resp.Header.Get("Referrer-Policy") != "same-origin" {
		t.Errorf("queue headers: %v", resp.Header)
	}
	if strings.Contains(body, iin) {
		t.Error("the queue shows a full IIN")
	}

	resp, body = do("GET", casePath, nil, nil)
	expect(resp, body, http.StatusOK, "Fauci Anthony", casePath+"/register-photo", casePath+"/attempts/1/best/0.jpg", "0.680 / 0.705", `action="`+casePath+`/decision"`, `<option value="not_live">Not a live person`, "None: this is the applicant&#39;s only session.")
	resp, body = do("GET", casePath+"/register-photo", nil, nil)
	if resp.StatusCode != http.StatusOK || body != string(photo) || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("register photo: %d, %d bytes, %v", resp.StatusCode, len(body), resp.Header)
	}
	resp, body = do("GET", casePath+"/attempts/1/best/0.jpg", nil, nil)
	if resp.StatusCode != http.StatusOK || body != string(frame) || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("frame: %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, body = do("GET", casePath+"/attempts/1/best/5.jpg", nil, nil)
	expect(resp, body, http.StatusNotFound, `"no_evidence"`)
	resp, body = do("GET", casePath+"/attempts/x/best/0.jpg", nil, nil)
	expect(resp, body, http.StatusBadRequest)

	// Bob (a tool with a bearer token) sees Alice's claim and cannot open it.
	bob := map[string]string{"Authorization": "Bearer " + bobToken}
	resp, body = do("GET", "/v1/moderation/cases", nil, bob)
	var list struct {
		Stats moderation.Stats
		Cases []moderation.CaseSummary
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || resp.StatusCode != 200 || len(list.Cases) != 1 || list.Cases[0].ClaimedBy != "Alice Moderator" || list.Stats.Cases != 1 {
		t.Fatalf("queue JSON: %d %s (%v)", resp.StatusCode, body, err)
	}
	resp, body = do("GET", casePath+"/attempts/1/best/0.jpg", nil, bob)
	expect(resp, body, http.StatusConflict, `"not_claimed"`)
	resp, body = do("GET", "/v1/moderation/cases", nil, map[string]string{"Authorization": "Bearer vmod_nope"})
	expect(resp, body, http.StatusUnauthorized)

	resp, body = do("POST", casePath+"/decision", url.Values{"decision": {"approve"}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
	expect(resp, body, http.StatusForbidden)
	resp, body = do("POST", casePath+"/decision", url.Values{"decision": {"reject"}, "reason": {"not_live"}, "note": {" "}}, nil)
	expect(resp, body, http.StatusBadRequest, "needs a note")
	resp, body = do("POST", casePath+"/decision", url.Values{"decision": {"reject"}, "note": {"a printed photo"}}, nil)
	expect(resp, body, http.StatusBadRequest, "needs a reason")
	resp, body = do("POST", casePath+"/decision", url.Values{"decision": {"maybe"}}, nil)
	expect(resp, body, http.StatusBadRequest, "approve or reject")
	if got, _ := sessions.Get(ctx, s.ID); got.State != session.StateModeration {
		t.Fatalf("a refused decision changed the session to %s", got.State)
	}

	resp, _ = do("POST", casePath+"/decision", url.Values{"decision": {"approve"}, "note": {"same person, glasses"}}, map[string]string{"Origin": ts.URL})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/moderation?done=approved" {
		t.Fatalf("approve: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got, _ := sessions.Get(ctx, s.ID); got.State != session.StateApproved {
		t.Fatalf("after approval the session is %s", got.State)
	}
	resp, body = do("GET", "/moderation?done=approved", nil, nil)
	expect(resp, body, http.StatusOK, "Case approved", "The queue is empty", `id="stat-cases">0<`)
	resp, body = do("GET", casePath, nil, nil)
	expect(resp, body, http.StatusConflict, "not waiting for a moderator")
	resp, body = do("GET", casePath+"/register-photo", nil, nil)
	expect(resp, body, http.StatusConflict, `"not_in_queue"`)

	resp, _ = do("POST", "/moderation/logout", url.Values{}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
	if resp, _ := do("GET", "/moderation", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("queue after signing out: %d", resp.StatusCode)
	}

	// The four-eyes rule on a case flagged after repeated lockouts: the
	// first approval puts it back in the queue; its giver cannot give the
	// second.
	s2, a2 := startAttempt(true)
	if _, err := sessions.FinishAttempt(ctx, a2.ID, session.Result{Outcome: session.OutcomeMatch, Route: policy.RouteIssue, MatchScore: 0.9, Threshold: 0.705}); err != nil {
		t.Fatal(err)
	}
	case2 := "/moderation/cases/" + s2.ID
	if resp, _ := do("POST", "/moderation/login", url.Values{"token": {aliceToken}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in again: %d", resp.StatusCode)
	}
	resp, body = do("GET", case2, nil, nil)
	expect(resp, body, http.StatusOK, "Matched after repeated lockouts")
	resp, _ = do("POST", case2+"/decision", url.Values{"decision": {"approve"}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/moderation?done=first_approval" {
		t.Fatalf("first approval: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = do("GET", "/moderation?done=first_approval", nil, nil)
	expect(resp, body, http.StatusOK, "First approval recorded", "approved once, by Alice Moderator")
	resp, body = do("GET", case2, nil, nil)
	expect(resp, body, http.StatusOK, "Alice Moderator has approved this case once")
	resp, body = do("POST", case2+"/decision", url.Values{"decision": {"approve"}}, nil)
	expect(resp, body, http.StatusConflict, "a second, different moderator must approve")
	if got, _ := sessions.Get(ctx, s2.ID); got.State != session.StateModeration {
		t.Fatalf("one moderator's two approvals decided the case: %s", got.State)
	}
}
