// Package bench turns comparison scores into the figures analysts choose
// thresholds from: ROC/DET points, EER, FNMR at fixed FMR, and (for
// presentation attacks) APCER/BPCER.
package bench

import (
	"errors"
	"math"
	"sort"
)

// Scores holds genuine (same person) and impostor (different people) scores;
// higher means more alike.
type Scores struct {
	Genuine, Impostor []float64
}

// ErrTooFewScores is returned when either class is empty.
var ErrTooFewScores = errors.New("bench: need at least one genuine and one impostor score")

// Point is one operating point: at threshold t, a comparison matches when
// score >= t.
type Point struct {
	Threshold float64 `json:"threshold"`
	FMR       float64 `json:"fmr"`  // impostors accepted / impostors
	FNMR      float64 `json:"fnmr"` // genuine rejected / genuine
}

// At returns the operating point at threshold t.
func (s Scores) At(t float64) Point {
	return Point{Threshold: t, FMR: fracAtLeast(s.Impostor, t), FNMR: 1 - fracAtLeast(s.Genuine, t)}
}

func fracAtLeast(xs []float64, t float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	n := 0
	for _, x := range xs {
		if x >= t {
			n++
		}
	}
	return float64(n) / float64(len(xs))
}

// Curve returns the operating points at every distinct score, from the
// lowest threshold (FMR 1) to above the highest (FMR 0).
func (s Scores) Curve() ([]Point, error) {
	if len(s.Genuine) == 0 || len(s.Impostor) == 0 {
		return nil, ErrTooFewScores
	}
	type lab struct {
		v   float64
		gen bool
	}
	all := make([]lab, 0, len(s.Genuine)+len(s.Impostor))
	for _, v := range s.Genuine {
		all = append(all, lab{v, true})
	}
	for _, v := range s.Impostor {
		all = append(all, lab{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	ng, ni := float64(len(s.Genuine)), float64(len(s.Impostor))
	// Threshold at all[i].v: accepted = those with v >= threshold.
	var pts []Point
	genBelow, impBelow := 0, 0
	for i := 0; i < len(all); {
		v := all[i].v
		pts = append(pts, Point{Threshold: v, FMR: (ni - float64(impBelow)) / ni, FNMR: float64(genBelow) / ng})
		for i < len(all) && all[i].v == v {
			if all[i].gen {
				genBelow++
			} else {
				impBelow++
			}
			i++
		}
	}
	pts = append(pts, Point{Threshold: math.Nextafter(all[len(all)-1].v, math.Inf(1)), FMR: 0, FNMR: 1})
	return pts, nil
}

// EER returns the equal error rate (the mean of FMR and FNMR where they are
// closest) and the threshold there.
func (s Scores) EER() (eer, threshold float64, err error) {
	pts, err := s.Curve()
	if err != nil {
		return 0, 0, err
	}
	best := math.Inf(1)
	for _, p := range pts {
		if d := math.Abs(p.FMR - p.FNMR); d < best {
			best, eer, threshold = d, (p.FMR+p.FNMR)/2, p.Threshold
		}
	}
	return eer, threshold, nil
}

// FNMRAtFMR returns the lowest FNMR among thresholds whose FMR <= target,
// with that threshold. With n impostors, targets below 1/n are not
// measurable and the result is the point with FMR 0.
func (s Scores) FNMRAtFMR(target float64) (Point, error) {
	pts, err := s.Curve()
	if err != nil {
		return Point{}, err
	}
	for _, p := range pts { // FMR falls and FNMR rises with the threshold
		if p.FMR <= target {
			return p, nil
		}
	}
	return pts[len(pts)-1], nil
}

// AUC is the area under the ROC curve: the probability that a random
// genuine score exceeds a random impostor score (ties count half).
func (s Scores) AUC() (float64, error) {
	if len(s.Genuine) == 0 || len(s.Impostor) == 0 {
		return 0, ErrTooFewScores
	}
	imp := append([]float64(nil), s.Impostor...)
	sort.Float64s(imp)
	var sum float64
	for _, g := range s.Genuine {
		lo := sort.SearchFloat64s(imp, g) // impostors < g
		hi := sort.Search(len(imp), func(i int) bool { return imp[i] > g })
		sum += float64(lo) + float64(hi-lo)/2
	}
	return sum / float64(len(s.Genuine)*len(imp)), nil
}
