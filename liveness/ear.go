package liveness

import (
	"math"

	"vidid/engine"
)

// EyeAspectRatio is the mean eye aspect ratio (Soukupová & Čech 2016) of
// the two eyes from 68 iBUG points: about 0.3 open, below 0.2 closed.
func EyeAspectRatio(p []engine.Point) float64 {
	if len(p) != 68 {
		return 0
	}
	d := func(a, b engine.Point) float64 { return math.Hypot(float64(a.X-b.X), float64(a.Y-b.Y)) }
	ear := func(e []engine.Point) float64 {
		w := d(e[0], e[3])
		if w == 0 {
			return 0
		}
		return (d(e[1], e[5]) + d(e[2], e[4])) / (2 * w)
	}
	return (ear(p[36:42]) + ear(p[42:48])) / 2
}
