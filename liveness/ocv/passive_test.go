package ocv_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"vidid/engine"
	eocv "vidid/engine/ocv"
	"vidid/engine/ocv/ocvtest"
	"vidid/liveness"
	locv "vidid/liveness/ocv"
	"vidid/models"
)

type stack struct {
	d *eocv.Detector
	l *eocv.Landmarker
}

func newStack(tb testing.TB) stack {
	tb.Helper()
	root := ocvtest.ModelRoot(tb)
	d, err := eocv.NewDetector(eocv.DetectorConfig{ModelRoot: root})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	l, err := eocv.NewLandmarker(eocv.LandmarkerConfig{ModelRoot: root})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	return stack{d, l}
}

// face returns the top-scoring face with landmarks, or ok=false if none.
func (s stack) face(tb testing.TB, f engine.Frame) (engine.Face, bool) {
	tb.Helper()
	ctx := context.Background()
	faces, err := s.d.Detect(ctx, f)
	if err != nil {
		tb.Fatalf("Detect: %v", err)
	}
	if len(faces) == 0 {
		return engine.Face{}, false
	}
	fc := faces[0]
	if fc.Landmarks, err = s.l.Landmarks(ctx, f, fc); err != nil {
		tb.Fatalf("Landmarks: %v", err)
	}
	return fc, true
}

// scoreSet returns p(live) for the top face of every frame matching
// pattern, by subject folder, and how many frames had no face.
func scoreSet(t *testing.T, s stack, p liveness.PassiveScorer, data, pattern string) (all []float64, by map[string][]float64, noFace int) {
	by = map[string][]float64{}
	for _, path := range ocvtest.Glob(t, data, pattern) {
		f := ocvtest.Load(t, path)
		fc, ok := s.face(t, f)
		if !ok {
			noFace++
			continue
		}
		v, err := p.Score(context.Background(), f, fc)
		if err != nil {
			t.Fatalf("%s: Score: %v", path, err)
		}
		if v < 0 || v > 1 {
			t.Fatalf("%s: p(live) %v outside [0,1]", path, v)
		}
		all = append(all, v)
		sub := strings.TrimSuffix(filepath.Base(filepath.Dir(path)), "-frames")
		by[sub] = append(by[sub], v)
	}
	return all, by, noFace
}

func describe(by map[string][]float64) string {
	var keys []string
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v := append([]float64(nil), by[k]...)
		fmt.Fprintf(&b, " %s n=%d median %.3f;", k, len(v), ocvtest.Median(v))
	}
	return b.String()
}

// Bona fide video frames must get a higher median p(live) than replay
// frames (a phone or monitor filmed again). Only the ordering of medians is
// asserted: these are a handful of subjects, not an evaluation set.
func TestPassiveBonafideAboveReplay(t *testing.T) {
	data := ocvtest.DataDir(t)
	s := newStack(t)
	for _, name := range []string{"fr_liveness", "minifasnet"} {
		t.Run(name, func(t *testing.T) {
			p, err := passiveScorers(t)[name]()
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			bonafideAboveReplay(t, s, p, data)
		})
	}
}

func bonafideAboveReplay(t *testing.T, s stack, p liveness.PassiveScorer, data string) {
	bona, bonaBy, bonaMiss := scoreSet(t, s, p, data, "spoof/bonafide/*-frames/*.jpg")
	replay, replayBy, replayMiss := scoreSet(t, s, p, data, "spoof/replay/*-frames/*.jpg")
	if len(bona) < 20 || len(replay) < 20 {
		t.Fatalf("too few scored frames: %d bona fide, %d replay", len(bona), len(replay))
	}
	share := func(v []float64, thr float64) float64 {
		n := 0
		for _, x := range v {
			if x >= thr {
				n++
			}
		}
		return float64(n) / float64(len(v))
	}
	mb, mr := ocvtest.Median(append([]float64(nil), bona...)), ocvtest.Median(append([]float64(nil), replay...))
	t.Logf("bona fide: %d frames (%d without face), median p(live) %.3f, share >= 0.3: %.0f%%;%s", len(bona), bonaMiss, mb, 100*share(bona, 0.3), describe(bonaBy))
	t.Logf("replay:    %d frames (%d without face), median p(live) %.3f, share >= 0.3: %.0f%%;%s", len(replay), replayMiss, mr, 100*share(replay, 0.3), describe(replayBy))
	if !(mb > mr) {
		t.Fatalf("median p(live) bona fide %.3f not above replay %.3f", mb, mr)
	}
}

func checkBadInput(t *testing.T, p scorer) {
	f := engine.Frame{Width: 64, Height: 48, Pix: make([]byte, 64*48*3)}
	for _, tc := range []struct {
		name string
		f    engine.Frame
		face engine.Face
		want error
	}{
		{"bad frame", engine.Frame{Width: 2, Height: 2, Pix: []byte{1}}, engine.Face{Box: image.Rect(0, 0, 1, 1)}, engine.ErrBadFrame},
		{"box outside", f, engine.Face{Box: image.Rect(200, 200, 300, 300)}, eocv.ErrBadFace},
		{"empty box", f, engine.Face{}, eocv.ErrBadFace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := p.Score(context.Background(), tc.f, tc.face); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if v, err := p.Score(context.Background(), f, engine.Face{Box: image.Rect(20, 10, 40, 30)}); err != nil || v < 0 || v > 1 {
		t.Fatalf("small valid face: %v, %v", v, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Score(ctx, f, engine.Face{Box: image.Rect(20, 10, 40, 30)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	p.Close()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Score(context.Background(), f, engine.Face{Box: image.Rect(20, 10, 40, 30)}); !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestPassiveCrop(t *testing.T) {
	for _, tc := range []struct {
		name string
		box  image.Rectangle
		want image.Rectangle
	}{
		{"centred 100px face", image.Rect(270, 190, 370, 290), image.Rect(185, 105, 455, 375)},
		{"face at left edge", image.Rect(0, 190, 100, 290), image.Rect(0, 105, 270, 375)},
		{"big face: scale limited", image.Rect(220, 90, 420, 390), image.Rect(80, 0, 559, 479)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := locv.PassiveCrop(engine.Face{Box: tc.box}, 640, 480); got != tc.want {
				t.Fatalf("PassiveCrop = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCorruptLivenessModels(t *testing.T) {
	dir := t.TempDir()
	for name, open := range map[string]func() error{
		"passive": func() error { _, err := locv.NewPassive(locv.PassiveConfig{ModelRoot: dir}); return err },
		"minifasnet": func() error {
			_, err := locv.NewMiniFASNet(locv.MiniFASNetConfig{ModelRoot: dir}, locv.MiniFASNetV1SE)
			return err
		},
		"fused": func() error { _, err := locv.NewFused(locv.MiniFASNetConfig{ModelRoot: dir}); return err },
	} {
		if err := open(); !errors.Is(err, models.ErrModel) || !errors.Is(err, engine.ErrModel) {
			t.Errorf("%s with no model files: %v", name, err)
		}
	}
}
