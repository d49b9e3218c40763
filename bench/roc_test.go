package bench

import (
	"errors"
	"math"
	"testing"
)

func TestRates(t *testing.T) {
	s := Scores{Genuine: []float64{0.9, 0.8, 0.7, 0.6}, Impostor: []float64{0.1, 0.2, 0.3, 0.65}}
	tests := []struct {
		t         float64
		fmr, fnmr float64
	}{
		{0.05, 1, 0},
		{0.5, 0.25, 0},
		{0.62, 0.25, 0.25},
		{0.66, 0, 0.25},
		{0.95, 0, 1},
	}
	for _, tc := range tests {
		p := s.At(tc.t)
		if p.FMR != tc.fmr || p.FNMR != tc.fnmr {
			t.Errorf("At(%v) = %+v, want FMR %v FNMR %v", tc.t, p, tc.fmr, tc.fnmr)
		}
	}
	eer, th, err := s.EER()
	if err != nil || eer != 0.25 || th < 0.6 || th > 0.65 {
		t.Errorf("EER = %v at %v (%v), want 0.25 between 0.6 and 0.65", eer, th, err)
	}
	p, _ := s.FNMRAtFMR(0)
	if p.FMR != 0 || p.FNMR != 0.25 {
		t.Errorf("FNMR@FMR0 = %+v", p)
	}
	auc, _ := s.AUC()
	if math.Abs(auc-15.0/16) > 1e-9 {
		t.Errorf("AUC = %v, want 15/16", auc)
	}
}

func TestSeparable(t *testing.T) {
	s := Scores{Genuine: []float64{0.9, 0.95}, Impostor: []float64{0.1, 0.2}}
	if eer, _, _ := s.EER(); eer != 0 {
		t.Fatalf("EER of separable scores = %v", eer)
	}
	if auc, _ := s.AUC(); auc != 1 {
		t.Fatalf("AUC = %v", auc)
	}
}

func TestEmpty(t *testing.T) {
	if _, _, err := (Scores{Genuine: []float64{1}}).EER(); !errors.Is(err, ErrTooFewScores) {
		t.Fatalf("err = %v", err)
	}
}
