package register

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"vidid/idnum"
)

func TestSeedDemo(t *testing.T) {
	data := dataDir(t)
	repo, ctx := newRepo(t)
	subjects, err := DemoSubjects(data)
	if err != nil || len(subjects) == 0 {
		t.Fatalf("DemoSubjects = %v, %v; want the video subjects", subjects, err)
	}
	const limit = 25
	n, err := SeedDemo(ctx, repo, data, limit)
	if err != nil {
		t.Fatalf("SeedDemo: %v", err)
	}
	if want := limit + len(subjects) + 1; n != want || count(t, repo, ctx) != want {
		t.Fatalf("SeedDemo wrote %d, register has %d; want %d faces + %d subjects + the moderation demo", n, count(t, repo, ctx), limit, len(subjects))
	}
	if c, err := repo.Get(ctx, DemoModerationIIN()); err != nil || c.Surname != "MODERATION" {
		t.Errorf("the moderation demo citizen: %+v, %v", c.Surname, err)
	}

	list, err := repo.List(ctx, MaxListLimit, 0)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]CitizenSummary{}
	for _, c := range list {
		if err := idnum.ValidateIIN(c.IIN); err != nil {
			t.Errorf("seeded invalid IIN: %v", err)
		}
		byName[strings.TrimSpace(c.GivenName+" "+c.Surname)] = c
	}
	// Folder names → names, first image → register photo.
	for _, tc := range []struct{ name, photo string }{
		{"Amy", "faces/faceapi-amy/1.png"},
		{"Bona", "faces/gofacetd-bona/1.jpg"},
	} {
		s, ok := byName[tc.name]
		if !ok {
			t.Errorf("no %q among the first %d folders", tc.name, limit)
			continue
		}
		if serialOf(s.IIN) >= 9000 {
			t.Errorf("%s: face serial %d, want < 9000", tc.name, serialOf(s.IIN))
		}
		c, _ := repo.Get(ctx, s.IIN)
		if !bytes.Equal(c.Photo, photo(t, tc.photo)) {
			t.Errorf("%s: register photo is not %s", tc.name, tc.photo)
		}
	}
	for _, s := range subjects {
		c, err := repo.Get(ctx, DemoSubjectIIN(s))
		if err != nil {
			t.Errorf("subject %s not seeded under DemoSubjectIIN: %v", s, err)
			continue
		}
		if c.GivenName != "Demo" || c.Surname != strings.ToUpper(s) {
			t.Errorf("subject %s is %q %q, want Demo %s", s, c.GivenName, c.Surname, strings.ToUpper(s))
		}
		frames, _ := filepath.Glob(filepath.Join(data, "spoof", "bonafide", s+"-frames", "*.jpg"))
		slices.Sort(frames)
		if first, _ := os.ReadFile(frames[0]); !bytes.Equal(c.Photo, first) {
			t.Errorf("subject %s: register photo is not the first frame %s", s, filepath.Base(frames[0]))
		}
	}

	t.Run("second run changes nothing", func(t *testing.T) {
		var before time.Time
		repo.pool.QueryRow(ctx, `SELECT max(updated_at) FROM citizens`).Scan(&before)
		n2, err := SeedDemo(ctx, repo, data, limit)
		if err != nil || n2 != n {
			t.Fatalf("second SeedDemo = %d, %v; want %d", n2, err, n)
		}
		var after time.Time
		repo.pool.QueryRow(ctx, `SELECT max(updated_at) FROM citizens`).Scan(&after)
		if count(t, repo, ctx) != n || !after.Equal(before) {
			t.Errorf("second run: %d citizens, last update %v → %v; want %d and no update", count(t, repo, ctx), before, after, n)
		}
	})
	t.Run("bad data directory", func(t *testing.T) {
		if _, err := SeedDemo(ctx, repo, t.TempDir(), 0); err == nil || !strings.Contains(err.Error(), "faces") {
			t.Errorf("SeedDemo of an empty directory = %v, want an error about faces", err)
		}
		if _, err := SeedDemo(ctx, repo, data, -1); err == nil {
			t.Error("negative limit accepted")
		}
	})
}

