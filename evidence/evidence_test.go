package evidence

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"vidid/audit"
	"vidid/idnum"
	"vidid/internal/pgtest"
	"vidid/rp"
	"vidid/session"
)

// attempt makes a real session and attempt row to hang evidence on.
func attempt(t *testing.T, ctx context.Context) (string, *PG, *PG) {
	t.Helper()
	pool := pgtest.New(t)
	clients := rp.NewClients(pool)
	id, _, _, err := clients.Create(ctx, "t", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	al, err := audit.New(audit.Config{SubjectKey: bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	st, err := session.NewPG(pool, session.Config{}, al)
	if err != nil {
		t.Fatal(err)
	}
	iin, _ := idnum.GenerateIIN(time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC), true, 5)
	ss, tok, err := st.Create(ctx, session.CreateRequest{ClientID: id, IIN: iin, CallbackURL: "http://127.0.0.1/cb", ReturnURL: "http://127.0.0.1/r"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RecordConsent(ctx, tok, "en", true); err != nil {
		t.Fatal(err)
	}
	att, err := st.StartAttempt(ctx, ss.ID)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewPG(pool, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewPG(pool, bytes.Repeat([]byte{8}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return att.ID, a, b
}

func TestSaveLoadPurge(t *testing.T) {
	ctx := context.Background()
	id, store, otherKey := attempt(t, ctx)
	frames := [][]byte{[]byte("\xff\xd8frame one"), []byte("\xff\xd8frame two")}
	ref, err := store.Save(ctx, id, KindBest, frames)
	if err != nil || ref == "" {
		t.Fatalf("Save: %q, %v", ref, err)
	}
	got, err := store.Load(ctx, id, KindBest)
	if err != nil || len(got) != 2 || !bytes.Equal(got[1], frames[1]) {
		t.Fatalf("Load: %q, %v", got, err)
	}
	var raw []byte
	if err := store.pool.QueryRow(ctx, `SELECT sealed FROM attempt_evidence WHERE attempt_id = $1 AND n = 0`, id).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("frame one")) {
		t.Fatal("frames are stored in clear")
	}
	if _, err := otherKey.Load(ctx, id, KindBest); !errors.Is(err, ErrSealed) {
		t.Fatalf("Load with another key: %v, want ErrSealed", err)
	}
	clip := [][]byte{[]byte("\xff\xd8clip 0"), []byte("\xff\xd8clip 1"), []byte("\xff\xd8clip 2")}
	if _, err := store.Save(ctx, id, KindClip, clip); err != nil {
		t.Fatal(err)
	}
	if got, err := store.Load(ctx, id, KindClip); err != nil || len(got) != 3 || !bytes.Equal(got[2], clip[2]) {
		t.Fatalf("Load clip: %q, %v", got, err)
	}
	if _, err := store.pool.Exec(ctx, `DELETE FROM attempt_evidence WHERE kind = 'clip'`); err != nil {
		t.Fatal(err)
	}
	// Swapping two rows' ciphertexts must not go unnoticed.
	if _, err := store.pool.Exec(ctx, `UPDATE attempt_evidence SET n = 1 - n + 10 WHERE attempt_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := store.pool.Exec(ctx, `UPDATE attempt_evidence SET n = n - 10 WHERE attempt_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Load(ctx, id, KindBest); !errors.Is(err, ErrSealed) {
		t.Fatalf("Load after swapping rows: %v, want ErrSealed", err)
	}
	if n, err := store.Purge(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("Purge(1h) deleted %d, %v", n, err)
	}
	if _, err := store.pool.Exec(ctx, `UPDATE attempt_evidence SET created_at = now() - interval '31 days'`); err != nil {
		t.Fatal(err)
	}
	if n, err := store.Purge(ctx, 30*24*time.Hour); err != nil || n != 2 {
		t.Fatalf("Purge(30d) deleted %d, %v", n, err)
	}
	if _, err := store.Load(ctx, id, KindBest); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load after purge: %v", err)
	}
}

// After a key rotation, evidence sealed under the old key still loads when
// the old key is given as a previous key, and new evidence uses the new one.
func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	id, old, _ := attempt(t, ctx)
	frames := [][]byte{[]byte("\xff\xd8old frame")}
	if _, err := old.Save(ctx, id, KindBest, frames); err != nil {
		t.Fatal(err)
	}
	newKey, oldKey := bytes.Repeat([]byte{9}, 32), bytes.Repeat([]byte{7}, 32)
	rotated, err := NewPG(old.pool, newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.Load(ctx, id, KindBest); err != nil || !bytes.Equal(got[0], frames[0]) {
		t.Fatalf("old evidence with the previous key: %q, %v", got, err)
	}
	clip := [][]byte{[]byte("\xff\xd8new clip")}
	if _, err := rotated.Save(ctx, id, KindClip, clip); err != nil {
		t.Fatal(err)
	}
	var keyID string
	if err := old.pool.QueryRow(ctx, `SELECT key_id FROM attempt_evidence WHERE attempt_id = $1 AND kind = 'clip'`, id).Scan(&keyID); err != nil || keyID != rotated.KeyID() || keyID == old.KeyID() {
		t.Fatalf("new evidence sealed under key %q (%v), want the new key %s", keyID, err, rotated.KeyID())
	}
	newOnly, err := NewPG(old.pool, newKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newOnly.Load(ctx, id, KindBest); !errors.Is(err, ErrSealed) || !strings.Contains(err.Error(), old.KeyID()) {
		t.Fatalf("old evidence without the previous key: %v, want ErrSealed naming %s", err, old.KeyID())
	}
	if _, err := NewPG(old.pool, newKey, []byte("short")); err == nil {
		t.Fatal("a short previous key was accepted")
	}
}
