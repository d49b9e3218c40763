package bench

import (
	"math"
)

// DefaultFMRTargets are the FMR targets reports show FNMR and thresholds at.
var DefaultFMRTargets = []float64{1e-2, 1e-3, 1e-4, 1e-5}

// MinImpostorsPerTarget: an FMR target is measurable only with at least this
// many impostor comparisons per expected false match (3/target impostors),
// so that the threshold rests on more than one or two scores.
const MinImpostorsPerTarget = 3

// Measurable reports whether FMR target can be measured with n impostor
// comparisons.
func Measurable(target float64, n int) bool {
	return float64(n)*target >= MinImpostorsPerTarget
}

// AnalyzeOptions configure Analyze.
type AnalyzeOptions struct {
	FMRTargets []float64 // default DefaultFMRTargets
	// Threshold is the active threshold (the deployed one) to report the
	// rates at; NaN or 0 for none.
	Threshold float64
	// Resamples is the number of bootstrap resamples over identities
	// (0: no intervals); Seed seeds them.
	Resamples int
	Seed      uint64
	Threads   int
	// CurvePoints bounds the DET/ROC points kept (default 200).
	CurvePoints int
}

// AtFMR is the operating point for one FMR target.
type AtFMR struct {
	Target     float64 `json:"fmr_target"`
	Measurable bool    `json:"measurable"`
	// FNMR at the lowest threshold whose FMR <= Target, with its interval.
	FNMR Estimate `json:"fnmr"`
	// Threshold is that threshold (Verification.Thresholds has its
	// interval).
	Threshold Num `json:"threshold"`
	// FMR is the FMR measured at Threshold (<= Target).
	FMR Num `json:"fmr"`
}

// ThresholdAt is the threshold that meets one FMR target, with its
// interval.
type ThresholdAt struct {
	Target     float64 `json:"fmr_target"`
	Measurable bool    `json:"measurable"`
	Estimate
}

// Verification is the accuracy of one embedder on one set of comparisons.
type Verification struct {
	Identities   int      `json:"identities"`
	Genuine      int      `json:"genuine"`
	Impostor     int      `json:"impostor"`
	AUC          Num      `json:"auc"`
	EER          Estimate `json:"eer"`
	EERThreshold Num      `json:"eer_threshold"`
	FNMRAtFMR    []AtFMR  `json:"fnmr_at_fmr"`
	// Thresholds are the thresholds of FNMRAtFMR, with intervals.
	Thresholds []ThresholdAt `json:"thresholds"`
	// AtThreshold is the operating point at the active threshold.
	AtThreshold *Point `json:"at_threshold,omitempty"`
	// Curve holds DET/ROC points from the highest threshold down.
	Curve []Point `json:"curve"`
	// Histogram of genuine and impostor scores over [0,1].
	Histogram Histogram `json:"histogram"`
	// Candidates are operating points at thresholds an analyst may pick.
	Candidates []Point `json:"candidates"`
}

// Analyze computes the figures of a score set.
func Analyze(s Set, o AnalyzeOptions) Verification {
	if o.FMRTargets == nil {
		o.FMRTargets = DefaultFMRTargets
	}
	if o.CurvePoints == 0 {
		o.CurvePoints = 200
	}
	r := s.rank()
	v := Verification{Identities: s.Identities, Genuine: len(s.Genuine), Impostor: len(s.Impostor),
		AUC: Num(nan), EER: Estimate{Num(nan), Interval{nan, nan}}, EERThreshold: Num(nan)}
	if auc, err := (Scores{Genuine: scoresOf(s.Genuine), Impostor: scoresOf(s.Impostor)}).AUC(); err == nil {
		v.AUC = Num(auc)
	}
	if eer, t, ok := r.eer(); ok {
		v.EER.Value, v.EERThreshold = Num(eer), Num(t)
	}
	for _, target := range o.FMRTargets {
		a := AtFMR{Target: target, Measurable: Measurable(target, len(s.Impostor)),
			FNMR: Estimate{Num(nan), Interval{nan, nan}}, Threshold: Num(nan), FMR: Num(nan)}
		if p, ok := r.atFMR(target); ok && a.Measurable {
			a.FNMR.Value, a.Threshold, a.FMR = Num(p.FNMR), Num(p.Threshold), Num(p.FMR)
		}
		v.FNMRAtFMR = append(v.FNMRAtFMR, a)
		v.Thresholds = append(v.Thresholds, ThresholdAt{Target: target, Measurable: a.Measurable, Estimate: Estimate{a.Threshold, Interval{nan, nan}}})
	}
	if o.Resamples > 0 && s.Identities > 1 {
		ci := Bootstrap(s.Identities, o.Resamples, o.Seed, o.Threads, func(w []float64) []float64 {
			x := r.weighted(w)
			out := []float64{nan}
			if eer, _, ok := x.eer(); ok {
				out[0] = eer
			}
			for _, a := range v.FNMRAtFMR {
				fnmr, t := nan, nan
				if p, ok := x.atFMR(a.Target); ok && a.Measurable {
					fnmr, t = p.FNMR, p.Threshold
				}
				out = append(out, fnmr, t)
			}
			return out
		})
		v.EER.CI95 = ci[0]
		for i := range v.FNMRAtFMR {
			if v.FNMRAtFMR[i].Measurable {
				v.FNMRAtFMR[i].FNMR.CI95, v.Thresholds[i].CI95 = ci[1+2*i], ci[2+2*i]
			}
		}
	}
	if o.Threshold > 0 && !math.IsNaN(o.Threshold) {
		p := r.at(o.Threshold)
		v.AtThreshold = &p
	}
	v.Curve = r.curve(o.CurvePoints)
	v.Histogram = NewHistogram(s, 50)
	v.Candidates = candidates(r, v, o.Threshold)
	return v
}

// candidates are the operating points at the FMR targets' thresholds, the
// EER threshold, the active threshold and a grid around it.
func candidates(r *ranked, v Verification, active float64) []Point {
	var ts []float64
	for _, a := range v.FNMRAtFMR {
		if a.Threshold.Measured() {
			ts = append(ts, float64(a.Threshold))
		}
	}
	if v.EERThreshold.Measured() {
		ts = append(ts, float64(v.EERThreshold))
	}
	if active > 0 {
		for d := -0.05; d <= 0.0501; d += 0.01 {
			ts = append(ts, math.Round((active+d)*1000)/1000)
		}
	}
	sortUnique(&ts)
	out := make([]Point, 0, len(ts))
	for _, t := range ts {
		out = append(out, r.at(t))
	}
	return out
}

func scoresOf(cs []Comparison) []float64 {
	out := make([]float64, len(cs))
	for i, c := range cs {
		out[i] = c.Score
	}
	return out
}

// Histogram counts genuine and impostor scores in equal bins over [0,1].
type Histogram struct {
	Genuine  []int `json:"genuine"`
	Impostor []int `json:"impostor"`
}

// NewHistogram bins the scores of s into n bins.
func NewHistogram(s Set, n int) Histogram {
	h := Histogram{Genuine: make([]int, n), Impostor: make([]int, n)}
	bin := func(x float64) int { return min(max(int(x*float64(n)), 0), n-1) }
	for _, c := range s.Genuine {
		h.Genuine[bin(c.Score)]++
	}
	for _, c := range s.Impostor {
		h.Impostor[bin(c.Score)]++
	}
	return h
}