// Every folder of the public data yields a usable register entry with its
// own stable IIN, whatever the limit.
func TestDemoEntriesAllFolders(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes every photo of the public data (seconds); skipped under -short")
	}
	data := dataDir(t)
	all, err := demoEntries(data, 0)
	if err != nil {
		t.Fatalf("demoEntries(all): %v", err)
	}
	folders := 0
	des, _ := os.ReadDir(filepath.Join(data, "faces"))
	for _, d := range des {
		if d.IsDir() {
			folders++
		}
	}
	subjects, _ := DemoSubjects(data)
	if len(all) != folders+len(subjects)+1 {
		t.Errorf("%d entries, want %d folders + %d subjects + the moderation demo", len(all), folders, len(subjects))
	}
	seen := map[string]string{}
	for _, e := range all {
		if other, dup := seen[e.c.IIN]; dup {
			t.Errorf("IIN %s given to %s and %s", e.c.IIN, other, e.where)
		}
		seen[e.c.IIN] = e.where
	}
	some, err := demoEntries(data, 40)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if some[i].c.IIN != all[i].c.IIN || some[i].where != all[i].where {
			t.Fatalf("entry %d: %s %s with limit 40, %s %s with all", i, some[i].where, some[i].c.IIN, all[i].where, all[i].c.IIN)
		}
	}
}

func TestDemoSubjectIIN(t *testing.T) {
	data := dataDir(t)
	subjects, err := DemoSubjects(data)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, s := range append(subjects, "s99-anyone", "") {
		iin := DemoSubjectIIN(s)
		if err := idnum.ValidateIIN(iin); err != nil {
			t.Errorf("DemoSubjectIIN(%q) = %s: %v", s, iin, err)
		}
		if serialOf(iin) < 9000 {
			t.Errorf("DemoSubjectIIN(%q) serial %d, want 9000–9999 (apart from face folders)", s, serialOf(iin))
		}
		if DemoSubjectIIN(s) != iin {
			t.Errorf("DemoSubjectIIN(%q) not stable", s)
		}
		if other, dup := seen[iin]; dup {
			t.Errorf("subjects %q and %q share %s", s, other, iin)
		}
		seen[iin] = s
	}
	// Each bona fide video names a seeded subject, so an end-to-end test can
	// open a session for the person in it.
	videos, _ := filepath.Glob(filepath.Join(data, "video", "bonafide", "*"))
	for _, v := range videos {
		base := filepath.Base(v)
		if strings.HasSuffix(base, ".md") || strings.HasSuffix(base, ".csv") {
			continue
		}
		if !slices.ContainsFunc(subjects, func(s string) bool { return strings.HasPrefix(base, s+"-") }) {
			t.Errorf("video %s has no seeded subject (subjects %v)", base, subjects)
		}
	}
}

func TestDemoName(t *testing.T) {
	for _, tc := range []struct{ folder, given, surname string }{
		{"lfw-Anthony_Fauci", "Anthony", "Fauci"},
		{"lfw-George_W_Bush", "George W", "Bush"},
		{"lfw-Catherine_Zeta-Jones", "Catherine", "Zeta-Jones"},
		{"lfw-Abdullah_al-Attiyah", "Abdullah", "al-Attiyah"},
		{"faceapi-amy", "", "Amy"},
		{"o4n-rick", "", "Rick"},
		{"gofacetd-chaeyeon", "", "Chaeyeon"},
		{"noprefix", "", "Noprefix"},
	} {
		given, surname := demoName(tc.folder)
		if given != tc.given || surname != tc.surname {
			t.Errorf("demoName(%q) = %q, %q; want %q, %q", tc.folder, given, surname, tc.given, tc.surname)
		}
	}
}

func TestFirstImage(t *testing.T) {
	data := dataDir(t)
	for _, tc := range []struct{ dir, want string }{
		{"faces/lfw-Angelina_Jolie", "3.jpg"}, // has 3, 4, 8, 9, 15, 16, 17
		{"faces/faceapi-amy", "1.png"},
		{"spoof/bonafide/s01-apfol-frames", "s01-apfol-real2-01.jpg"},
	} {
		got, err := firstImage(filepath.Join(data, tc.dir))
		if err != nil || filepath.Base(got) != tc.want {
			t.Errorf("firstImage(%s) = %s, %v; want %s", tc.dir, got, err, tc.want)
		}
	}
	if _, err := firstImage(t.TempDir()); err == nil {
		t.Error("firstImage of an empty folder succeeded")
	}
}
