//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/idnum"
	"vidid/internal/browsertest"
	"vidid/internal/testenv"
	"vidid/store"
)

// TestModerationApproval is the moderated path end to end: the register
// photo of the applicant shows two people, so the engine cannot decide and
// the session goes to the moderation queue with the real frames of the
// capture; a moderator signs in, opens the case, sees the register photo
// and the captured frames, and approves; the applicant opens the same link
// again, continues, and the CA issues a certificate for the moderator's
// (pvr) assertion.
func TestModerationApproval(t *testing.T) {
	ctx := context.Background()
	caAddr := freePort(t)
	// The passive check stays off here: the other person's hand-over
	// capture (s09's bona fide clip, digitally zoomed) scores 0.777 on the
	// minifasnet cue over 33 frames, under its 0.8, so it would be refused
	// as liveness_failed before the approved frames are compared, which is
	// what this test is about.
	sys := start(t, append([]string{"--challenges", "0", "--policy-override", "liveness.minifasnet.mode=off",
		"--ca-url", "http://" + caAddr}, recordCamera...)...)
	caBase := startCA(t, sys.db, caAddr, sys.base)

	// The citizen: a register photo with two faces in it.
	photo, err := os.ReadFile(filepath.Join(testenv.DataDir(t), "spoof", "multi-face", "s09-zubair-frames", "s09-zubair-fake-01.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	born := time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC)
	iin, err := idnum.GenerateIIN(born, false, 4242)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "photo.jpg"), photo, 0o600); err != nil {
		t.Fatal(err)
	}
	manifest := "iin,surname,given_name,patronymic,birth_date,photo\n" + iin + ",Seitkali,Aliya,,1990-05-17,photo.jpg\n"
	if err := os.WriteFile(filepath.Join(dir, "manifest.csv"), []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	vidid(t, "register", "import", "--db", sys.db, "--secrets", sys.secrets, dir)
	var mod struct{ ID, Token string }
	if err := json.Unmarshal([]byte(vidid(t, "moderator", "add", "--name", "Erlan Moderator", "--json", "--db", sys.db, "--secrets", sys.secrets)), &mod); err != nil || mod.Token == "" {
		t.Fatalf("moderator add: %+v %v", mod, err)
	}

	// The applicant's capture: the engine cannot use the register photo.
	browserCtx := browser(t, approachVideo(t), false)
	capURL := sys.session(t, iin)
	open(t, browserCtx, capURL, false)
	if outcome, reason := waitAttempt(t, sys.db, 90*time.Second); reason != "register_photo_unusable" {
		t.Fatalf("attempt %s/%s, want register_photo_unusable", outcome, reason)
	}
	if !waitFor(t, browserCtx, `document.getElementById('message-title').textContent.includes('review')`, 15*time.Second) {
		t.Fatalf("the page does not say the application went for review: %q", text(browserCtx, "#message"))
	}
	pool, err := store.Open(ctx, sys.db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var sessionID, state string
	if err := pool.QueryRow(ctx, `SELECT id::text, status FROM sessions WHERE iin = $1`, iin).Scan(&sessionID, &state); err != nil || state != "moderation" {
		t.Fatalf("session %s is %q (%v), want moderation", sessionID, state, err)
	}

	// The moderator, in a browser of their own: sign in, the queue, the case.
	casePath := "/moderation/cases/" + sessionID
	modCtx, _ := browsertest.Start(t, browsertest.Options{Width: 1280, Height: 1000})
	if err := chromedp.Do(modCtx, chromedp.Navigate(sys.base+"/moderation"), chromedp.WaitVisible(chromedp.ID("token"))); err != nil {
		t.Fatalf("sign-in page: %v", err)
	}
	if err := chromedp.Do(modCtx, chromedp.SendKeys(chromedp.ID("token"), mod.Token), chromedp.Submit(chromedp.ID("token"))); err != nil {
		t.Fatal(err)
	}
	if !waitFor(t, modCtx, `!!document.querySelector('a[href="`+casePath+`"]') && document.body.textContent.includes('Register photo missing or unusable')`, 15*time.Second) {
		t.Fatalf("the queue does not list the case: %q", text(modCtx, "main"))
	}
	shot(t, modCtx, "moderation-queue")
	if err := chromedp.Do(modCtx, chromedp.Click(`a[href="`+casePath+`"]`, chromedp.NodeVisible)); err != nil {
		t.Fatal(err)
	}
	// The register photo and the captured frames are shown (images loaded).
	if !waitFor(t, modCtx, `document.images.length >= 2 && Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)
		&& !!document.querySelector('img[src="`+casePath+`/register-photo"]') && !!document.querySelector('img[src="`+casePath+`/attempts/1/best/0.jpg"]')`, 15*time.Second) {
		t.Fatalf("the case page does not show the photos: %q", text(modCtx, "main"))
	}
	if !strings.Contains(text(modCtx, "main"), "Seitkali Aliya") {
		t.Errorf("the case page does not name the citizen: %q", text(modCtx, "main"))
	}
	shot(t, modCtx, "moderation-case")

	// The same moderator's session from a script: the images are the
	// register's and the capture's.
	jar, _ := cookiejar.New(nil)
	mc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	get := func(path string) (int, []byte) {
		t.Helper()
		resp, err := mc.Get(sys.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	resp, err := mc.PostForm(sys.base+"/moderation/login", url.Values{"token": {mod.Token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code, got := get(casePath + "/register-photo"); code != 200 || !bytes.Equal(got, photo) {
		t.Fatalf("register photo: %d, %d bytes", code, len(got))
	}
	code, frame := get(casePath + "/attempts/1/best/0.jpg")
	if code != 200 {
		t.Fatalf("best frame: %d %s", code, frame)
	}
	img, err := jpeg.Decode(bytes.NewReader(frame))
	if err != nil || img.Bounds().Dx() < 320 {
		t.Fatalf("best frame is not a captured JPEG: %v (%v)", img, err)
	}

	// The decision, through the page's form.
	if err := chromedp.Do(modCtx,
		chromedp.Click(`input[name=decision][value=approve]`, chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.ID("note"), "the applicant is the left person in the register photo"),
		chromedp.Submit(chromedp.ID("note")),
	); err != nil {
		t.Fatal(err)
	}
	if !waitFor(t, modCtx, `document.body.textContent.includes('Case approved') && document.body.textContent.includes('The queue is empty')`, 15*time.Second) {
		t.Fatalf("after approving: %q", text(modCtx, "main"))
	}

	token := strings.TrimPrefix(capURL[strings.LastIndex(capURL, "/capture/"):], "/capture/")
	handoverAlone := func(when string) {
		t.Helper()
		resp, err := http.Post(sys.base+"/v1/capture/"+token+"/handover", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Error string }
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || e.Error != "capture_required" {
			t.Fatalf("%s: the token alone got HTTP %d %q, want 403 capture_required", when, resp.StatusCode, e.Error)
		}
	}
	assertions := func() int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE kind = 'assertion_issued' AND session_id = $1::uuid`, sessionID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// The capture link alone yields nothing.
	handoverAlone("after the approval")

	// After the hand-over window the page says so, and no capture starts.
	if _, err := pool.Exec(ctx, `UPDATE sessions SET decided_at = decided_at - interval '25 hours' WHERE id = $1::uuid`, sessionID); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(browserCtx, chromedp.Navigate(capURL+"?lang=en")); err != nil {
		t.Fatal(err)
	}
	if !waitFor(t, browserCtx, `document.getElementById('message-title').textContent.includes('time to finish has passed')`, 15*time.Second) {
		t.Fatalf("after the window the page does not say so: %q", text(browserCtx, "#message"))
	}
	if n := attemptCount(t, pool, sessionID); n != 1 {
		t.Fatalf("%d attempts after the window, want only the first", n)
	}
	if _, err := pool.Exec(ctx, `UPDATE sessions SET decided_at = clock_timestamp() WHERE id = $1::uuid`, sessionID); err != nil {
		t.Fatal(err)
	}

	// Someone else holding the link: their live capture is refused.
	otherCtx := browser(t, approachVideoOf(t, "s09-zubair-real.webm"), false)
	if err := chromedp.Do(otherCtx, chromedp.Navigate(capURL+"?lang=en")); err != nil {
		t.Fatal(err)
	}
	if !waitFor(t, otherCtx, `document.getElementById('message-title').textContent.includes('moderator has confirmed')`, 15*time.Second) {
		t.Fatalf("the page does not offer the check: %q", text(otherCtx, "#message"))
	}
	if err := chromedp.Do(otherCtx, chromedp.Click(chromedp.ID("continue"), chromedp.NodeVisible)); err != nil {
		t.Fatal(err)
	}
	if outcome, reason := waitAttemptN(t, pool, sessionID, 2, 90*time.Second); outcome != "no_match" {
		t.Fatalf("another person's hand-over capture: %s/%s, want no_match", outcome, reason)
	}
	if v := sameVerdict(t, sys.db); v.DecidedBy != "handover:approved_frames" {
		t.Fatalf("another person's capture decided by %s", v.DecidedBy)
	}
	if !waitFor(t, otherCtx, `!document.getElementById('retry').hidden`, 15*time.Second) {
		t.Fatalf("the refused capture's page: %q", text(otherCtx, "#message"))
	}
	if n := assertions(); n != 0 {
		t.Fatalf("%d assertions issued for another person", n)
	}

	// The applicant comes back by the same link: a short live capture,
	// then on to the CA.
	if err := chromedp.Do(browserCtx, chromedp.Navigate(capURL+"?lang=en")); err != nil {
		t.Fatal(err)
	}
	if !waitFor(t, browserCtx, `document.getElementById('message-title').textContent.includes('moderator has confirmed')`, 15*time.Second) {
		t.Fatalf("the page does not offer to continue: %q", text(browserCtx, "#message"))
	}
	if err := chromedp.Do(browserCtx, chromedp.Click(chromedp.ID("continue"), chromedp.NodeVisible)); err != nil {
		t.Fatal(err)
	}
	if outcome, reason := waitAttemptN(t, pool, sessionID, 3, 90*time.Second); outcome != "match" {
		t.Fatalf("the applicant's hand-over capture: %s/%s, want match", outcome, reason)
	}
	if v := sameVerdict(t, sys.db); v.DecidedBy != "handover" {
		t.Fatalf("the applicant's capture decided by %s", v.DecidedBy)
	}
	if !waitFor(t, browserCtx, `location.href.startsWith('`+caBase+`') && !!document.getElementById('password')`, 30*time.Second) {
		t.Fatalf("not on the CA's password page: %q", text(browserCtx, "body"))
	}
	const password = "Moderated 2026 ok"
	p12 := keyStore(t, browserCtx, password, "")
	p12Path := filepath.Join(t.TempDir(), iin+".p12")
	if err := os.WriteFile(p12Path, p12, 0o600); err != nil {
		t.Fatal(err)
	}
	subj, err := exec.Command("sh", "-c", fmt.Sprintf("openssl pkcs12 -in %s -passin pass:%q -nokeys -clcerts | openssl x509 -noout -subject -nameopt RFC2253", p12Path, password)).CombinedOutput()
	if err != nil || !strings.Contains(string(subj), "IIN"+iin) {
		t.Fatalf("certificate subject %q (%v) does not name IIN%s", subj, err, iin)
	}

	// On record: the opening, the decision, one pvr assertion, the
	// certificate, the relying party's callback; the link alone still gets
	// nothing, and the page says the approval was used.
	for kind, where := range map[string]string{
		"case_opened":         `data->>'moderator_id' = '` + mod.ID + `'`,
		"moderation_decision": `(data->>'approved')::boolean AND data->>'moderator_id' = '` + mod.ID + `'`,
		"assertion_issued":    `data->>'method' = 'pvr'`,
		"certificate_issued":  `true`,
	} {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE kind = $1 AND session_id = $2::uuid AND `+where, kind, sessionID).Scan(&n); err != nil || n != 1 {
			t.Errorf("audit log: %d %s records (%v), want 1", n, kind, err)
		}
	}
	var callbacks int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM rp_callbacks WHERE session_id = $1::uuid AND convert_from(body, 'UTF8') LIKE '%"approved"%'`, sessionID).Scan(&callbacks); err != nil || callbacks != 1 {
		t.Errorf("approved callbacks to the relying party: %d (%v)", callbacks, err)
	}
	handoverAlone("after the hand-over")
	if err := chromedp.Do(browserCtx, chromedp.Navigate(capURL+"?lang=en")); err != nil {
		t.Fatal(err)
	}
	if !waitFor(t, browserCtx, `document.getElementById('message-title').textContent.includes('already been used')`, 15*time.Second) {
		t.Fatalf("after the hand-over the link says: %q", text(browserCtx, "#message"))
	}
	if out := vidid(t, "audit", "verify", "--db", sys.db); !strings.HasPrefix(out, "intact") {
		t.Fatalf("audit verify: %s", out)
	}
}

// attemptCount counts a session's attempts.
func attemptCount(t *testing.T, pool *pgxpool.Pool, sessionID string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM session_attempts WHERE session_id = $1::uuid`, sessionID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitAttemptN waits until a session's n-th attempt has a result.
func waitAttemptN(t *testing.T, pool *pgxpool.Pool, sessionID string, n int, within time.Duration) (string, string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		var outcome, reason string
		err := pool.QueryRow(context.Background(), `SELECT coalesce(outcome, ''), coalesce(reason, '') FROM session_attempts
			WHERE session_id = $1::uuid AND n = $2 AND finished_at IS NOT NULL`, sessionID, n).Scan(&outcome, &reason)
		if err == nil {
			return outcome, reason
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("attempt %d of session %s has no result after %s", n, sessionID, within)
	return "", ""
}
