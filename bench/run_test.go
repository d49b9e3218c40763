package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"vidid/dataset"
	"vidid/engine"
)

// fakeAcquirer reads the tiny data set's files: "vec x y ..." is a face
// with that embedding, "live p" a face with p(live) p, "multi" two faces,
// anything else no face. Stage times are fixed.
type fakeAcquirer struct{ id string }

func (f fakeAcquirer) ID() string { return f.id }

func (f fakeAcquirer) Acquire(ctx context.Context, path string) (Acquisition, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Acquisition{}, err
	}
	fields := strings.Fields(string(b))
	a := Acquisition{Model: f.id, Metric: engine.Cosine, QualityOK: true, Stages: map[string]float64{"analyze": 10, "embed": 20}}
	switch {
	case len(fields) > 1 && fields[0] == "vec":
		for _, s := range fields[1:] {
			x, _ := strconv.ParseFloat(s, 32)
			a.Vector = append(a.Vector, float32(x))
		}
		return a, nil
	case len(fields) == 2 && fields[0] == "live":
		a.Live, _ = strconv.ParseFloat(fields[1], 64)
		return a, nil
	case len(fields) == 1 && fields[0] == "multi":
		return a, engine.ErrMultipleFaces
	}
	return a, engine.ErrNoFace
}

// tinyRun runs the bench over testdata/tiny with fake models.
func tinyRun(t *testing.T) Results {
	t.Helper()
	root := filepath.Join("testdata", "tiny")
	ids, err := dataset.LoadIdentities(filepath.Join(root, "faces"))
	if err != nil {
		t.Fatal(err)
	}
	im := ImagesOf(ids)
	pairs, err := dataset.LoadPairs(filepath.Join(root, "faces", "pairs.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	spoof, err := dataset.LoadSpoofLabels(filepath.Join(root, "spoof", "labels-frames.csv"))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := dataset.LoadMeta(filepath.Join(root, "meta.csv"))
	if err != nil {
		t.Fatal(err)
	}
	cache, err := OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	in := Inputs{Root: root, Faces: &im, Pairs: pairs, PairsFile: filepath.Join(root, "faces", "pairs.tsv"),
		Meta: &meta, MetaFile: "meta.csv", Spoof: spoof}
	cfg := Config{
		Faces:    []FaceModel{{Name: "fake", Acq: fakeAcquirer{"fake-embedder@1"}, Active: ActiveThreshold{Score: 0.7, Version: "test", FMRTarget: 1e-2}}},
		Liveness: fakeAcquirer{"fake-liveness@1"}, LivenessThreshold: 0.1, LivenessSource: "test",
		Face:      FaceOptions{GenuinePerIdentity: 2, Seed: 1, Threads: 2},
		Resamples: 200, FMRTargets: []float64{0.25, 1e-2}, Cache: cache,
	}
	res, err := Run(context.Background(), in, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A rerun reads every acquisition from the cache and gives the same report.
	again, err := Run(context.Background(), in, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n := again.Report.Embedders[0].Cached; n != len(im.Paths)+0 {
		t.Errorf("rerun took %d of %d images from the cache", n, len(im.Paths))
	}
	again.Report.Embedders[0].Cached = res.Report.Embedders[0].Cached
	a, _ := json.Marshal(res.Report)
	b, _ := json.Marshal(again.Report)
	if !bytes.Equal(a, b) {
		t.Error("the rerun from the cache gave a different report")
	}
	return res
}

func TestRunGolden(t *testing.T) {
	res := tinyRun(t)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res.Report); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", buf.Bytes())
	buf.Reset()
	if err := WriteRunScores(&buf, "testdata/tiny", res.Scores, 10); err != nil {
		t.Fatal(err)
	}
	golden(t, "run-scores.csv", buf.Bytes())
	buf.Reset()
	if err := WriteHTML(&buf, res.Report); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.html", buf.Bytes())
	for _, bad := range []string{"<script", "http://", "https://", "src="} {
		if strings.Contains(strings.ReplaceAll(buf.String(), `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("report.html contains %q: it must be self-contained", bad)
		}
	}
	buf.Reset()
	if err := WriteSummary(&buf, res.Report); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.txt", buf.Bytes())

	// The figures the golden file holds, checked by hand where small.
	e := res.Report.Embedders[0]
	if f := e.Faces.FTA; f.Attempts != 24 || f.Failed != 2 || f.ByReason[FTANoFace] != 1 || f.ByReason[FTAMultiple] != 1 {
		t.Errorf("faces FTA %+v", f)
	}
	// 8 identities, 3 images (2 for dana and hiro): pairs 3,3,3,1,3,3,3,1
	// capped at 2 → 2*6 + 1 + 1 = 14 genuine; impostors 8*7/2 = 28.
	if e.Faces.Genuine != 14 || e.Faces.Impostor != 28 {
		t.Errorf("faces %d genuine, %d impostor", e.Faces.Genuine, e.Faces.Impostor)
	}
	if p := e.Pairs; p.ExcludedPairs != 1 || p.Genuine != 2 || p.Impostor != 3 {
		t.Errorf("pairs %+v", p)
	}
	l := res.Report.Liveness
	// Frames at 0.1: bona fide .9 .7 .4 .05 → BPCER 1/4; print .02 .3 .08
	// (the 4th has no face: FTA) → APCER 1/3; replay .5 .04 → 1/2.
	if l.Frames.BPCER != 0.25 || l.Frames.APCER["print"] != Num(1.0/3) || l.Frames.APCER["replay"] != 0.5 || l.Frames.FTA.Failed != 1 {
		t.Errorf("liveness frames %+v", l.Frames.PAD)
	}
	if l.Crops.Presentations != 3 || l.Mixed.Presentations != 1 {
		t.Errorf("crops %d, mixed %d", l.Crops.Presentations, l.Mixed.Presentations)
	}
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./bench -run Golden -update to accept); got:\n%.3000s", path, got)
	}
}
