package register

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"vidid/idnum"
)

const (
	jpegFace  = "faces/lfw-Anthony_Fauci/1.jpg"
	jpegFace2 = "faces/lfw-Anthony_Fauci/2.jpg"
	pngFace   = "faces/faceapi-amy/1.png"
)

func TestPutGet(t *testing.T) {
	repo, ctx := newRepo(t)
	jpg := photo(t, jpegFace)
	png := photo(t, pngFace)

	c := Citizen{IIN: "900101300017", Surname: " Fauci ", GivenName: "Anthony", Patronymic: "Stephen", Photo: jpg}
	if err := repo.Put(ctx, c); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := repo.Get(ctx, c.IIN)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	sum := sha256.Sum256(jpg)
	if got.Surname != "Fauci" || got.GivenName != "Anthony" || got.Patronymic != "Stephen" {
		t.Errorf("names = %q %q %q, want trimmed Fauci Anthony Stephen", got.Surname, got.GivenName, got.Patronymic)
	}
	if !bytes.Equal(got.Photo, jpg) || got.PhotoType != "image/jpeg" || got.PhotoSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("photo: %d bytes %s %s; want the %d bytes put, image/jpeg, their SHA-256", len(got.Photo), got.PhotoType, got.PhotoSHA256, len(jpg))
	}
	if got.BirthDate.Format(time.DateOnly) != "1990-01-01" {
		t.Errorf("BirthDate = %v, want the IIN's 1990-01-01", got.BirthDate)
	}
	if got.UpdatedAt.IsZero() {
		t.Error("UpdatedAt not set")
	}

	t.Run("identical Put changes nothing", func(t *testing.T) {
		if err := repo.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
		again, _ := repo.Get(ctx, c.IIN)
		if !again.UpdatedAt.Equal(got.UpdatedAt) {
			t.Errorf("UpdatedAt moved from %v to %v on an identical Put", got.UpdatedAt, again.UpdatedAt)
		}
	})
	t.Run("upsert replaces", func(t *testing.T) {
		c2 := Citizen{IIN: c.IIN, Surname: "Fauci", GivenName: "Tony", Photo: png, PhotoType: "image/png", BirthDate: date(1990, 1, 1)}
		if err := repo.Put(ctx, c2); err != nil {
			t.Fatal(err)
		}
		again, _ := repo.Get(ctx, c.IIN)
		if again.GivenName != "Tony" || again.Patronymic != "" || again.PhotoType != "image/png" || !bytes.Equal(again.Photo, png) {
			t.Errorf("after upsert: %q %q %s, want Tony, no patronymic, the PNG", again.GivenName, again.Patronymic, again.PhotoType)
		}
		if n := count(t, repo, ctx); n != 1 {
			t.Errorf("Count = %d, want 1", n)
		}
	})
	t.Run("unknown IIN", func(t *testing.T) {
		_, err := repo.Get(ctx, "010228612341")
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get = %v, want ErrNotFound", err)
		}
		if strings.Contains(err.Error(), "010228612341") {
			t.Errorf("error shows the full IIN: %v", err)
		}
	})
	t.Run("malformed IIN", func(t *testing.T) {
		if _, err := repo.Get(ctx, "900101300018"); !errors.Is(err, idnum.ErrInvalidIIN) {
			t.Fatalf("Get = %v, want idnum.ErrInvalidIIN", err)
		}
	})
}

