package liveness

import (
	"context"

	"vidid/engine"
)

// PassiveScorer scores a single frame for presentation attacks, with no
// challenge: Score returns the probability in [0,1] that face in f belongs
// to a live person in front of the camera (not a print, a screen or a mask).
// Scores of one frame are weak evidence; callers combine many frames and
// compare with a threshold calibrated on real captures.
type PassiveScorer interface {
	Score(ctx context.Context, f engine.Frame, face engine.Face) (float64, error)
}

// Scores are the passive cues of one face in one frame: the p(live) of the
// two MiniFASNet models (Silent-Face-Anti-Spoofing V2 at crop scale 2.7 and
// V1SE at 4.0) and their fusion, the mean of the two. Evidence stores each
// cue; decisions use Fused.
type Scores struct {
	V2, V1SE, Fused float64
}

// MultiScorer is a PassiveScorer that also reports its per-model cues
// (liveness/ocv.Fused).
type MultiScorer interface {
	PassiveScorer
	ScoreAll(ctx context.Context, f engine.Frame, face engine.Face) (Scores, error)
}
