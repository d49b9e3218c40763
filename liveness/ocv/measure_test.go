//go:build measure

package ocv_test

// Dev-data figures of the passive scorers for docs/liveness.md:
//
//	go test -tags measure -run TestMeasurePassive -v ./liveness/ocv/
//
// Needs ffmpeg (video frames) and $VIDID_DATA. Nothing is asserted: these
// are the public development files, not an evaluation set, and no
// threshold is tuned on them.

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"vidid/engine/ocv/ocvtest"
	"vidid/liveness"
)

type cues struct{ v2, v1se, fused, frl float64 }

func (c cues) get(i int) float64 { return [4]float64{c.v2, c.v1se, c.fused, c.frl}[i] }

var cueNames = [4]string{"MiniFASNetV2", "MiniFASNetV1SE", "mean(V2,V1SE)", "fr_liveness"}

// videoFrames extracts every 3rd frame of a clip (filter appended) as JPEG.
func videoFrames(t *testing.T, src, filter string) []string {
	dir := t.TempDir()
	vf := `select=not(mod(n\,3))`
	if filter != "" {
		vf = filter + "," + vf
	}
	out, err := exec.Command("ffmpeg", "-loglevel", "error", "-i", src, "-vf", vf, "-vsync", "vfr", "-q:v", "2", filepath.Join(dir, "%04d.jpg")).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v: %s", src, err, out)
	}
	m, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
	return m
}

func TestMeasurePassive(t *testing.T) {
	data := ocvtest.DataDir(t)
	st := newStack(t)
	sc := passiveScorers(t)
	fu, err := sc["minifasnet"]()
	if err != nil {
		t.Fatal(err)
	}
	defer fu.Close()
	frl, err := sc["fr_liveness"]()
	if err != nil {
		t.Fatal(err)
	}
	defer frl.Close()
	ctx := context.Background()
	score := func(paths []string) (out []cues, noFace int) {
		for _, p := range paths {
			f := ocvtest.Load(t, p)
			fc, ok := st.face(t, f)
			if !ok {
				noFace++
				continue
			}
			a, err := fu.(liveness.MultiScorer).ScoreAll(ctx, f, fc)
			if err != nil {
				t.Fatal(err)
			}
			b, err := frl.Score(ctx, f, fc)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, cues{a.V2, a.V1SE, a.Fused, b})
		}
		return out, noFace
	}
	glob := func(p string) []string { m, _ := filepath.Glob(filepath.Join(data, p)); return m }
	type set struct {
		name   string
		attack bool
		c      []cues
		clips  map[string][]cues
	}
	var sets []*set
	add := func(name string, attack bool, paths []string) *set {
		c, miss := score(paths)
		t.Logf("%s: %d frames, %d without a face", name, len(c), miss)
		s := &set{name: name, attack: attack, c: c, clips: map[string][]cues{}}
		sets = append(sets, s)
		return s
	}
	add("bona fide frames (57, s01/s03/s05/s09)", false, slices.Concat(glob("spoof/bonafide/s0*-frames/*.jpg")))
	add("bona fide frames s11/s12", false, glob("spoof/bonafide/s1*-frames/*.jpg"))
	add("replay frames (43, s01/s04/s05)", true, slices.Concat(glob("spoof/replay/s0*-frames/*.jpg")))
	add("replay frames s10", true, glob("spoof/replay/s1*-frames/*.jpg"))
	add("print stills (2)", true, glob("spoof/print/*.jpg"))
	for _, kind := range []string{"bonafide", "replay"} {
		s := &set{name: kind + " video frames (every 3rd)", attack: kind == "replay", clips: map[string][]cues{}}
		for _, v := range glob("video/" + kind + "/*") {
			if strings.HasSuffix(v, ".mjpeg") {
				continue
			}
			c, miss := score(videoFrames(t, v, ""))
			t.Logf("%s: %d frames, %d without a face", filepath.Base(v), len(c), miss)
			s.c = append(s.c, c...)
			s.clips[filepath.Base(v)] = c
		}
		sets = append(sets, s)
	}
	zoom := &set{name: "e2e zoomed recording (s01 real2, digital zoom)", attack: true, clips: map[string][]cues{}}
	zoom.c, _ = score(videoFrames(t, filepath.Join(data, "video/bonafide/s01-apfol-real2.webm"),
		"fps=15,pad=iw*1.4:ih*1.4:(ow-iw)/2:(oh-ih)/2,fillborders=left=128:right=128:top=96:bottom=96:mode=smear,"+
			"zoompan=z='if(lt(it,2),1,min(2.4,1+(it-2)*0.7))':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=1:s=640x480:fps=15"))
	zoom.clips["zoom"] = zoom.c
	sets = append(sets, zoom)

	// t5 of each cue on the 57 dev bona fide frames.
	var t5 [4]float64
	for i := range t5 {
		v := make([]float64, 0, len(sets[0].c))
		for _, c := range sets[0].c {
			v = append(v, c.get(i))
		}
		slices.Sort(v)
		t5[i] = v[int(0.05*float64(len(v)))]
	}
	rate := func(c []cues, i int, thr float64, attack bool) string {
		n := 0
		for _, x := range c {
			if (x.get(i) >= thr) == attack {
				n++
			}
		}
		return fmt.Sprintf("%.1f", 100*float64(n)/float64(max(len(c), 1)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nper frame: %% of bona fide frames below the threshold (BPCER) / %% of attack frames at or above it (APCER)\n")
	fmt.Fprintf(&b, "| set | n | fused 0.5 | fused 0.7 | fused 0.8 | fused 0.85 | fused 0.9 | V2 0.8 | V1SE 0.8 | fr_liveness 0.1 |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range sets {
		fmt.Fprintf(&b, "| %s | %d |", s.name, len(s.c))
		for _, thr := range []float64{0.5, 0.7, 0.8, 0.85, 0.9} {
			fmt.Fprintf(&b, " %s |", rate(s.c, 2, thr, s.attack))
		}
		fmt.Fprintf(&b, " %s | %s | %s |\n", rate(s.c, 0, 0.8, s.attack), rate(s.c, 1, 0.8, s.attack), rate(s.c, 3, 0.1, s.attack))
	}
	fmt.Fprintf(&b, "\nt5 on the 57 dev bona fide frames:")
	for i, n := range cueNames {
		fmt.Fprintf(&b, " %s %.3f;", n, t5[i])
	}
	fmt.Fprintf(&b, "\n\nper clip: AttemptScore (trimmed mean) of the fused score over the clip's frames, min/median frame\n")
	for _, s := range sets {
		keys := make([]string, 0, len(s.clips))
		for k := range s.clips {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := make([]float64, 0, len(s.clips[k]))
			for _, c := range s.clips[k] {
				v = append(v, c.fused)
			}
			a, err := liveness.AttemptScore(v)
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			slices.Sort(v)
			fmt.Fprintf(&b, "| %s | %s | %d | %.3f | %.3f / %.3f |\n", s.name, k, len(v), a, v[0], v[len(v)/2])
		}
	}
	t.Log(b.String())
}