func TestPutRejects(t *testing.T) {
	repo, ctx := newRepo(t)
	jpg := photo(t, jpegFace)
	valid := func(mod func(*Citizen)) Citizen {
		c := Citizen{IIN: "900101300017", Surname: "Fauci", GivenName: "Anthony", Photo: jpg}
		mod(&c)
		return c
	}
	oversize := append(slices.Clone(jpg), make([]byte, MaxPhotoBytes)...)
	for _, tc := range []struct {
		name string
		c    Citizen
		want error
		say  string
	}{
		{"bad IIN", valid(func(c *Citizen) { c.IIN = "900101300018" }), idnum.ErrInvalidIIN, "check digit"},
		{"birth date disagrees", valid(func(c *Citizen) { c.BirthDate = date(1990, 1, 2) }), ErrBadRecord, "1990-01-02 disagrees with the IIN's 1990-01-01"},
		{"no surname", valid(func(c *Citizen) { c.Surname = "  " }), ErrBadRecord, "surname is empty"},
		{"control character", valid(func(c *Citizen) { c.GivenName = "An\x00thony" }), ErrBadRecord, "control"},
		{"invalid UTF-8", valid(func(c *Citizen) { c.Patronymic = "\xff" }), ErrBadRecord, "UTF-8"},
		{"name too long", valid(func(c *Citizen) { c.Surname = strings.Repeat("Ә", 201) }), ErrBadRecord, "201 characters"},
		{"no photo", valid(func(c *Citizen) { c.Photo = nil }), ErrBadPhoto, "no photo"},
		{"over 10 MB", valid(func(c *Citizen) { c.Photo = oversize }), ErrBadPhoto, "at most 10485760"},
		{"not an image", valid(func(c *Citizen) { c.Photo = fixture(t, "not-an-image.jpg") }), ErrBadPhoto, "not a JPEG or PNG"},
		{"GIF", valid(func(c *Citizen) { c.Photo = fixture(t, "picture.gif") }), ErrBadPhoto, "not a JPEG or PNG"},
		{"32 px", valid(func(c *Citizen) { c.Photo = fixture(t, "tiny-32px.png") }), ErrBadPhoto, "32x32 pixels"},
		{"6001 px wide", valid(func(c *Citizen) { c.Photo = fixture(t, "wide-6001px.png") }), ErrBadPhoto, "6001x64"},
		{"header claims 7000 px", valid(func(c *Citizen) { c.Photo = fixture(t, "header-7000px.png") }), ErrBadPhoto, "7000x7000"},
		{"truncated JPEG", valid(func(c *Citizen) { c.Photo = fixture(t, "truncated.jpg") }), ErrBadPhoto, "corrupt jpeg"},
		{"declared type disagrees", valid(func(c *Citizen) { c.PhotoType = "image/png" }), ErrBadPhoto, "declared \"image/png\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := repo.Put(ctx, tc.c)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Put = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.say) {
				t.Errorf("error %q should say %q", err, tc.say)
			}
			if n := count(t, repo, ctx); n != 0 {
				t.Errorf("a refused Put left %d rows", n)
			}
		})
	}
}

