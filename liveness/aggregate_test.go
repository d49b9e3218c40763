package liveness

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func TestTrimmedMean(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scores []float64
		trim   float64
		want   float64
	}{
		{"one frame", []float64{0.7}, DefaultTrim, 0.7},
		{"two frames: mean", []float64{0.2, 0.8}, DefaultTrim, 0.5},
		{"three frames: median", []float64{0.9, 0.1, 0.95}, DefaultTrim, 0.9},
		{"four frames: middle two", []float64{0.1, 0.9, 0.95, 0.99}, DefaultTrim, 0.925},
		{"no trim: mean", []float64{0.1, 0.9, 0.95, 0.99}, 0, 0.735},
		{"eight frames drop two each end", []float64{0, 0, 0.5, 0.5, 0.5, 0.5, 1, 1}, DefaultTrim, 0.5},
		{"bounds allowed", []float64{0, 1, 1}, DefaultTrim, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.scores)
			got, err := TrimmedMean(tc.scores, tc.trim)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want) > 1e-12 {
				t.Fatalf("TrimmedMean = %v, want %v", got, tc.want)
			}
			if !slices.Equal(in, tc.scores) {
				t.Fatalf("input modified: %v", tc.scores)
			}
		})
	}
}

// The two properties the attempt score exists for, at the suggested
// threshold: a quarter of very good frames does not carry a replay, and one
// bad frame does not sink a live face.
func TestAttemptScoreRobust(t *testing.T) {
	rep := func(v float64, n int) []float64 { return slices.Repeat([]float64{v}, n) }
	for _, tc := range []struct {
		name   string
		scores []float64
		pass   bool
	}{
		{"live, steady", rep(0.97, 12), true},
		{"live, one bad frame of 3", []float64{0.95, 0.05, 0.96}, true},
		{"live, one bad frame of 12", append(rep(0.95, 11), 0.0), true},
		{"live, two bad of 8", append(rep(0.93, 6), 0.1, 0.2), true},
		{"replay, one good frame of 3", []float64{0.99, 0.05, 0.1}, false},
		{"replay, 3 good of 12", append(rep(0.02, 9), 0.99, 0.99, 0.99), false},
		{"replay, 4 good of 12", append(rep(0.02, 8), rep(0.99, 4)...), false},
		{"borderline throughout", rep(0.7, 10), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AttemptScore(tc.scores)
			if err != nil {
				t.Fatal(err)
			}
			if pass := got >= SuggestedFusedThreshold; pass != tc.pass {
				t.Fatalf("AttemptScore = %.3f: pass %v, want %v", got, pass, tc.pass)
			}
		})
	}
}

func TestTrimmedMeanErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		scores  []float64
		trim    float64
		noScore bool
	}{
		{"empty", nil, DefaultTrim, true},
		{"NaN", []float64{0.5, math.NaN()}, DefaultTrim, true},
		{"above 1", []float64{1.5}, DefaultTrim, true},
		{"negative", []float64{-0.1}, DefaultTrim, true},
		{"trim 0.5", []float64{0.5}, 0.5, false},
		{"trim negative", []float64{0.5}, -0.1, false},
		{"trim NaN", []float64{0.5}, math.NaN(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := TrimmedMean(tc.scores, tc.trim)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrNoScores) != tc.noScore {
				t.Fatalf("err %v: errors.Is(ErrNoScores) = %v", err, !tc.noScore)
			}
		})
	}
}

func BenchmarkAttemptScore(b *testing.B) {
	s := make([]float64, 60)
	for i := range s {
		s[i] = float64(i%17) / 17
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AttemptScore(s); err != nil {
			b.Fatal(err)
		}
	}
}
