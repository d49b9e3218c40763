package liveness

import "vidid/engine"

// Challenge decides whether an active prompt was answered. It watches the
// frames shown while one prompt runs, so it keeps state: use a new one for
// each prompt. The capture sequences the prompts and asks; it does not
// judge the movements itself.
type Challenge interface {
	// Answered reports whether an, the analysis of the latest frame, with
	// those seen before it completes the prompt. an.Main must not be nil.
	Answered(an engine.Analysis) bool
}

var (
	_ Challenge = (*HeadTurn)(nil)
	_ Challenge = (*Blink)(nil)
)
