package bench

import (
	"math"
	"math/rand/v2"
	"testing"
)

// tiny is TestRates' set with identities: genuine i is identity i,
// impostor j compares identities j and j+1.
func tiny() Set {
	g := []float64{0.9, 0.8, 0.7, 0.6}
	im := []float64{0.1, 0.2, 0.3, 0.65}
	var s Set
	for i, x := range g {
		s.Genuine = append(s.Genuine, Comparison{Score: x, A: int32(i), B: int32(i)})
	}
	for j, x := range im {
		s.Impostor = append(s.Impostor, Comparison{Score: x, A: int32(j), B: int32((j + 1) % 4)})
	}
	s.Identities = 4
	return s
}

func TestAnalyzeHandComputed(t *testing.T) {
	v := Analyze(tiny(), AnalyzeOptions{FMRTargets: []float64{0.75, 0.5, 0.01}, Threshold: 0.62})
	// Falling thresholds: .9 (FMR 0, FNMR .75), .8 (0, .5), .7 (0, .25),
	// .65 (.25, .25), .6 (.25, 0), .3 (.5, 0), .2 (.75, 0), .1 (1, 0).
	if v.EER.Value != 0.25 || v.EERThreshold != 0.65 {
		t.Errorf("EER %v at %v, want 0.25 at 0.65", v.EER.Value, v.EERThreshold)
	}
	want := []struct {
		measurable bool
		fnmr, th   float64
	}{{true, 0, 0.2}, {false, nan, nan}, {false, nan, nan}} // 4 impostors measure FMR >= 3/4 only
	for i, w := range want {
		a := v.FNMRAtFMR[i]
		if a.Measurable != w.measurable || !same(float64(a.FNMR.Value), w.fnmr) || !same(float64(a.Threshold), w.th) {
			t.Errorf("target %v: %+v, want %+v", a.Target, a, w)
		}
	}
	if p := v.AtThreshold; p == nil || p.FMR != 0.25 || p.FNMR != 0.25 {
		t.Errorf("at 0.62: %+v, want FMR .25 FNMR .25", p)
	}
	if v.AUC != 15.0/16 {
		t.Errorf("AUC %v", v.AUC)
	}
	if first, last := v.Curve[0], v.Curve[len(v.Curve)-1]; first.FMR != 0 || first.FNMR != 1 || last.FMR != 1 || last.FNMR != 0 {
		t.Errorf("curve ends %+v %+v", first, last)
	}
	if h := v.Histogram; h.Genuine[45] != 1 || h.Impostor[5] != 1 || h.Impostor[32] != 1 {
		t.Errorf("histogram %+v", h)
	}
}

func TestWeighted(t *testing.T) {
	// Identity 0 drawn twice, 1 never, 2 and 3 once: genuine weights
	// .9:2 .8:0 .7:1 .6:1 (total 4); impostors (0,1):0 (1,2):0 (2,3):1
	// .3, (3,0):2 .65 (total 3).
	r := tiny().rank().weighted([]float64{2, 0, 1, 1})
	if r.wg != 4 || r.wi != 3 {
		t.Fatalf("weights %v %v", r.wg, r.wi)
	}
	// At .65: genuine .9 .7 accepted (3 of 4) → FNMR .25; impostor .65
	// (weight 2) → FMR 2/3.
	if p := r.at(0.65); !same(p.FMR, 2.0/3) || p.FNMR != 0.25 {
		t.Errorf("at .65 %+v", p)
	}
	// Falling: .9 (0, .5), .7 (0, .25), .65 (2/3, .25) → closest at .7
	// (gap .25) vs .65 (gap .42): EER .125 at .7.
	if eer, th, _ := r.eer(); eer != 0.125 || th != 0.7 {
		t.Errorf("EER %v at %v", eer, th)
	}
}

// TestMatchesScores checks the walk against the plain implementation.
func TestMatchesScores(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		var s Set
		s.Identities = 10
		for range 1 + rng.IntN(40) {
			s.Genuine = append(s.Genuine, Comparison{Score: math.Round(rng.Float64()*20) / 20})
		}
		for range 1 + rng.IntN(200) {
			s.Impostor = append(s.Impostor, Comparison{Score: math.Round(rng.Float64()*20) / 20})
		}
		old := Scores{Genuine: scoresOf(s.Genuine), Impostor: scoresOf(s.Impostor)}
		r := s.rank()
		eer, _, _ := r.eer()
		if want, _, _ := old.EER(); !same(eer, want) {
			t.Fatalf("EER %v, plain %v", eer, want)
		}
		for _, target := range []float64{0, 0.01, 0.1, 0.5} {
			p, _ := r.atFMR(target)
			want, _ := old.FNMRAtFMR(target)
			if !same(p.FNMR, want.FNMR) || !same(p.FMR, want.FMR) {
				t.Fatalf("at FMR %v: %+v, plain %+v", target, p, want)
			}
		}
	}
}

func TestBootstrapDeterministic(t *testing.T) {
	s := Set{Identities: 30}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 30 {
		for range 3 {
			s.Genuine = append(s.Genuine, Comparison{Score: 0.6 + 0.4*rng.Float64(), A: int32(i), B: int32(i)})
		}
		for j := i + 1; j < 30; j++ {
			s.Impostor = append(s.Impostor, Comparison{Score: 0.7 * rng.Float64(), A: int32(i), B: int32(j)})
		}
	}
	o := AnalyzeOptions{FMRTargets: []float64{1e-2}, Resamples: 100, Seed: 7, Threads: 1}
	a := Analyze(s, o)
	o.Threads = 4
	b := Analyze(s, o)
	if a.EER.CI95 != b.EER.CI95 || a.FNMRAtFMR[0].FNMR.CI95 != b.FNMRAtFMR[0].FNMR.CI95 {
		t.Fatalf("intervals depend on threads: %v %v", a.EER.CI95, b.EER.CI95)
	}
	if th := a.Thresholds[0]; !(th.CI95[0] <= float64(th.Value) && float64(th.Value) <= th.CI95[1]) {
		t.Errorf("threshold %v outside its interval %v", th.Value, th.CI95)
	}
}

func TestPAD(t *testing.T) {
	ps := []Presentation{
		{Live: 0.9, AttackType: Bonafide}, {Live: 0.05, AttackType: Bonafide},
		{Live: 0.5, AttackType: "print"}, {Live: 0.01, AttackType: "print"}, {Live: 0.02, AttackType: "print"}, {Live: 0.3, AttackType: "print"},
		{Live: 0.01, AttackType: "replay"},
	}
	p := ScorePAD(ps, 0.1)
	if p.APCER["print"] != 0.5 || p.APCER["replay"] != 0 || p.BPCER != 0.5 || p.APCERMax != 0.5 || p.ACER != 0.5 {
		t.Errorf("%+v", p)
	}
	if q := ScorePAD(ps[:2], 0.1); q.APCERMax.Measured() || q.ACER.Measured() {
		t.Errorf("no attacks: %+v", q)
	}
	if ci := Wilson(5, 10); math.Abs(ci[0]-0.2366) > 1e-4 || math.Abs(ci[1]-0.7634) > 1e-4 {
		t.Errorf("Wilson(5,10) = %v", ci)
	}
}

func same(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) < 1e-9
}
