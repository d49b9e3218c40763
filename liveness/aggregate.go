package liveness

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrNoScores: an attempt score was asked for with no frame scores, or with
// a score that is not a number in [0,1].
var ErrNoScores = errors.New("no usable passive scores")

// DefaultTrim is the share of frames AttemptScore drops at each end: 0.25
// makes it the interquartile mean.
const DefaultTrim = 0.25

// SuggestedFusedThreshold is a provisional attempt-level threshold for
// AttemptScore over the fused MiniFASNet score (Scores.Fused). The decision
// policy owns the threshold; this is its documented starting point.
//
// On the development frames (shared/models/minifasnet/MODELS.md,
// docs/liveness.md) the per-frame threshold giving 5% BPCER was 0.85, and
// every replay frame scored far below 0.5. The attempt score averages many
// frames, so it is less noisy than one frame; 0.8 keeps a margin below the
// dev t5 for cameras, light and skin tones the 4 dev subjects do not cover,
// while staying far above the replay scores. Synthetic prints are the weak
// spot (about 10-45% of print frames pass at 0.85-0.5): raise it, or add a
// print cue, where print attacks matter. Re-calibrate on real captures.
const SuggestedFusedThreshold = 0.8

// AttemptScore combines the passive p(live) of every analysed frame of an
// attempt into one score: the interquartile mean, TrimmedMean(scores,
// DefaultTrim). A quarter of the frames at either end has no influence, so
// a few good frames of a replay cannot carry the attempt and one bad frame
// of a live face cannot sink it; with three frames it is the median.
func AttemptScore(scores []float64) (float64, error) {
	return TrimmedMean(scores, DefaultTrim)
}

// TrimmedMean is the mean of scores after dropping the k lowest and k
// highest, k = ceil(trim * n), lowered as needed to keep at least one score
// (so it is the median for n = 3 at trim 0.25, the plain mean for n <= 2 and
// at trim 0). scores is not modified. It fails with ErrNoScores for an empty
// slice or a score outside [0,1] (NaN included), and for trim outside
// [0, 0.5).
func TrimmedMean(scores []float64, trim float64) (float64, error) {
	if !(trim >= 0 && trim < 0.5) {
		return 0, fmt.Errorf("trimmed mean: trim %v outside [0, 0.5)", trim)
	}
	n := len(scores)
	if n == 0 {
		return 0, fmt.Errorf("trimmed mean: %w: no frames", ErrNoScores)
	}
	for i, s := range scores {
		if !(s >= 0 && s <= 1) {
			return 0, fmt.Errorf("trimmed mean: %w: score %d is %v", ErrNoScores, i, s)
		}
	}
	k := int(math.Ceil(trim*float64(n) - 1e-9))
	for n-2*k < 1 {
		k--
	}
	s := slices.Clone(scores)
	slices.Sort(s)
	sum := 0.0
	for _, v := range s[k : n-k] {
		sum += v
	}
	return sum / float64(n-2*k), nil
}
