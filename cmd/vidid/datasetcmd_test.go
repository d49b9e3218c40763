package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"vidid/dataset"
	"vidid/dataset/synth"
	"vidid/engine"
)

// gradient is a synthetic 64×48 bona fide stand-in.
func gradient(t *testing.T, path string, shade byte) {
	t.Helper()
	f := engine.Frame{Width: 64, Height: 48, Pix: make([]byte, 64*48*3)}
	for i := range f.Pix {
		f.Pix[i] = shade + byte(i/3%64)
	}
	if err := writeJPEG(path, f, 95); err != nil {
		t.Fatal(err)
	}
}

// `vidid dataset synth` writes a data set that the spoof loader reads
// back: every image exists, has its source's size, and carries its own
// synthetic attack type; a rerun writes the same bytes.
func TestDatasetSynthCommand(t *testing.T) {
	in := t.TempDir()
	gradient(t, filepath.Join(in, "spoof", "bonafide", "s1", "a.jpg"), 40)
	gradient(t, filepath.Join(in, "spoof", "bonafide", "s2", "b.jpg"), 90)
	gradient(t, filepath.Join(in, "spoof", "print", "c.jpg"), 20)
	labels := filepath.Join(in, "spoof", "labels-frames.csv")
	body := "path,label,attack_type,subject,kind,source\n" +
		"bonafide/s1/a.jpg,bonafide,bonafide,s1,frame,x\nbonafide/s2/b.jpg,bonafide,bonafide,s2,still,x\nprint/c.jpg,attack,print,s3,frame,x\n"
	if err := os.WriteFile(labels, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, from string
		extra      []string
		bonafide   int
		kinds      []string // kinds of the attack rows
	}{
		{"labels file", labels, nil, 2, []string{"frame", "frame", "frame", "still", "still", "still"}},
		{"labels file, frames only, no copies", labels, []string{"--kinds", "frame", "--bonafide=false"}, 0, []string{"frame", "frame", "frame"}},
		{"folder", filepath.Join(in, "spoof", "bonafide"), nil, 2, []string{"still", "still", "still", "still", "still", "still"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			args := append([]string{"dataset", "synth", "--from", tc.from, "--out", out, "--per-image", "3", "--seed", "5"}, tc.extra...)
			if code, _, errs := runCLI(t, args...); code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			ps, err := dataset.LoadSpoofLabels(filepath.Join(out, "spoof", "labels-synthetic.csv"))
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			bona, types := 0, map[string]int{}
			for _, p := range ps {
				f, err := engine.LoadImage(p.Path)
				if err != nil {
					t.Fatal(err)
				}
				if f.Width != 64 || f.Height != 48 {
					t.Errorf("%s: %dx%d, want 64x48", p.Rel, f.Width, f.Height)
				}
				if p.Bonafide {
					bona++
					continue
				}
				kinds = append(kinds, p.Kind)
				types[p.AttackType]++
			}
			slices.Sort(kinds)
			if bona != tc.bonafide || !slices.Equal(kinds, tc.kinds) {
				t.Errorf("bona fide %d, attack kinds %v; want %d, %v", bona, kinds, tc.bonafide, tc.kinds)
			}
			if n := len(tc.kinds) / 3; types[synth.AttackPrint] != 2*n || types[synth.AttackScreen] != n {
				t.Errorf("attack types %v", types)
			}
			// Deterministic: a rerun into another folder writes the same images.
			again := t.TempDir()
			args = append([]string{"dataset", "synth", "--from", tc.from, "--out", again, "--per-image", "3", "--seed", "5"}, tc.extra...)
			if code, _, errs := runCLI(t, args...); code != 0 {
				t.Fatalf("rerun: exit %d: %s", code, errs)
			}
			for _, p := range ps {
				a, _ := os.ReadFile(p.Path)
				b, err := os.ReadFile(filepath.Join(again, "spoof", p.Rel))
				if err != nil || !slices.Equal(a, b) {
					t.Errorf("%s differs on a rerun (%v)", p.Rel, err)
				}
			}
		})
	}
}

func TestDatasetSynthUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no subcommand", []string{"dataset"}, 2, "synth"},
		{"unknown subcommand", []string{"dataset", "nope"}, 2, "unknown subcommand"},
		{"missing flags", []string{"dataset", "synth"}, 2, "--from and --out"},
		{"bad per-image", []string{"dataset", "synth", "--from", "x", "--out", "y", "--per-image", "0"}, 2, "per-image"},
		{"no such input", []string{"dataset", "synth", "--from", "/nonexistent", "--out", "y"}, 1, "--from"},
		{"help", []string{"dataset", "synth", "--help"}, 0, "print-synthetic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, tc.code, tc.want)
			}
		})
	}
}
