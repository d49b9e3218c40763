package bench

import (
	"context"
	"fmt"

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
		if p.Same {
			res.Scores.Genuine = append(res.Scores.Genuine, s)
		} else {
			res.Scores.Impostor = append(res.Scores.Impostor, s)
		}
	}
	return res, nil
}
