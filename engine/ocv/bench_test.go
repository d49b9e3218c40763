package ocv_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"vidid/engine"
	"vidid/engine/ocv"
	"vidid/engine/ocv/ocvtest"
)

// benchFrame is a 640x480 webcam-like frame made from a real photo, the
// face about 40% of the frame height.
func benchFrame(tb testing.TB, d *ocv.Detector) engine.Frame {
	tb.Helper()
	data := ocvtest.DataDir(tb)
	src := ocvtest.Load(tb, filepath.Join(data, "faces/o4n-rick/1.jpg"))
	faces, err := d.Detect(context.Background(), src)
	if err != nil || len(faces) == 0 {
		tb.Fatalf("bench source: %d faces, %v", len(faces), err)
	}
	f, err := ocvtest.Webcam(src, faces[0].Box, 0.4)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// benchSetup builds the stages with one OpenCV thread and the face of the
// bench frame with landmarks.
func benchSetup(b *testing.B) (faceStack, engine.Frame, engine.Face) {
	s := newStack(b, 1)
	f := benchFrame(b, s.d)
	fc, err := s.face(context.Background(), f)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	return s, f, fc
}

// BenchmarkDetect runs the detector at its native input (320) and at the
// smaller inputs the live path can use.
func BenchmarkDetect(b *testing.B) {
	for _, w := range []int{320, 240, 160} {
		b.Run(fmt.Sprint(w), func(b *testing.B) {
			_, f, _ := benchSetup(b)
			d := newDetector(b, ocv.DetectorConfig{Threads: 1, InputWidth: w})
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := d.Detect(context.Background(), f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLandmarks(b *testing.B) {
	s, f, fc := benchSetup(b)
	for i := 0; i < b.N; i++ {
		if _, err := s.l.Landmarks(context.Background(), f, fc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDetectLandmarks(b *testing.B) {
	s, f, _ := benchSetup(b)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		faces, err := s.d.Detect(ctx, f)
		if err != nil || len(faces) == 0 {
			b.Fatal(err)
		}
		if _, err := s.l.Landmarks(ctx, f, faces[0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEmbed(b *testing.B) {
	s, f, fc := benchSetup(b)
	for i := 0; i < b.N; i++ {
		if _, err := s.e.Embed(context.Background(), f, fc); err != nil {
			b.Fatal(err)
		}
	}
}

// A Detector shared by several goroutines gives each the same answer as a
// serial call (calls are serialised inside).
func TestDetectConcurrent(t *testing.T) {
	data := ocvtest.DataDir(t)
	d := newDetector(t, ocv.DetectorConfig{})
	paths := singlePersonPhotos(t, data)[:8]
	frames := make([]engine.Frame, len(paths))
	want := make([][]engine.Face, len(paths))
	for i, p := range paths {
		frames[i] = ocvtest.Load(t, p)
		var err error
		if want[i], err = d.Detect(context.Background(), frames[i]); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4*len(frames))
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := range frames {
				i := (k + g) % len(frames)
				got, err := d.Detect(context.Background(), frames[i])
				if err != nil || len(got) != len(want[i]) || got[0].Box != want[i][0].Box || got[0].Score != want[i][0].Score {
					errs <- paths[i]
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for p := range errs {
		t.Errorf("concurrent Detect differs from serial for %s", p)
	}
}
