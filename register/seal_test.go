package register

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"vidid/audit"
	"vidid/idnum"
	"vidid/internal/seal"
)

func TestSealerRoundTrip(t *testing.T) {
	s, err := NewPG(nil, testKey)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("a register photo")
	aad := photoAAD("900101300017", strings.Repeat("a", 64))
	sealed, err := s.sealValue(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, plain) {
		t.Fatal("sealed value contains the plaintext")
	}
	if again, _ := s.sealValue(plain, aad); bytes.Equal(again, sealed) {
		t.Fatal("two seals of one value are equal (nonce reused)")
	}
	got, err := s.open(sealed, aad, s.KeyID())
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %q, %v", got, err)
	}
	otherRaw := bytes.Repeat([]byte{1}, KeySize)
	other, _ := NewPG(nil, otherRaw)
	// A key that claims the right id but is another key.
	impostor, err := seal.New(otherRaw, s.KeyID())
	if err != nil {
		t.Fatal(err)
	}
	sameID := &PG{keys: seal.NewRing(impostor)}
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	for name, tc := range map[string]struct {
		s      *PG
		sealed []byte
		aad    []byte
		key    string
		want   string
	}{
		"other key id":          {s, sealed, aad, other.KeyID(), "sealed with key"},
		"other key, same id":    {sameID, sealed, aad, s.KeyID(), "authentication failed"},
		"other citizen":         {s, sealed, photoAAD("900101300025", strings.Repeat("a", 64)), s.KeyID(), "authentication failed"},
		"photo as an embedding": {s, sealed, embeddingAAD("900101300017", "m", strings.Repeat("a", 64)), s.KeyID(), "authentication failed"},
		"flipped bit":           {s, flipped, aad, s.KeyID(), "authentication failed"},
		"truncated":             {s, sealed[:10], aad, s.KeyID(), "too short"},
	} {
		if _, err := tc.s.open(tc.sealed, tc.aad, tc.key); !errors.Is(err, ErrSealed) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want ErrSealed saying %q", name, err, tc.want)
		}
	}
	if _, err := NewPG(nil, testKey[:16]); err == nil {
		t.Error("a 16-byte key was accepted")
	}
	if KeyID(testKey) == KeyID(otherRaw) || len(KeyID(testKey)) != 16 {
		t.Error("key ids do not tell keys apart")
	}
}

func TestVectorBytes(t *testing.T) {
	v := []float32{0, -1.5, 3.25e-7, 1e30}
	got, err := bytesVector(vectorBytes(v))
	if err != nil || len(got) != len(v) {
		t.Fatalf("%v, %v", got, err)
	}
	for i := range v {
		if got[i] != v[i] {
			t.Fatalf("component %d: %v, want %v", i, got[i], v[i])
		}
	}
	for _, b := range [][]byte{nil, {1, 2, 3}, make([]byte, 4*(MaxEmbeddingLen+1))} {
		if _, err := bytesVector(b); !errors.Is(err, ErrSealed) {
			t.Errorf("%d bytes: err = %v", len(b), err)
		}
	}
}

