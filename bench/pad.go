package bench

import (
	"math"
	"slices"
)

// Presentation is one scored presentation for presentation attack
// detection: Live is the scorer's p(live); AttackType is "bonafide" for
// bona fide presentations, else the attack instrument species (print,
// replay, ...).
type Presentation struct {
	Live       float64
	AttackType string
	Subject    string
}

// Bonafide is the AttackType of bona fide presentations.
const Bonafide = "bonafide"

// PAD holds ISO/IEC 30107-3 error rates at one threshold: a presentation
// is classified bona fide when Live >= Threshold.
type PAD struct {
	Threshold float64 `json:"threshold"`
	// APCER per attack type: attacks of that type classified bona fide.
	APCER map[string]Num `json:"apcer"`
	// APCERMax is the highest APCER over the attack types.
	APCERMax Num `json:"apcer_max"`
	// BPCER: bona fide presentations classified as attacks.
	BPCER Num `json:"bpcer"`
	// ACER = (APCERMax + BPCER) / 2 (deprecated by the 2023 edition of
	// 30107-3, kept for comparison with older papers).
	ACER Num `json:"acer"`
}

// ScorePAD computes the error rates at threshold t. Rates with no
// presentations are NaN.
func ScorePAD(ps []Presentation, t float64) PAD {
	n, wrong := map[string]int{}, map[string]int{}
	for _, p := range ps {
		n[p.AttackType]++
		accepted := p.Live >= t
		if accepted != (p.AttackType == Bonafide) {
			wrong[p.AttackType]++
		}
	}
	out := PAD{Threshold: t, APCER: map[string]Num{}, APCERMax: Num(nan), BPCER: Num(nan), ACER: Num(nan)}
	for typ, k := range n {
		r := Num(float64(wrong[typ]) / float64(k))
		if typ == Bonafide {
			out.BPCER = r
			continue
		}
		out.APCER[typ] = r
		if !out.APCERMax.Measured() || r > out.APCERMax {
			out.APCERMax = r
		}
	}
	if out.APCERMax.Measured() && out.BPCER.Measured() {
		out.ACER = (out.APCERMax + out.BPCER) / 2
	}
	return out
}

// AttackTypes returns the attack types present, sorted, without Bonafide.
func AttackTypes(ps []Presentation) []string {
	var out []string
	for _, p := range ps {
		if p.AttackType != Bonafide && !slices.Contains(out, p.AttackType) {
			out = append(out, p.AttackType)
		}
	}
	slices.Sort(out)
	return out
}

// Wilson returns the 95% Wilson score interval of k successes in n trials
// ([NaN, NaN] for n = 0). It treats trials as independent, which frames of
// one video are not: read it as a lower bound on the uncertainty.
func Wilson(k, n int) Interval {
	if n == 0 {
		return Interval{nan, nan}
	}
	const z = 1.959964
	p, fn := float64(k)/float64(n), float64(n)
	d := 1 + z*z/fn
	c := (p + z*z/(2*fn)) / d
	h := z * math.Sqrt(p*(1-p)/fn+z*z/(4*fn*fn)) / d
	return Interval{max(0, c-h), min(1, c+h)}
}
