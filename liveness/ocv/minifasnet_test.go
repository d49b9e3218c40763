package ocv_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"vidid/engine"
	"vidid/engine/ocv/ocvtest"
	"vidid/liveness"
	locv "vidid/liveness/ocv"
)

var update = flag.Bool("update", false, "rewrite testdata/minifasnet_golden.tsv from the current scorer")

const goldenPath = "testdata/minifasnet_golden.tsv"

func newFused(tb testing.TB) *locv.Fused {
	tb.Helper()
	s, err := locv.NewFused(locv.MiniFASNetConfig{ModelRoot: ocvtest.ModelRoot(tb)})
	if err != nil {
		tb.Fatalf("NewFused: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestMiniFASNetCrop(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model locv.MiniFASNetModel
		box   image.Rectangle
		want  image.Rectangle
	}{
		// Square box (270,190)-(370,290), 2.7x: 185..455 inclusive.
		{"v2 centred", locv.MiniFASNetV2, image.Rect(285, 190, 355, 290), image.Rect(185, 105, 456, 376)},
		// 4.0x the 100 px square is 400 px: fits, centred.
		{"v1se centred", locv.MiniFASNetV1SE, image.Rect(285, 190, 355, 290), image.Rect(120, 40, 521, 441)},
		// 200 px square: 4.0 is limited to 479/200 and the crop spans the height.
		{"v1se limited by height", locv.MiniFASNetV1SE, image.Rect(250, 140, 390, 340), image.Rect(80, 0, 560, 480)},
		{"v2 at the left edge", locv.MiniFASNetV2, image.Rect(0, 190, 100, 290), image.Rect(0, 105, 271, 376)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.model.Crop(engine.Face{Box: tc.box}, 640, 480); got != tc.want {
				t.Fatalf("Crop = %v, want %v", got, tc.want)
			}
		})
	}
}

// golden is one recorded frame: the face box found by the detector when the
// file was written (so that detector changes do not move the scores), and
// both models' p(live).
type golden struct {
	path     string // relative to $VIDID_DATA
	box      image.Rectangle
	v2, v1se float64
}

// goldenFrames picks every 8th bona fide and replay "frame" row of
// spoof/labels-frames.csv.
func goldenFrames(t *testing.T, data string) []string {
	fh, err := os.Open(filepath.Join(data, "spoof", "labels-frames.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	rows, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	n := map[string]int{}
	for _, r := range rows[1:] {
		if r[4] != "frame" || (r[2] != "bonafide" && r[2] != "replay") {
			continue
		}
		if n[r[2]]%8 == 0 {
			out = append(out, filepath.Join("spoof", r[0]))
		}
		n[r[2]]++
	}
	return out
}

func readGolden(t *testing.T) []golden {
	fh, err := os.Open(goldenPath)
	if err != nil {
		t.Fatalf("%v (run the test with -update to record it)", err)
	}
	defer fh.Close()
	var out []golden
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 7 {
			t.Fatalf("golden line %q: %d columns, want 7", line, len(c))
		}
		var v [6]float64
		for i := range v {
			if v[i], err = strconv.ParseFloat(c[i+1], 64); err != nil {
				t.Fatalf("golden line %q: %v", line, err)
			}
		}
		out = append(out, golden{c[0], image.Rect(int(v[0]), int(v[1]), int(v[2]), int(v[3])), v[4], v[5]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func writeGolden(t *testing.T, gs []golden) {
	var b strings.Builder
	b.WriteString("# MiniFASNet p(live) on dev frames: path under $VIDID_DATA, face box x0 y0 x1 y1 (fr_detect), V2 (2.7), V1SE (4.0).\n")
	b.WriteString("# Numbers only. Rewrite with: go test ./liveness/ocv -run TestMiniFASNetGolden -update\n")
	for _, g := range gs {
		fmt.Fprintf(&b, "%s\t%d\t%d\t%d\t%d\t%.6f\t%.6f\n", g.path, g.box.Min.X, g.box.Min.Y, g.box.Max.X, g.box.Max.Y, g.v2, g.v1se)
	}
	if err := os.WriteFile(goldenPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Both models' p(live) on recorded dev frames, with the recorded face box,
// within 1e-4 of the golden file. The fused score is their mean.
func TestMiniFASNetGolden(t *testing.T) {
	data := ocvtest.DataDir(t)
	s := newFused(t)
	ctx := context.Background()
	if *update {
		st := newStack(t)
		var gs []golden
		for _, p := range goldenFrames(t, data) {
			f := ocvtest.Load(t, filepath.Join(data, p))
			fc, ok := st.face(t, f)
			if !ok {
				continue
			}
			sc, err := s.ScoreAll(ctx, f, fc)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			gs = append(gs, golden{p, fc.Box, sc.V2, sc.V1SE})
		}
		writeGolden(t, gs)
	}
	gs := readGolden(t)
	if len(gs) < 10 {
		t.Fatalf("golden file has %d frames, want at least 10", len(gs))
	}
	for _, g := range gs {
		t.Run(filepath.Base(g.path), func(t *testing.T) {
			f := ocvtest.Load(t, filepath.Join(data, g.path))
			sc, err := s.ScoreAll(ctx, f, engine.Face{Box: g.box})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(sc.V2-g.v2) > 1e-4 || math.Abs(sc.V1SE-g.v1se) > 1e-4 {
				t.Errorf("V2 %.6f V1SE %.6f, golden %.6f %.6f", sc.V2, sc.V1SE, g.v2, g.v1se)
			}
			if math.Abs(sc.Fused-(sc.V2+sc.V1SE)/2) > 1e-12 {
				t.Errorf("Fused %v is not the mean of %v and %v", sc.Fused, sc.V2, sc.V1SE)
			}
		})
	}
}

// scorer is a passive scorer the tests open and close.
type scorer interface {
	liveness.PassiveScorer
	Close() error
}

// passiveScorers opens every passive scorer of the package.
func passiveScorers(tb testing.TB) map[string]func() (scorer, error) {
	root := ocvtest.ModelRoot(tb)
	cfg := locv.MiniFASNetConfig{ModelRoot: root}
	return map[string]func() (scorer, error){
		"fr_liveness":     func() (scorer, error) { return locv.NewPassive(locv.PassiveConfig{ModelRoot: root}) },
		"minifasnet_v2":   func() (scorer, error) { return locv.NewMiniFASNet(cfg, locv.MiniFASNetV2) },
		"minifasnet_v1se": func() (scorer, error) { return locv.NewMiniFASNet(cfg, locv.MiniFASNetV1SE) },
		"minifasnet":      func() (scorer, error) { return locv.NewFused(cfg) },
	}
}

// Every passive scorer rejects bad input with the right sentinel, scores a
// small valid face within [0,1], closes idempotently and fails after Close.
func TestPassiveScorersBadInput(t *testing.T) {
	for name, open := range passiveScorers(t) {
		t.Run(name, func(t *testing.T) {
			p, err := open()
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			checkBadInput(t, p)
		})
	}
}
