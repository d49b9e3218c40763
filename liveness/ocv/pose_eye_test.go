package ocv_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"

	"vidid/engine"
	eocv "vidid/engine/ocv"
	"vidid/engine/ocv/ocvtest"
	locv "vidid/liveness/ocv"
)

func onePersonPhotos(tb testing.TB, data string) []string {
	return append(ocvtest.Glob(tb, data, "faces/o4n-*/*.jpg"), ocvtest.Glob(tb, data, "faces/gofacetd-*/*.jpg")...)
}

func newPose(tb testing.TB) *locv.PoseEstimator {
	tb.Helper()
	p, err := locv.NewPoseEstimator(locv.PoseConfig{ModelRoot: ocvtest.ModelRoot(tb)})
	if err != nil {
		tb.Fatalf("NewPoseEstimator: %v", err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

func newEye(tb testing.TB) *locv.EyeState {
	tb.Helper()
	e, err := locv.NewEyeState(locv.EyeConfig{ModelRoot: ocvtest.ModelRoot(tb)})
	if err != nil {
		tb.Fatalf("NewEyeState: %v", err)
	}
	tb.Cleanup(func() { e.Close() })
	return e
}

// Head pose must behave like geometry: mirroring a photo negates yaw and
// roll, turning the image clockwise by 20 degrees raises roll by about 20,
// and yaw agrees in sign with the landmark geometry for clearly turned heads.
func TestPoseConsistency(t *testing.T) {
	data := ocvtest.DataDir(t)
	s := newStack(t)
	p := newPose(t)
	ctx := context.Background()
	var yawAsym, rollAsym, rollGain []float64
	agree, turned := 0, 0
	for _, path := range onePersonPhotos(t, data) {
		f := ocvtest.Load(t, path)
		fc, ok := s.face(t, f)
		if !ok {
			t.Fatalf("%s: no face", path)
		}
		yaw, pitch, roll, err := p.Pose(ctx, f, fc)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []float64{yaw, pitch, roll} {
			if math.IsNaN(v) || v < -99 || v > 99 {
				t.Fatalf("%s: pose %v %v %v out of range", path, yaw, pitch, roll)
			}
		}
		mf := ocvtest.Flip(f)
		mfc, ok := s.face(t, mf)
		if !ok {
			t.Fatalf("%s mirrored: no face", path)
		}
		myaw, _, mroll, err := p.Pose(ctx, mf, mfc)
		if err != nil {
			t.Fatal(err)
		}
		rf := ocvtest.Rotate(f, 20)
		rfc, ok := s.face(t, rf)
		if !ok {
			t.Fatalf("%s rotated: no face", path)
		}
		_, _, rroll, err := p.Pose(ctx, rf, rfc)
		if err != nil {
			t.Fatal(err)
		}
		yawAsym = append(yawAsym, math.Abs(yaw+myaw))
		rollAsym = append(rollAsym, math.Abs(roll+mroll))
		rollGain = append(rollGain, rroll-roll)
		if geo := engine.PoseFromLandmarks(fc.Landmarks).Yaw; math.Abs(geo) > 15 {
			turned++
			if (geo > 0) == (yaw > 0) {
				agree++
			}
		}
	}
	my, mr, mg := ocvtest.Median(yawAsym), ocvtest.Median(rollAsym), ocvtest.Median(rollGain)
	t.Logf("%d photos: median |yaw+yaw(mirror)| %.1f deg, |roll+roll(mirror)| %.1f deg, roll change for a 20 deg clockwise turn %.1f deg; yaw sign agrees with geometry on %d of %d turned heads",
		len(yawAsym), my, mr, mg, agree, turned)
	if my > 8 || mr > 8 {
		t.Errorf("mirror asymmetry too large: yaw %.1f, roll %.1f (median degrees)", my, mr)
	}
	if mg < 10 || mg > 30 {
		t.Errorf("median roll change %.1f for a 20 degree turn", mg)
	}
	if turned < 5 || float64(agree) < 0.8*float64(turned) {
		t.Errorf("yaw sign agrees with landmark geometry on only %d of %d turned heads", agree, turned)
	}
}

// The photos show open eyes: most must read as open. (fr_eye is weak on
// soft webcam frames; see the package report. Only the majority is
// asserted.)
func TestEyesOpenOnPhotos(t *testing.T) {
	data := ocvtest.DataDir(t)
	s := newStack(t)
	e := newEye(t)
	var left, right []float64
	for _, path := range onePersonPhotos(t, data) {
		f := ocvtest.Load(t, path)
		fc, ok := s.face(t, f)
		if !ok {
			t.Fatalf("%s: no face", path)
		}
		l, r, err := e.EyesClosed(context.Background(), f, fc)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(path), err)
		}
		if l < 0 || l > 1 || r < 0 || r > 1 {
			t.Fatalf("p(closed) %v %v outside [0,1]", l, r)
		}
		left, right = append(left, l), append(right, r)
	}
	count := func(v []float64) (n int) {
		for _, x := range v {
			if x > 0.5 {
				n++
			}
		}
		return n
	}
	nl, nr := count(left), count(right)
	t.Logf("%d photos with open eyes: read closed (p > 0.5) left %d, right %d; median p(closed) %.3f / %.3f",
		len(left), nl, nr, ocvtest.Median(append([]float64(nil), left...)), ocvtest.Median(append([]float64(nil), right...)))
	if 4*nl > len(left) || 4*nr > len(right) {
		t.Fatalf("more than a quarter of open eyes read closed: left %d, right %d of %d", nl, nr, len(left))
	}
}

func TestEyeAndPoseBadInput(t *testing.T) {
	e := newEye(t)
	p := newPose(t)
	ctx := context.Background()
	f := engine.Frame{Width: 64, Height: 48, Pix: make([]byte, 64*48*3)}
	if _, _, err := e.EyesClosed(ctx, f, engine.Face{}); !errors.Is(err, eocv.ErrNoLandmarks) {
		t.Fatalf("eye without landmarks: %v", err)
	}
	if _, _, err := e.EyesClosed(ctx, f, engine.Face{Landmarks: make([]engine.Point, 68)}); !errors.Is(err, eocv.ErrBadFace) {
		t.Fatalf("eye with collapsed landmarks: %v", err)
	}
	if _, _, _, err := p.Pose(ctx, f, engine.Face{}); !errors.Is(err, eocv.ErrBadFace) {
		t.Fatalf("pose with empty box: %v", err)
	}
	if _, _, _, err := p.Pose(ctx, engine.Frame{}, engine.Face{}); !errors.Is(err, engine.ErrBadFrame) {
		t.Fatalf("pose with bad frame: %v", err)
	}
	e.Close()
	p.Close()
	if e.Close() != nil || p.Close() != nil {
		t.Fatal("second Close failed")
	}
	lm := make([]engine.Point, 68)
	for i := range lm {
		lm[i] = engine.Point{X: float32(10 + i%20), Y: float32(10 + i%15)}
	}
	if _, _, err := e.EyesClosed(ctx, f, engine.Face{Landmarks: lm}); !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("eye after Close: %v", err)
	}
	if _, _, _, err := p.Pose(ctx, f, engine.Face{Box: f.Bounds()}); !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("pose after Close: %v", err)
	}
}
