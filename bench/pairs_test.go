package bench

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"vidid/dataset"
	"vidid/engine"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fakeEmbedder maps file names to fixed vectors; "broken.jpg" has no face.
func fakeEmbedder(calls map[string]int) Embedder {
	vecs := map[string][]float32{"a1.jpg": {1, 0}, "a2.jpg": {0.8, 0.6}, "b1.jpg": {0, 1}}
	return EmbedderFunc(func(ctx context.Context, path string) (engine.Embedding, error) {
		calls[path]++
		v, ok := vecs[filepath.Base(path)]
		if !ok {
			return engine.Embedding{}, engine.ErrNoFace
		}
		return engine.Embedding{Model: "fake", Metric: engine.Cosine, Vector: v}, nil
	})
}

func TestScorePairs(t *testing.T) {
	root := "/data/faces"
	p := func(a, b string, same bool) dataset.Pair {
		return dataset.Pair{A: filepath.Join(root, a), B: filepath.Join(root, b), Same: same}
	}
	pairs := []dataset.Pair{
		p("x/a1.jpg", "x/a2.jpg", true),
		p("x/a1.jpg", "y/b1.jpg", false),
		p("x/a2.jpg", "z/broken.jpg", true),
	}
	calls := map[string]int{}
	res, err := ScorePairs(context.Background(), pairs, fakeEmbedder(calls))
	if err != nil {
		t.Fatal(err)
	}
	for path, n := range calls {
		if n != 1 {
			t.Errorf("%s embedded %d times, want once", path, n)
		}
	}
	if len(res.Failed) != 1 || !errors.Is(res.Failed[filepath.Join(root, "z/broken.jpg")], engine.ErrNoFace) {
		t.Errorf("failed images %v", res.Failed)
	}
	// cos(a1,a2) = 0.8 → 0.9; cos(a1,b1) = 0 → 0.5; the broken pair scores 0.
	if g, i := res.Scores.Genuine, res.Scores.Impostor; len(g) != 2 || len(i) != 1 || g[1] != 0 || i[0] != 0.5 {
		t.Errorf("scores %+v", res.Scores)
	}
	var buf bytes.Buffer
	if err := WriteScoresCSV(&buf, root, ModelScores{Model: "fake", Pairs: res.PerPair}); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "scores.csv")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("CSV differs from %s (go test -update to accept):\n%s", golden, buf.Bytes())
	}
}
