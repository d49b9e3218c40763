package liveness

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"vidid/engine"
	"vidid/internal/testenv"
)

// clip is a public development video decoded to frames.
type clip struct {
	name   string
	fps    float64
	frames []engine.Frame
}

// decodeClip decodes every step-th frame of $VIDID_DATA/video/rel with
// ffmpeg into BGR frames of width w (height keeps the aspect ratio,
// rounded to even). The frames are taken as evenly spaced over the clip's
// duration (some clips have a variable frame rate).
func decodeClip(t testing.TB, rel string, w, step int) clip {
	t.Helper()
	path := filepath.Join(testenv.DataDir(t), "video", rel)
	probe, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height:format=duration",
		"-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", rel, err)
	}
	var sw, sh int
	var dur float64
	lines := strings.Fields(string(probe))
	if len(lines) == 2 {
		dims := strings.Split(lines[0], ",")
		sw, _ = strconv.Atoi(dims[0])
		sh, _ = strconv.Atoi(dims[len(dims)-1])
		dur, _ = strconv.ParseFloat(lines[1], 64)
	}
	if sw == 0 || sh == 0 || dur == 0 {
		t.Fatalf("ffprobe %s: size %q", rel, probe)
	}
	h := (w*sh/sw + 1) &^ 1
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-i", path,
		"-vf", "select=not(mod(n\\,"+strconv.Itoa(step)+")),scale="+strconv.Itoa(w)+":"+strconv.Itoa(h), "-fps_mode", "vfr", "-pix_fmt", "bgr24", "-f", "rawvideo", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v", rel, err)
	}
	n := w * h * 3
	if len(out)%n != 0 || len(out) == 0 {
		t.Fatalf("ffmpeg %s: %d bytes, not frames of %d", rel, len(out), n)
	}
	c := clip{name: rel}
	for i := 0; i+n <= len(out); i += n {
		c.frames = append(c.frames, engine.Frame{Width: w, Height: h, Pix: out[i : i+n : i+n]})
	}
	c.fps = float64(len(c.frames)) / dur
	return c
}

// observations turns frames into observations without faces, the k-th
// arriving at start + k/fps.
func (c clip) observations(start time.Time, frames []engine.Frame) []Observation {
	out := make([]Observation, len(frames))
	for k, f := range frames {
		f.Time = start.Add(time.Duration(float64(k) / c.fps * float64(time.Second)))
		out[k] = NewObservation(f, engine.Analysis{})
	}
	return out
}

// devClips are the clips the data tests play: bona fide webcam
// recordings (VP8 and H.264) and a screen replay.
var devClips = []string{
	"bonafide/s01-apfol-real2.webm",
	"bonafide/s09-zubair-real.webm",
	"bonafide/s05-wolfhuo-real.mp4",
	"replay/s10-wingscape-fake.webm",
}

// TestLoopOnClips: each development clip played once is not a loop; the
// bona fide clip played twice in a row (as Chromium's fake camera loops
// its file) is. The frames are not frozen either.
func TestLoopOnClips(t *testing.T) {
	for _, rel := range devClips {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			c := decodeClip(t, rel, 160, 1)
			once := c.observations(t0, c.frames)
			loop, frozen := feed(NewLoop(LoopConfig{}), once), feed(NewFrozen(FrozenConfig{}), once)
			t.Logf("played once: loop %v, frozen %v", loop.Detail, frozen.Detail)
			live.check(t, loop, ReasonInjection)
			live.check(t, frozen, ReasonInjection)
			if !strings.HasPrefix(rel, "bonafide/s01") {
				return
			}
			again := c.observations(t0.Add(time.Duration(float64(len(c.frames))/c.fps*float64(time.Second))), c.frames)
			attack.check(t, feed(NewLoop(LoopConfig{}), cat(once, again)), ReasonInjection)
			// The first frame held for two seconds (a stalled injection).
			held := make([]engine.Frame, int(2*c.fps))
			for i := range held {
				held[i] = c.frames[0]
			}
			attack.check(t, feed(NewFrozen(FrozenConfig{}), cat(once[:60], c.observations(once[59].Arrival, held))), ReasonInjection)
		})
	}
}