// Photos and embeddings are sealed in the database, open only with the
// register key, and cannot be moved between citizens.
func TestSealedAtRest(t *testing.T) {
	repo, ctx := newRepo(t)
	jpg := photo(t, jpegFace)
	other, err := idnum.GenerateIIN(date(1990, 1, 1), true, 2)
	if err != nil {
		t.Fatal(err)
	}
	a := Citizen{IIN: "900101300017", Surname: "Fauci", Photo: jpg}
	b := Citizen{IIN: other, Surname: "Other", Photo: photo(t, jpegFace2)}
	for _, c := range []Citizen{a, b} {
		if err := repo.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := repo.Get(ctx, a.IIN)
	if err != nil || !bytes.Equal(got.Photo, jpg) {
		t.Fatalf("Get: %d bytes, %v", len(got.Photo), err)
	}
	vec := []float32{0.25, -0.5, 0.125}
	if err := repo.PutEmbedding(ctx, a.IIN, "m@1", got.PhotoSHA256, vec); err != nil {
		t.Fatal(err)
	}

	var raw, rawVec []byte
	var key, vecKey string
	if err := repo.pool.QueryRow(ctx, `SELECT c.photo, c.photo_key, e.vec, e.vec_key FROM citizens c JOIN register_embeddings e USING (iin) WHERE iin = $1`, a.IIN).
		Scan(&raw, &key, &rawVec, &vecKey); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, jpg[:64]) || bytes.HasPrefix(raw, []byte{0xff, 0xd8}) || len(raw) != len(jpg)+28 {
		t.Errorf("the stored photo (%d bytes) is not sealed", len(raw))
	}
	if bytes.Contains(rawVec, vectorBytes(vec)) || key != KeyID(testKey) || vecKey != key {
		t.Errorf("embedding not sealed, or key ids %q %q", key, vecKey)
	}

	if err := repo.CheckKey(ctx); err != nil {
		t.Errorf("CheckKey with the right key: %v", err)
	}
	t.Run("another key", func(t *testing.T) {
		other, err := NewPG(repo.pool, bytes.Repeat([]byte{7}, KeySize))
		if err != nil {
			t.Fatal(err)
		}
		// 2 photos and 1 embedding sealed under the other key.
		if err := other.CheckKey(ctx); !errors.Is(err, ErrSealed) || !strings.Contains(err.Error(), key+" (3 rows)") || !strings.Contains(err.Error(), other.KeyID()) {
			t.Errorf("CheckKey with another key: %v", err)
		}
		if _, err := other.Get(ctx, a.IIN); !errors.Is(err, ErrSealed) || !strings.Contains(err.Error(), key) {
			t.Errorf("Get: err = %v, want ErrSealed naming key %s", err, key)
		}
		if _, _, err := other.GetEmbedding(ctx, a.IIN, "m@1"); !errors.Is(err, ErrSealed) {
			t.Errorf("GetEmbedding: err = %v, want ErrSealed", err)
		}
	})
	t.Run("photo moved to another citizen", func(t *testing.T) {
		tx, err := repo.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		// b gets a's sealed photo and hash: the ciphertext is bound to a's IIN.
		if _, err := tx.Exec(ctx, `UPDATE citizens SET (photo, photo_sha256) = (SELECT photo, photo_sha256 FROM citizens WHERE iin = $1) WHERE iin = $2`, a.IIN, b.IIN); err != nil {
			t.Fatal(err)
		}
		var moved []byte
		var sha string
		if err := tx.QueryRow(ctx, `SELECT photo, photo_sha256 FROM citizens WHERE iin = $1`, b.IIN).Scan(&moved, &sha); err != nil {
			t.Fatal(err)
		}
		if _, err := repo.open(moved, photoAAD(b.IIN, sha), key); !errors.Is(err, ErrSealed) {
			t.Errorf("a photo moved to another citizen opened: %v", err)
		}
	})
	t.Run("altered in the database", func(t *testing.T) {
		if _, err := repo.pool.Exec(ctx, `UPDATE citizens SET photo = set_byte(photo, 39, get_byte(photo, 39) # 255) WHERE iin = $1`, a.IIN); err != nil {
			t.Fatal(err)
		}
		if _, err := repo.Get(ctx, a.IIN); !errors.Is(err, ErrSealed) {
			t.Errorf("Get of an altered photo: err = %v, want ErrSealed", err)
		}
	})
}

// Photos written in the clear before migration 008 still read, and
// Reseal seals them once.
func TestReseal(t *testing.T) {
	repo, ctx := newRepo(t)
	jpg := photo(t, jpegFace)
	c := Citizen{IIN: "900101300017", Surname: "Fauci", Photo: jpg}
	if err := repo.Put(ctx, c); err != nil {
		t.Fatal(err)
	}
	// Make it a pre-008 row: the photo in the clear, no key.
	if _, err := repo.pool.Exec(ctx, `UPDATE citizens SET photo = $2, photo_key = NULL WHERE iin = $1`, c.IIN, jpg); err != nil {
		t.Fatal(err)
	}
	if got, err := repo.Get(ctx, c.IIN); err != nil || !bytes.Equal(got.Photo, jpg) {
		t.Fatalf("Get of a clear photo: %v", err)
	}
	n, err := repo.Reseal(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Reseal = %d, %v; want 1", n, err)
	}
	var raw []byte
	var key *string
	if err := repo.pool.QueryRow(ctx, `SELECT photo, photo_key FROM citizens WHERE iin = $1`, c.IIN).Scan(&raw, &key); err != nil {
		t.Fatal(err)
	}
	if key == nil || *key != repo.KeyID() || bytes.HasPrefix(raw, []byte{0xff, 0xd8}) {
		t.Fatalf("row not sealed: key %v", key)
	}
	if got, err := repo.Get(ctx, c.IIN); err != nil || !bytes.Equal(got.Photo, jpg) {
		t.Fatalf("Get after sealing: %v", err)
	}
	if n, err := repo.Reseal(ctx); err != nil || n != 0 {
		t.Fatalf("second Reseal = %d, %v; want 0", n, err)
	}
	// A clear photo that no longer matches its hash is refused, not sealed.
	if _, err := repo.pool.Exec(ctx, `UPDATE citizens SET photo = $2, photo_key = NULL WHERE iin = $1`, c.IIN, jpg[:len(jpg)-1]); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Reseal(ctx); !errors.Is(err, ErrSealed) {
		t.Fatalf("Reseal of a mismatching photo: %v", err)
	}
	if _, err := repo.Get(ctx, c.IIN); !errors.Is(err, ErrSealed) {
		t.Fatalf("Get of a mismatching clear photo: %v", err)
	}
}

