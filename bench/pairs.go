package bench

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"vidid/dataset"
	"vidid/engine"
)

// Embedder embeds the main face of an image file.
type Embedder interface {
	EmbedFile(ctx context.Context, path string) (engine.Embedding, error)
}

// EmbedderFunc adapts a function to Embedder.
type EmbedderFunc func(ctx context.Context, path string) (engine.Embedding, error)

// EmbedFile calls fn.
func (fn EmbedderFunc) EmbedFile(ctx context.Context, path string) (engine.Embedding, error) {
	return fn(ctx, path)
}

// PairResult is the outcome of scoring a pair list.
type PairResult struct {
	Scores Scores
	// Failed lists images whose face could not be embedded (no face found,
	// unreadable). A pair with such an image counts as a non-match: its
	// score is 0, so it is a false non-match for genuine pairs and a
	// correct rejection for impostor pairs. This is what a user of the
	// system experiences.
	Failed map[string]error
	Pairs  int
	// PerPair holds every pair's score, in the list's order, for analysts
	// who plot or re-threshold outside vidid.
	PerPair []PairScore
}

// PairScore is one scored pair. Failed marks a pair with an image whose
// face could not be embedded (its Score is 0).
type PairScore struct {
	dataset.Pair
	Score  float64
	Failed bool
}

// ScorePairs embeds every image once and scores every pair.
func ScorePairs(ctx context.Context, pairs []dataset.Pair, emb Embedder) (PairResult, error) {
	cache := map[string]engine.Embedding{}
	res := PairResult{Failed: map[string]error{}, Pairs: len(pairs)}
	get := func(path string) (engine.Embedding, bool) {
		if e, ok := cache[path]; ok {
			return e, true
		}
		if _, failed := res.Failed[path]; failed {
			return engine.Embedding{}, false
		}
		e, err := emb.EmbedFile(ctx, path)
		if err != nil {
			res.Failed[path] = err
			return engine.Embedding{}, false
		}
		cache[path] = e
		return e, true
	}
	for _, p := range pairs {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		a, okA := get(p.A)
		b, okB := get(p.B)
		s := 0.0
		if okA && okB {
			var err error
			if s, err = engine.Score(a, b); err != nil {
				return res, fmt.Errorf("score %s vs %s: %w", p.A, p.B, err)
			}
		}
		res.PerPair = append(res.PerPair, PairScore{Pair: p, Score: s, Failed: !(okA && okB)})
		if p.Same {
			res.Scores.Genuine = append(res.Scores.Genuine, s)
		} else {
			res.Scores.Impostor = append(res.Scores.Impostor, s)
		}
	}
	return res, nil
}

// ModelScores are the per-pair scores of one model.
type ModelScores struct {
	Model string
	Pairs []PairScore
}

// WriteScoresCSV writes per-pair scores of one or more models as CSV with a
// header: model,a,b,same,score,failed. Paths are written relative to root
// when they lie inside it.
func WriteScoresCSV(w io.Writer, root string, sets ...ModelScores) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"model", "a", "b", "same", "score", "failed"}); err != nil {
		return err
	}
	rel := func(p string) string {
		if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
			return filepath.ToSlash(r)
		}
		return p
	}
	for _, set := range sets {
		for _, ps := range set.Pairs {
			if err := cw.Write([]string{set.Model, rel(ps.A), rel(ps.B), strconv.FormatBool(ps.Same),
				strconv.FormatFloat(ps.Score, 'f', 6, 64), strconv.FormatBool(ps.Failed)}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
