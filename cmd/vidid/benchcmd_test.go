package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vidid/bench"
	"vidid/internal/testenv"
)

// `vidid bench --data --out` over two real identities, an unreadable image
// and a pair list: FTA is counted, the three files are written, a rerun
// reads the cache, and `bench compare` reads the reports.
func TestBenchCommand(t *testing.T) {
	data := testenv.DataDir(t)
	models := testenv.ModelRoot(t)
	dir := t.TempDir()
	faces := filepath.Join(dir, "faces")
	if err := os.MkdirAll(filepath.Join(faces, "broken"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"o4n-rick", "o4n-daryl"} {
		if err := os.Symlink(filepath.Join(data, "faces", p), filepath.Join(faces, p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(faces, "broken", "1.jpg"), []byte("not a jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	list := "1\to4n-rick/1.jpg\to4n-rick/2.jpg\n0\to4n-rick/1.jpg\to4n-daryl/1.jpg\n0\to4n-rick/2.jpg\tbroken/1.jpg\n"
	if err := os.WriteFile(filepath.Join(faces, "lfw-pairs.tsv"), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	out, cache := filepath.Join(dir, "out"), filepath.Join(dir, "cache")
	args := []string{"bench", "--data", dir, "--out", out, "--cache", cache, "--threads", "1", "--bootstrap", "20", "--models", models}
	code, stdout, errs := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout, errs)
	}
	r, err := bench.LoadReport(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Embedders) != 1 || r.Embedders[0].Faces == nil || r.Embedders[0].Pairs == nil || r.Liveness != nil {
		t.Fatalf("parts %+v", r.Dataset.Parts)
	}
	e := r.Embedders[0]
	// 9 images: 4 + 4 readable, 1 not; genuine: 6 pairs per identity;
	// impostors: one image each of 2 identities (the broken one has none).
	if f := e.Faces.FTA; f.Attempts != 9 || f.ByReason[bench.FTAUnreadable] != 1 || e.Faces.Genuine != 12 || e.Faces.Impostor != 1 {
		t.Errorf("faces: FTA %+v, %d genuine, %d impostor", f, e.Faces.Genuine, e.Faces.Impostor)
	}
	if e.Pairs.ExcludedPairs != 1 || e.Pairs.Genuine != 1 || e.Pairs.Impostor != 1 {
		t.Errorf("pairs %+v", e.Pairs)
	}
	if s := e.Timing["embed"]; s.Calls != 8 || !(s.P50 > 0 && s.P50 <= s.Max) {
		t.Errorf("embed timing %+v", s)
	}
	for _, f := range []string{"report.html", "scores.csv"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if !strings.Contains(stdout, "EER") {
		t.Errorf("summary: %s", stdout)
	}

	// The rerun reads every image from the cache.
	args[4] = filepath.Join(dir, "out2")
	if code, stdout, errs := runCLI(t, append(args, "--json")...); code != 0 {
		t.Fatalf("rerun exit %d: %s", code, errs)
	} else {
		var r2 bench.Report
		if err := json.Unmarshal([]byte(stdout), &r2); err != nil || r2.Embedders[0].Cached != 9 || r2.Dataset.Hash != r.Dataset.Hash {
			t.Errorf("rerun: %v, %d from cache", err, r2.Embedders[0].Cached)
		}
	}
	code, stdout, errs = runCLI(t, "bench", "compare", filepath.Join(out, "report.json"), filepath.Join(dir, "out2", "report.json"))
	if code != 0 || !strings.Contains(stdout, "onnx faces EER") || strings.Contains(stdout, "different data") {
		t.Errorf("compare exit %d: %s%s", code, stdout, errs)
	}
	if code, _, _ := runCLI(t, "bench", "compare", "only-one.json"); code != 2 {
		t.Errorf("compare with one file: exit %d, want 2", code)
	}
}

func TestBenchHelp(t *testing.T) {
	code, _, errs := runCLI(t, "bench", "--help")
	for _, want := range []string{"SYNOPSIS", "faces/<identity>", "Failure to acquire", "bench compare", "--max-impostors", "not measurable"} {
		if !strings.Contains(errs, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if code != 0 {
		t.Errorf("exit %d", code)
	}
}
