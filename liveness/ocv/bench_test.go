package ocv_test

import (
	"context"
	"path/filepath"
	"testing"

	"vidid/engine"
	eocv "vidid/engine/ocv"
	"vidid/engine/ocv/ocvtest"
	"vidid/internal/testenv"
	locv "vidid/liveness/ocv"
)

// benchFace returns a 640x480 webcam-like frame made from a real photo
// (face about 40% of the frame height) and its face with landmarks. OpenCV
// runs on one thread.
func benchFace(tb testing.TB) (engine.Frame, engine.Face) {
	tb.Helper()
	data := ocvtest.DataDir(tb)
	root := ocvtest.ModelRoot(tb)
	d, err := eocv.NewDetector(eocv.DetectorConfig{ModelRoot: root, Threads: 1})
	if err != nil {
		tb.Fatal(err)
	}
	defer d.Close()
	s := newStack(tb)
	src := ocvtest.Load(tb, filepath.Join(data, "faces/o4n-rick/1.jpg"))
	faces, err := d.Detect(context.Background(), src)
	if err != nil || len(faces) == 0 {
		tb.Fatalf("bench source: %d faces, %v", len(faces), err)
	}
	f, err := ocvtest.Webcam(src, faces[0].Box, 0.4)
	if err != nil {
		tb.Fatal(err)
	}
	fc, ok := s.face(tb, f)
	if !ok {
		tb.Fatal("no face in the bench frame")
	}
	eocv.SetNumThreads(1)
	return f, fc
}

func BenchmarkPassive(b *testing.B) {
	f, fc := benchFace(b)
	p, err := locv.NewPassive(locv.PassiveConfig{ModelRoot: ocvtest.ModelRoot(b), Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Score(context.Background(), f, fc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPassiveScorers: cost per frame of each MiniFASNet model and of
// the fused scorer (both), crop to softmax, one OpenCV thread. cpu-ms-p50/op
// (testenv.ReportCPU) is the median process CPU time per call, steadier
// than wall time on a shared machine.
func BenchmarkPassiveScorers(b *testing.B) {
	f, fc := benchFace(b)
	for _, name := range []string{"minifasnet_v2", "minifasnet_v1se", "minifasnet", "fr_liveness"} {
		b.Run(name, func(b *testing.B) {
			p, err := passiveScorers(b)[name]()
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			eocv.SetNumThreads(1)
			b.ReportAllocs()
			b.ResetTimer()
			testenv.ReportCPU(b, func() {
				if _, err := p.Score(context.Background(), f, fc); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
