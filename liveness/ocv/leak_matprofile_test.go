//go:build matprofile

package ocv_test

import (
	"context"
	"testing"

	"gocv.io/x/gocv"

	"vidid/engine/ocv/ocvtest"
	locv "vidid/liveness/ocv"
)

// Run with -tags matprofile: every Mat the liveness stages create is closed,
// per call and at Close.
func TestNoMatLeaks(t *testing.T) {
	f, fc := benchFace(t)
	root := ocvtest.ModelRoot(t)
	before := gocv.MatProfile.Count()
	p, err := locv.NewPassive(locv.PassiveConfig{ModelRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	fu, err := locv.NewFused(locv.MiniFASNetConfig{ModelRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run := func() {
		if _, err := p.Score(ctx, f, fc); err != nil {
			t.Fatal(err)
		}
		if _, err := fu.ScoreAll(ctx, f, fc); err != nil {
			t.Fatal(err)
		}
	}
	run()
	steady := gocv.MatProfile.Count()
	for i := 0; i < 10; i++ {
		run()
	}
	if n := gocv.MatProfile.Count(); n != steady {
		t.Errorf("live Mats grew from %d to %d over 10 calls", steady, n)
	}
	for _, c := range []interface{ Close() error }{p, fu} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := gocv.MatProfile.Count(); n != before {
		t.Errorf("%d Mats still open after Close (before: %d)", n, before)
	}
}