func TestEmbeddings(t *testing.T) {
	repo, ctx := newRepo(t)
	jpg, jpg2 := photo(t, jpegFace), photo(t, jpegFace2)
	const iin = "900101300017"
	if err := repo.Put(ctx, Citizen{IIN: iin, Surname: "Fauci", Photo: jpg}); err != nil {
		t.Fatal(err)
	}
	c, _ := repo.Get(ctx, iin)
	vec := []float32{0.25, -1.5, 3e-7, 42}

	if _, _, err := repo.GetEmbedding(ctx, iin, "dlib-v1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetEmbedding before any Put = %v, want ErrNotFound", err)
	}
	if err := repo.PutEmbedding(ctx, iin, "dlib-v1", c.PhotoSHA256, vec); err != nil {
		t.Fatal(err)
	}
	if err := repo.PutEmbedding(ctx, iin, "sface-v2", c.PhotoSHA256, []float32{1}); err != nil {
		t.Fatal(err)
	}
	got, sha, err := repo.GetEmbedding(ctx, iin, "dlib-v1")
	if err != nil || !slices.Equal(got, vec) || sha != c.PhotoSHA256 {
		t.Fatalf("GetEmbedding = %v, %s, %v; want %v, %s", got, sha, err, vec, c.PhotoSHA256)
	}
	if got, _, _ := repo.GetEmbedding(ctx, iin, "sface-v2"); !slices.Equal(got, []float32{1}) {
		t.Errorf("second model's vector = %v, want [1]", got)
	}
	if _, _, err := repo.GetEmbedding(ctx, iin, "other-model"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown model: %v, want ErrNotFound", err)
	}

	t.Run("replacing the vector", func(t *testing.T) {
		if err := repo.PutEmbedding(ctx, iin, "dlib-v1", c.PhotoSHA256, []float32{7, 8}); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := repo.GetEmbedding(ctx, iin, "dlib-v1"); !slices.Equal(got, []float32{7, 8}) {
			t.Errorf("after re-Put: %v, want [7 8]", got)
		}
	})
	t.Run("same photo again keeps the cache", func(t *testing.T) {
		if err := repo.Put(ctx, Citizen{IIN: iin, Surname: "Fauci", GivenName: "Anthony", Photo: jpg}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := repo.GetEmbedding(ctx, iin, "dlib-v1"); err != nil {
			t.Errorf("embedding lost on a Put with the same photo: %v", err)
		}
	})
	t.Run("stale row counts as missing", func(t *testing.T) {
		// As if the photo changed between reading and caching.
		if _, err := repo.pool.Exec(ctx, `UPDATE register_embeddings SET photo_sha256 = repeat('a', 64) WHERE model = 'sface-v2'`); err != nil {
			t.Fatal(err)
		}
		if _, _, err := repo.GetEmbedding(ctx, iin, "sface-v2"); !errors.Is(err, ErrNotFound) {
			t.Errorf("embedding of another photo: %v, want ErrNotFound", err)
		}
	})
	t.Run("new photo drops the cache", func(t *testing.T) {
		if err := repo.Put(ctx, Citizen{IIN: iin, Surname: "Fauci", Photo: jpg2}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := repo.GetEmbedding(ctx, iin, "dlib-v1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("after a new photo: %v, want ErrNotFound", err)
		}
		var rows int
		if err := repo.pool.QueryRow(ctx, `SELECT count(*) FROM register_embeddings`).Scan(&rows); err != nil || rows != 0 {
			t.Errorf("%d embedding rows left after the photo changed (%v), want 0", rows, err)
		}
		err := repo.PutEmbedding(ctx, iin, "dlib-v1", c.PhotoSHA256, vec)
		if !errors.Is(err, ErrPhotoChanged) {
			t.Errorf("caching an embedding of the old photo: %v, want ErrPhotoChanged", err)
		}
	})

	cur := c.PhotoSHA256
	for _, tc := range []struct {
		name  string
		iin   string
		model string
		sha   string
		vec   []float32
		want  error
	}{
		{"unknown citizen", "010228612341", "m", cur, vec, ErrNotFound},
		{"bad IIN", "010228612342", "m", cur, vec, idnum.ErrInvalidIIN},
		{"no model", iin, "", cur, vec, ErrBadEmbedding},
		{"bad hash", iin, "m", "XYZ", vec, ErrBadEmbedding},
		{"empty vector", iin, "m", cur, nil, ErrBadEmbedding},
		{"NaN", iin, "m", cur, []float32{1, float32(math.NaN())}, ErrBadEmbedding},
		{"Inf", iin, "m", cur, []float32{float32(math.Inf(-1))}, ErrBadEmbedding},
		{"too long", iin, "m", cur, make([]float32, MaxEmbeddingLen+1), ErrBadEmbedding},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := repo.PutEmbedding(ctx, tc.iin, tc.model, tc.sha, tc.vec); !errors.Is(err, tc.want) {
				t.Errorf("PutEmbedding = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestListCount(t *testing.T) {
	repo, ctx := newRepo(t)
	jpg := photo(t, jpegFace)
	if n := count(t, repo, ctx); n != 0 {
		t.Fatalf("Count of an empty register = %d", n)
	}
	people := []struct{ surname, given string }{{"Bekov", "Marat"}, {"Abenov", "Daniyar"}, {"Abenov", "Aliya"}, {"Zhaksybekova", "Gulnar"}}
	var iins []string
	for i, p := range people {
		iin, err := idnum.GenerateIIN(date(1980+i, 3, 4), i%2 == 0, 100+i)
		if err != nil {
			t.Fatal(err)
		}
		iins = append(iins, iin)
		if err := repo.Put(ctx, Citizen{IIN: iin, Surname: p.surname, GivenName: p.given, Photo: jpg}); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, repo, ctx); n != 4 {
		t.Errorf("Count = %d, want 4", n)
	}
	var all []string
	for off := 0; off < 5; off += 2 {
		page, err := repo.List(ctx, 2, off)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page {
			all = append(all, s.Surname+" "+s.GivenName)
			if s.PhotoSHA256 == "" || s.PhotoType != "image/jpeg" || s.BirthDate.IsZero() {
				t.Errorf("summary %+v lacks photo metadata or birth date", s)
			}
		}
	}
	want := "[Abenov Aliya Abenov Daniyar Bekov Marat Zhaksybekova Gulnar]"
	if fmt.Sprint(all) != want {
		t.Errorf("pages = %v, want %s", all, want)
	}
	for _, lim := range []struct{ limit, offset int }{{0, 0}, {MaxListLimit + 1, 0}, {10, -1}} {
		if _, err := repo.List(ctx, lim.limit, lim.offset); err == nil {
			t.Errorf("List(%d, %d) accepted", lim.limit, lim.offset)
		}
	}
}
