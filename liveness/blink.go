package liveness

import "vidid/engine"

// Eye aspect ratios of a blink: the eyes must be seen closed, then open.
const (
	blinkClosedBelow = 0.18
	blinkOpenAbove   = 0.22
)

// Blink is a blink prompt, read from the eye aspect ratio of the 68
// landmarks (EyeAspectRatio): closed below 0.18, then open above 0.22.
type Blink struct {
	closed bool // the eyes were seen closed during the prompt
}

// Answered implements Challenge.
func (b *Blink) Answered(an engine.Analysis) bool {
	ear := EyeAspectRatio(an.Main.Landmarks)
	if ear > 0 && ear < blinkClosedBelow {
		b.closed = true
	} else if b.closed && ear > blinkOpenAbove {
		return true
	}
	return false
}