// Rotating the register key: with the old key as a previous key everything
// still opens, Reseal moves every photo to the new key and drops the
// embeddings under the old one, and afterwards the old key is not needed.
func TestKeyRotation(t *testing.T) {
	repo, ctx := newRepo(t) // sealed under testKey
	jpg := photo(t, jpegFace)
	c := Citizen{IIN: "900101300017", Surname: "Fauci", Photo: jpg}
	if err := repo.Put(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := repo.Get(ctx, c.IIN)
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.PutEmbedding(ctx, c.IIN, "m@1", got.PhotoSHA256, []float32{1, 2}); err != nil {
		t.Fatal(err)
	}
	newKey := bytes.Repeat([]byte{0x77}, KeySize)

	onlyNew, err := NewPG(repo.pool, newKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := onlyNew.CheckKey(ctx); !errors.Is(err, ErrSealed) {
		t.Fatalf("new key without the previous one: CheckKey = %v, want ErrSealed", err)
	}
	rotating, err := NewPG(repo.pool, newKey, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := rotating.CheckKey(ctx); err != nil {
		t.Fatalf("CheckKey during the rotation: %v", err)
	}
	if g, err := rotating.Get(ctx, c.IIN); err != nil || !bytes.Equal(g.Photo, jpg) {
		t.Fatalf("Get of a photo under the previous key: %v", err)
	}
	if n, err := rotating.Reseal(ctx); err != nil || n != 1 {
		t.Fatalf("Reseal = %d, %v; want 1", n, err)
	}
	var stale int
	if err := repo.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM citizens WHERE photo_key <> $1) + (SELECT count(*) FROM register_embeddings)`,
		KeyID(newKey)).Scan(&stale); err != nil || stale != 0 {
		t.Fatalf("%d rows still under the old key (%v)", stale, err)
	}
	if err := onlyNew.CheckKey(ctx); err != nil {
		t.Fatalf("after the rotation, the new key alone: %v", err)
	}
	if g, err := onlyNew.Get(ctx, c.IIN); err != nil || !bytes.Equal(g.Photo, jpg) {
		t.Fatalf("Get after the rotation: %v", err)
	}
	if err := repo.CheckKey(ctx); !errors.Is(err, ErrSealed) {
		t.Fatalf("the old key after the rotation: CheckKey = %v, want ErrSealed", err)
	}
	if _, err := NewPG(repo.pool, newKey, testKey[:8]); err == nil {
		t.Fatal("a short previous key was accepted")
	}
}

// With an audit log, an import and a reseal each leave one record in the
// same transaction, without IINs; a failed import leaves none.
func TestRegisterAudit(t *testing.T) {
	repo, ctx := newRepo(t)
	l, err := audit.New(audit.Config{SubjectKey: bytes.Repeat([]byte{3}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	repo.WithAudit(l)
	jpg := photo(t, jpegFace)
	e, err := checkEntry("900101300017", Citizen{IIN: "900101300017", Surname: "Fauci"}, func() ([]byte, error) { return jpg, nil })
	if err != nil {
		t.Fatal(err)
	}
	es := []entry{e}
	if err := repo.writeAll(ctx, "import", es); err != nil {
		t.Fatal(err)
	}
	bad := []entry{{c: es[0].c, read: func() ([]byte, error) { return nil, os.ErrNotExist }}}
	if err := repo.writeAll(ctx, "import", bad); err == nil {
		t.Fatal("a failing import succeeded")
	}
	rotated, err := NewPG(repo.pool, bytes.Repeat([]byte{0x66}, KeySize), testKey)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := rotated.WithAudit(l).Reseal(ctx); err != nil || n != 1 {
		t.Fatalf("Reseal = %d, %v", n, err)
	}
	rows, err := repo.pool.Query(ctx, `SELECT kind, data::text FROM audit_log ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var k, d string
		if err := rows.Scan(&k, &d); err != nil {
			t.Fatal(err)
		}
		got = append(got, k+" "+d)
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "register_written") || !strings.Contains(got[0], `"citizens": 1`) ||
		!strings.HasPrefix(got[1], "register_resealed") || !strings.Contains(got[1], KeyID(testKey)) {
		t.Fatalf("audit records %q", got)
	}
	for _, r := range got {
		if strings.Contains(r, "900101300017") {
			t.Errorf("an IIN in the audit log: %s", r)
		}
	}
	if rep, err := audit.Verify(ctx, repo.pool); err != nil || rep.Records != 2 {
		t.Fatalf("audit chain: %+v, %v", rep, err)
	}
}
