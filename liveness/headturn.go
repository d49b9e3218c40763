package liveness

import (
	"math"

	"vidid/engine"
)

// HeadTurn is a head-turn prompt, read from the landmark pose.
//
// A turn counts only as a movement: from a head not turned, seen during
// this prompt, to the asked side. A head held turned from the previous
// prompt (or a photo of a turned head) does not pass.
type HeadTurn struct {
	// Left asks for the applicant's left, which is the image's right
	// (positive yaw); false asks for the right.
	Left bool
	// Degrees is the yaw the turn must reach; a head within it counts as
	// not turned.
	Degrees float64

	centred bool // the head was seen not turned during the prompt
}

// Answered implements Challenge.
func (h *HeadTurn) Answered(an engine.Analysis) bool {
	yaw := an.Quality.Pose.Yaw
	if math.Abs(yaw) < h.Degrees {
		h.centred = true
	}
	if h.Left {
		return h.centred && yaw >= h.Degrees
	}
	return h.centred && yaw <= -h.Degrees
}
