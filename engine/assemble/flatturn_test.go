package assemble

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"vidid/capture"
	"vidid/engine"
	"vidid/engine/ocv/ocvtest"
	"vidid/internal/testenv"
)

// A flat photo turned away from the camera is foreshortened, not turned:
// its nose does not move against its cheeks. The yaw read from the
// landmarks, which decides the head-turn prompts, must therefore stay
// below the prompt's bar when a frontal face is squeezed horizontally as a
// photo turned by up to 45° would be (cos 45° ≈ 0.7). This is the
// property that makes a turn prompt defeat a held-up print; a real head
// turned by 15° or more does reach the bar (the e2e prompts).
func TestFlatPhotoTurnedIsNotAHeadTurn(t *testing.T) {
	data := testenv.DataDir(t)
	e, err := Open(Config{ModelRoot: testenv.ModelRoot(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	bar := capture.DefaultConfig().TurnDegrees
	for _, rel := range []string{
		"spoof/bonafide/s03-krzysiek354-frames/s03-krzysiek354-real-01.jpg",
		"spoof/bonafide/s05-wolfhuo-frames/s05-wolfhuo-real-01.jpg",
		"faces/lfw-Anthony_Fauci/1.jpg",
	} {
		f, err := engine.LoadImage(filepath.Join(data, rel))
		if err != nil {
			t.Fatal(err)
		}
		for _, squeeze := range []float64{1, 0.85, 0.7} {
			g := ocvtest.Resize(f, int(float64(f.Width)*squeeze), f.Height)
			a, err := e.Analyze(context.Background(), g)
			if err != nil || a.Main == nil {
				t.Fatalf("%s squeezed to %.2f: no face (%v)", rel, squeeze, err)
			}
			if yaw := a.Quality.Pose.Yaw; math.Abs(yaw) >= bar {
				t.Errorf("%s squeezed to %.2f reads as yaw %.1f°, a head turn (bar %.0f°)", rel, squeeze, yaw, bar)
			}
		}
	}
}
