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
