package assemble

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"vidid/bench"
	"vidid/dataset"
	"vidid/engine"
	"vidid/internal/testenv"
	"vidid/models"
	"vidid/policy"
)

func open(t *testing.T, embedder string) *Engine {
	t.Helper()
	e, err := Open(Config{ModelRoot: testenv.ModelRoot(t), Embedder: embedder, Threads: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// TestDefaultEmbedderAccuracy is the acceptance check of the default
// embedder with the configured threshold on the public LFW DevTrain pairs:
// at least 95% of same-person pairs accepted, at most 1% of
// different-person pairs. (The threshold comes from LFW View 2 figures,
// not from these pairs; see the built-in decision policy, policy/builtin.json.)
func TestDefaultEmbedderAccuracy(t *testing.T) {
	data := testenv.DataDir(t)
	e := open(t, "")
	pairs, err := dataset.LoadPairs(filepath.Join(data, "faces", "lfw-pairs.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if testing.Short() {
		pairs = pairs[:100]
	}
	ctx := context.Background()
	res, err := bench.ScorePairs(ctx, pairs, bench.EmbedderFunc(func(ctx context.Context, path string) (engine.Embedding, error) {
		f, err := engine.LoadImage(path)
		if err != nil {
			return engine.Embedding{}, err
		}
		pr, err := e.EmbedLargest(ctx, f)
		return pr.Embedding, err
	}))
	if err != nil {
		t.Fatal(err)
	}
	pol := policy.Builtin()
	th, err := pol.Model(e.Model())
	if err != nil {
		t.Fatal(err)
	}
	p := res.Scores.At(th.Match)
	eer, eerT, _ := res.Scores.EER()
	auc, _ := res.Scores.AUC()
	t.Logf("%s on %d pairs (%d genuine, %d impostor; %d images without a face): threshold %.4f (%s): TAR %.2f%% FMR %.2f%%; EER %.2f%% at %.4f; AUC %.4f",
		e.Model(), res.Pairs, len(res.Scores.Genuine), len(res.Scores.Impostor), len(res.Failed), th.Match, pol.Version,
		100*(1-p.FNMR), 100*p.FMR, 100*eer, eerT, auc)
	for _, th := range []float64{0.62, 0.64, 0.65, 0.66, 0.667, 0.68, 0.69, 0.705} {
		q := res.Scores.At(th)
		t.Logf("  at %.3f: TAR %.2f%% FMR %.2f%%", th, 100*(1-q.FNMR), 100*q.FMR)
	}
	if 1-p.FNMR < 0.95 {
		t.Errorf("same-person pairs accepted: %.2f%%, want >= 95%%", 100*(1-p.FNMR))
	}
	if p.FMR > 0.01 {
		t.Errorf("different-person pairs accepted: %.2f%%, want <= 1%%", 100*p.FMR)
	}
}

func TestProbeErrors(t *testing.T) {
	data := testenv.DataDir(t)
	e := open(t, "")
	ctx := context.Background()
	load := func(p string) engine.Frame {
		f, err := engine.LoadImage(filepath.Join(data, p))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	blank := engine.Frame{Width: 640, Height: 480, Pix: make([]byte, 640*480*3)}
	for i := range blank.Pix {
		blank.Pix[i] = 128
	}
	tests := []struct {
		name  string
		frame engine.Frame
		want  error
	}{
		{"one face", load("faces/lfw-Anthony_Fauci/1.jpg"), nil},
		{"no face", blank, engine.ErrNoFace},
		{"two faces", load(firstFile(t, filepath.Join(data, "spoof", "multi-face"))), engine.ErrMultipleFaces},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.ProbeImage(ctx, tc.frame)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func firstFile(t *testing.T, dir string) string {
	t.Helper()
	var found string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && found == "" && !d.IsDir() && (filepath.Ext(p) == ".jpg" || filepath.Ext(p) == ".png") {
			found = p
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no image under %s", dir)
	}
	rel, _ := filepath.Rel(filepath.Join(dir, "..", ".."), found)
	return rel
}

func TestCorruptModelIsAnError(t *testing.T) {
	root := testenv.ModelRoot(t)
	bad := t.TempDir()
	// A full copy of the model root with the detector truncated.
	for _, sub := range []string{"faceplugin", "dlib"} {
		if err := os.MkdirAll(filepath.Join(bad, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		ents, _ := os.ReadDir(filepath.Join(root, sub))
		for _, en := range ents {
			_ = os.Symlink(filepath.Join(root, sub, en.Name()), filepath.Join(bad, sub, en.Name()))
		}
	}
	det := filepath.Join(bad, "faceplugin", "fr_detect.onnx")
	_ = os.Remove(det)
	b, _ := os.ReadFile(filepath.Join(root, "faceplugin", "fr_detect.onnx"))
	if err := os.WriteFile(det, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Config{ModelRoot: bad}, nil)
	if !errors.Is(err, models.ErrModel) {
		t.Fatalf("Open with a truncated detector: %v, want models.ErrModel", err)
	}
}
