package engine

import (
	"fmt"
	"math"
)

// Metric says how two vectors of one model are compared.
type Metric string

const (
	// Cosine: cosine similarity c in [-1,1]; score = (1+c)/2.
	Cosine Metric = "cosine"
	// Euclidean: Euclidean distance d >= 0; score = max(0, 1-d/2).
	Euclidean Metric = "euclidean"
)

// Embedding is a face feature vector from one model.
type Embedding struct {
	Model  string
	Metric Metric
	Vector []float32
}

// Score maps the comparison of two embeddings of the same model to [0,1],
// higher meaning more alike. The mapping is monotonic and documented per
// metric so that thresholds can be set in score units for every model:
//
//	cosine:    score = (1 + cos(a,b)) / 2
//	euclidean: score = clamp(1 - ||a-b|| / 2, 0, 1)
//
// (For dlib's ResNet its customary distance 0.6 is score 0.70; for the ONNX
// recogniser cosine 0.41 is score 0.705.)
func Score(a, b Embedding) (float64, error) {
	if a.Model != b.Model || a.Metric != b.Metric {
		return 0, fmt.Errorf("%w: %q vs %q", ErrModelMismatch, a.Model, b.Model)
	}
	if len(a.Vector) != len(b.Vector) || len(a.Vector) == 0 {
		return 0, fmt.Errorf("%w: vector lengths %d and %d", ErrModelMismatch, len(a.Vector), len(b.Vector))
	}
	switch a.Metric {
	case Cosine:
		var dot, na, nb float64
		for i := range a.Vector {
			x, y := float64(a.Vector[i]), float64(b.Vector[i])
			dot += x * y
			na += x * x
			nb += y * y
		}
		if na == 0 || nb == 0 {
			return 0, fmt.Errorf("%w: zero vector", ErrModelMismatch)
		}
		c := dot / math.Sqrt(na*nb)
		return clamp01((1 + c) / 2), nil
	case Euclidean:
		var s float64
		for i := range a.Vector {
			d := float64(a.Vector[i]) - float64(b.Vector[i])
			s += d * d
		}
		return clamp01(1 - math.Sqrt(s)/2), nil
	default:
		return 0, fmt.Errorf("%w: unknown metric %q", ErrModelMismatch, a.Metric)
	}
}

func clamp01(x float64) float64 {
	switch {
	case math.IsNaN(x):
		return 0
	case x < 0:
		return 0
	case x > 1:
		return 1
	}
	return x
}
