package assemble

import (
	"context"
	"path/filepath"
	"testing"

	"vidid/engine"
	"vidid/internal/testenv"
)

// frame640 is a real 640x480 webcam frame (the s01 bona fide video) with
// one face at about 45% of the frame height.
func frame640(b *testing.B) engine.Frame {
	b.Helper()
	f, err := engine.LoadImage(filepath.Join(testenv.DataDir(b), "spoof", "bonafide", "s01-apfol-frames", "s01-apfol-real2-01.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	if f.Width != 640 || f.Height != 480 {
		b.Fatalf("frame is %dx%d, want 640x480", f.Width, f.Height)
	}
	return f
}

func openB(b *testing.B, embedder string) *Engine {
	b.Helper()
	e, err := Open(Config{ModelRoot: testenv.ModelRoot(b), Embedder: embedder, Threads: 1}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Close() })
	return e
}

// BenchmarkAnalyze is the per-frame live path: detect + landmarks +
// quality on a 640x480 frame (target <= 15 ms on one core).
func BenchmarkAnalyze(b *testing.B) {
	e := openB(b, "")
	f := frame640(b)
	ctx := context.Background()
	testenv.ReportCPU(b, func() {
		a, err := e.Analyze(ctx, f)
		if err != nil || a.Main == nil {
			b.Fatalf("analyze: %v, face %v", err, a.Main)
		}
	})
}

// BenchmarkProbe is detect + landmarks + quality + align + embed, the
// whole per-frame cost of a comparison (the Python + OpenCV reference
// pipeline takes ~26 ms).
func BenchmarkProbe(b *testing.B) {
	for _, emb := range []string{EmbedderONNX, EmbedderDlib} {
		b.Run(emb, func(b *testing.B) {
			e := openB(b, emb)
			f := frame640(b)
			ctx := context.Background()
			testenv.ReportCPU(b, func() {
				if _, err := e.ProbeImage(ctx, f); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkEmbed is one embedding of an already located face.
func BenchmarkEmbed(b *testing.B) {
	for _, emb := range []string{EmbedderONNX, EmbedderDlib} {
		b.Run(emb, func(b *testing.B) {
			e := openB(b, emb)
			f := frame640(b)
			ctx := context.Background()
			a, err := e.Analyze(ctx, f)
			if err != nil || a.Main == nil {
				b.Fatal("no face")
			}
			testenv.ReportCPU(b, func() {
				if _, err := e.Embed(ctx, f, *a.Main); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
