// Package synth makes synthetic presentation attacks from bona fide face
// images, for attack species no public set has: photos printed on paper
// (halftone dots, paper white, tilt, defocus, with and without the
// sheet's edge in view) and photos shown on a screen (sub-pixel grid,
// moiré, display gamma and white point, glare). Everything is plain Go
// and deterministic from a seed. The images are an approximation of real
// attacks: measure on them apart from real ones and never tune a
// threshold on them alone.
package synth

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"

	"vidid/dataset"
	"vidid/engine"
)

// Version names the generator and its version in the labels' source;
// bump it whenever a transform or a parameter range changes.
const Version = "vidid-synth/1"

// Attack types of the synthetic attacks, reported apart from real ones.
const (
	AttackPrint  = "print-synthetic"
	AttackScreen = "screen-synthetic"
)

// Attack is one synthetic attack image and what made it.
type Attack struct {
	Frame  engine.Frame
	Type   string       // AttackPrint or AttackScreen
	Params fmt.Stringer // PrintParams or ScreenParams
	Seed   uint64
	Index  int
}

// Variants returns k attacks made from src: prints and screens
// alternating, prints alternating between the sheet's edge in view and
// the sheet filling the frame (the phase depends on key). key, usually
// the source image's path, and seed fix every random parameter.
func Variants(src engine.Frame, seed uint64, key string, k int) []Attack {
	h := fnv.New64a()
	h.Write([]byte(key))
	hk := h.Sum64()
	out := make([]Attack, 0, k)
	for i := 0; i < k; i++ {
		rng := rand.New(rand.NewPCG(seed, hk^uint64(i)*0x9e3779b97f4a7c15))
		a := Attack{Seed: seed, Index: i}
		if i%2 == 0 {
			p := RandomPrint(rng, (hk+uint64(i/2))%2 == 0)
			a.Frame, a.Type, a.Params = Print(src, p), AttackPrint, p
		} else {
			p := RandomScreen(rng)
			a.Frame, a.Type, a.Params = Screen(src, p), AttackScreen, p
		}
		out = append(out, a)
	}
	return out
}

// Row returns the attack's labels row: path relative to the labels
// file, kind frame or still, and a source naming the generator, the
// seed, the parameters and the source image.
func (a Attack) Row(path, subject, kind, sourcePath string) dataset.SpoofRow {
	return dataset.SpoofRow{Path: path, Label: "attack", AttackType: a.Type, Subject: subject, Kind: kind,
		Source: fmt.Sprintf("%s seed=%d variant=%d %s {%s} from %s", Version, a.Seed, a.Index, a.Type, a.Params, sourcePath)}
}
