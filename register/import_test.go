package register

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const header = "iin,surname,given_name,patronymic,birth_date,photo\n"

// importDir writes manifest and the named photos (from the public data or
// testdata fixtures) into a temporary directory.
func importDir(t *testing.T, manifest string, photos map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range photos {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestImport(t *testing.T) {
	repo, ctx := newRepo(t)
	photos := map[string][]byte{
		"fauci.jpg":        photo(t, jpegFace),
		"amy.png":          photo(t, pngFace),
		"photos/bush.jpg":  photo(t, "faces/lfw-George_W_Bush/1.jpg"),
		"fauci-new.jpg":    photo(t, jpegFace2),
		"tiny.png":         fixture(t, "tiny-32px.png"),
		"not-an-image.jpg": fixture(t, "not-an-image.jpg"),
	}
	good := "\uFEFF" + header +
		"900101300017,Fauci,Anthony,,1990-01-01,fauci.jpg\n" +
		"010228612341,Ахметова,Әлия,Серікқызы,2001-02-28,amy.png\n" +
		"\"850615300061\",\"Bush\",\"George, W.\",,1985-06-15,photos/bush.jpg\n"

	n, err := Import(ctx, repo, importDir(t, good, photos))
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if n != 3 || count(t, repo, ctx) != 3 {
		t.Fatalf("imported %d, register has %d; want 3, 3", n, count(t, repo, ctx))
	}
	c, err := repo.Get(ctx, "010228612341")
	if err != nil || c.Surname != "Ахметова" || c.GivenName != "Әлия" || c.Patronymic != "Серікқызы" || c.PhotoType != "image/png" {
		t.Errorf("Kazakh row read back as %q %q %q %s (%v)", c.Surname, c.GivenName, c.Patronymic, c.PhotoType, err)
	}
	if c, _ := repo.Get(ctx, "850615300061"); c.GivenName != "George, W." || string(c.Photo) != string(photos["photos/bush.jpg"]) {
		t.Errorf("quoted row / photo in a subfolder: given name %q, %d photo bytes", c.GivenName, len(c.Photo))
	}
	before, _ := repo.Get(ctx, "900101300017")

	// Every bad manifest must leave the register exactly as it was.
	outside := filepath.Join(t.TempDir(), "outside.jpg")
	if err := os.WriteFile(outside, photos["fauci.jpg"], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		manifest string
		link     bool // add link.jpg → a photo outside the directory
		say      []string
	}{
		{"bad check digit", header +
			"900101300017,Fauci,Tony,,1990-01-01,fauci-new.jpg\n" +
			"010228612342,Ахметова,Әлия,,2001-02-28,amy.png\n",
			false, []string{"line 3", "check digit"}},
		{"duplicate IIN", header +
			"900101300017,Fauci,Tony,,1990-01-01,fauci-new.jpg\n" +
			"010228612341,Ахметова,Әлия,,2001-02-28,amy.png\n" +
			"900101300017,Fauci,Anthony,,1990-01-01,fauci.jpg\n",
			false, []string{"line 4", "repeats line 2"}},
		{"birth date disagrees with IIN", header + "900101300017,Fauci,Tony,,1990-01-02,fauci-new.jpg\n",
			false, []string{"line 2", "1990-01-02 disagrees"}},
		{"birth date format", header + "900101300017,Fauci,Tony,,01.01.1990,fauci-new.jpg\n",
			false, []string{"line 2", "not YYYY-MM-DD"}},
		{"photo missing", header + "900101300017,Fauci,Tony,,1990-01-01,nope.jpg\n",
			false, []string{"line 2", "nope.jpg does not exist"}},
		{"photo path escapes", header + "900101300017,Fauci,Tony,,1990-01-01,../outside.jpg\n",
			false, []string{"line 2", "inside the import directory"}},
		{"absolute photo path", header + "900101300017,Fauci,Tony,,1990-01-01," + outside + "\n",
			false, []string{"line 2", "inside the import directory"}},
		{"symlink out of the directory", header + "900101300017,Fauci,Tony,,1990-01-01,link.jpg\n",
			true, []string{"line 2", "link.jpg"}},
		{"photo too small", header + "900101300017,Fauci,Tony,,1990-01-01,tiny.png\n",
			false, []string{"line 2", "32x32"}},
		{"photo not an image", header + "900101300017,Fauci,Tony,,1990-01-01,not-an-image.jpg\n",
			false, []string{"line 2", "not a JPEG or PNG"}},
		{"no surname", header + "900101300017,,Tony,,1990-01-01,fauci-new.jpg\n",
			false, []string{"line 2", "surname is empty"}},
		{"several bad rows all listed", header +
			"900101300010,Fauci,Tony,,1990-01-01,fauci-new.jpg\n" +
			"010228612341,Ахметова,Әлия,,2001-02-28,amy.png\n" +
			"850615300061,Bush,George,,1985-06-15,tiny.png\n",
			false, []string{"2 bad rows", "line 2", "line 4"}},
		{"missing column", header + "900101300017,Fauci,Tony,1990-01-01,fauci-new.jpg\n",
			false, []string{"wrong number of fields"}},
		{"wrong header", "iin,surname,name,patronymic,birth_date,photo\n900101300017,Fauci,Tony,,1990-01-01,fauci-new.jpg\n",
			false, []string{"line 1", "header must be"}},
		{"header only", header, false, []string{"has no rows"}},
		{"empty file", "", false, []string{"is empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := importDir(t, tc.manifest, photos)
			if tc.link {
				if err := os.Symlink(outside, filepath.Join(dir, "link.jpg")); err != nil {
					t.Fatal(err)
				}
			}
			n, err := Import(ctx, repo, dir)
			if !errors.Is(err, ErrBadManifest) || n != 0 {
				t.Fatalf("Import = %d, %v; want 0, ErrBadManifest", n, err)
			}
			t.Log(err)
			for _, s := range tc.say {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error does not say %q:\n%v", s, err)
				}
			}
			if got := count(t, repo, ctx); got != 3 {
				t.Errorf("register has %d citizens after a refused import, want 3", got)
			}
			if after, _ := repo.Get(ctx, "900101300017"); after.GivenName != before.GivenName || after.PhotoSHA256 != before.PhotoSHA256 || !after.UpdatedAt.Equal(before.UpdatedAt) {
				t.Errorf("a refused import changed an existing citizen")
			}
		})
	}

	t.Run("no manifest", func(t *testing.T) {
		if _, err := Import(ctx, repo, t.TempDir()); err == nil || !strings.Contains(err.Error(), ManifestName) {
			t.Errorf("Import of a directory without %s = %v", ManifestName, err)
		}
	})

	t.Run("re-import with a new photo drops the cached embedding", func(t *testing.T) {
		if err := repo.PutEmbedding(ctx, "900101300017", "m1", before.PhotoSHA256, []float32{1, 2}); err != nil {
			t.Fatal(err)
		}
		dir := importDir(t, header+"900101300017,Fauci,Anthony,,1990-01-01,fauci-new.jpg\n", photos)
		if _, err := Import(ctx, repo, dir); err != nil {
			t.Fatal(err)
		}
		if _, _, err := repo.GetEmbedding(ctx, "900101300017", "m1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("embedding of the replaced photo: %v, want ErrNotFound", err)
		}
	})
}

// A failure while writing (here: a photo that vanishes or changes between
// validation and the write) rolls back the rows already written.
func TestWriteAllIsAllOrNothing(t *testing.T) {
	repo, ctx := newRepo(t)
	jpg, png := photo(t, jpegFace), photo(t, pngFace)
	mk := func(iin string, b []byte) entry {
		e, err := checkEntry(iin, Citizen{IIN: iin, Surname: "S"}, func() ([]byte, error) { return b, nil })
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, tc := range []struct {
		name string
		last func() ([]byte, error)
		want error
		say  string
	}{
		{"photo vanished", func() ([]byte, error) { return nil, os.ErrNotExist }, os.ErrNotExist, "850615300061"},
		{"photo changed", func() ([]byte, error) { return png, nil }, ErrBadPhoto, "changed while importing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es := []entry{mk("900101300017", jpg), mk("010228612341", png), mk("850615300061", jpg)}
			es[2].read = tc.last
			err := repo.writeAll(ctx, "import", es)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.say) {
				t.Fatalf("writeAll = %v, want %v mentioning %q", err, tc.want, tc.say)
			}
			if n := count(t, repo, ctx); n != 0 {
				t.Errorf("%d rows written by a failed batch, want 0", n)
			}
		})
	}
}
