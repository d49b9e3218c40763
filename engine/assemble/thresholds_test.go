package assemble

import (
	"os"
	"path/filepath"
	"testing"
)

func TestThresholdSetSamePerson(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.json")
	if err := os.WriteFile(path, []byte(`{"version": "v-test", "thresholds": [
		{"model": "a", "score": 0.7, "same_person": 0.6, "moderation_band": 0.04},
		{"model": "b", "score": 0.7},
		{"model": "c", "score": 0.7, "same_person": 1.5},
		{"model": "e", "score": 0.7, "moderation_band": 0.7}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ts, err := LoadThresholds(path)
	if err != nil {
		t.Fatal(err)
	}
	if th, err := ts.For("a"); err != nil || th.SamePerson != 0.6 || th.Score != 0.7 || th.Version != "v-test" || th.ModerationBand != 0.04 {
		t.Errorf("a: %+v, %v", th, err)
	}
	if th, err := ts.For("b"); err != nil || th.SamePerson != 0 || th.ModerationBand != 0 {
		t.Errorf("b (no same_person, no band: both off): %+v, %v", th, err)
	}
	if _, err := ts.For("e"); err == nil {
		t.Error("e: a moderation band as wide as the threshold accepted")
	}
	if _, err := ts.For("c"); err == nil {
		t.Error("c: same_person 1.5 accepted")
	}
	if _, err := ts.For("d"); err == nil {
		t.Error("d: a model without a threshold accepted")
	}
	// The built-in set: onnx at its LFW EER point, dlib off (docs/liveness.md).
	def, err := LoadThresholds("")
	if err != nil {
		t.Fatal(err)
	}
	for m, want := range map[string]float64{"faceplugin-fr_feature@87aacdfe": 0.623, "dlib-resnet-v1@cdb1d47b": 0} {
		if th, err := def.For(m); err != nil || th.SamePerson != want || th.ModerationBand != 0.05 {
			t.Errorf("built-in %s: %+v, %v; want same_person %v", m, th, err, want)
		}
	}
}
