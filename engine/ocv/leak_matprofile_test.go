//go:build matprofile

package ocv_test

import (
	"context"
	"testing"

	"gocv.io/x/gocv"

	"vidid/engine/ocv"
	"vidid/engine/ocv/ocvtest"
)

// Run with -tags matprofile: every Mat the stages create is closed, both
// per call and at Close.
func TestNoMatLeaks(t *testing.T) {
	root := ocvtest.ModelRoot(t)
	before := gocv.MatProfile.Count()
	d, err := ocv.NewDetector(ocv.DetectorConfig{ModelRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ocv.NewLandmarker(ocv.LandmarkerConfig{ModelRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	e, err := ocv.NewEmbedder(ocv.EmbedderConfig{ModelRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	s := faceStack{d: d, l: l, e: e}
	f := benchFrame(t, d)
	ctx := context.Background()
	run := func() {
		fc, err := s.face(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Embed(ctx, f, fc); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Align(ctx, f, fc); err != nil {
			t.Fatal(err)
		}
	}
	run()
	steady := gocv.MatProfile.Count()
	for i := 0; i < 20; i++ {
		run()
	}
	if n := gocv.MatProfile.Count(); n != steady {
		t.Errorf("live Mats grew from %d to %d over 20 calls", steady, n)
	}
	for _, c := range []interface{ Close() error }{d, l, e} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := gocv.MatProfile.Count(); n != before {
		t.Errorf("%d Mats still open after Close (before: %d)", n, before)
	}
}
