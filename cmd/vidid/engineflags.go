package main

import (
	"flag"

	"github.com/prometheus/client_golang/prometheus"

	"vidid/engine"
	"vidid/engine/assemble"
)

// engineFlags are the flags every command that loads the face models takes.
type engineFlags struct {
	models     string
	embedder   string
	thresholds string
	threshold  float64
	threads    int
}

func (f *engineFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.models, "models", envOr("VIDID_MODELS", "var/models"), "model root `dir` (env VIDID_MODELS); 'make models' fills it")
	fs.StringVar(&f.embedder, "embedder", envOr("VIDID_EMBEDDER", assemble.EmbedderONNX), "face embedder: onnx (default; better at low false-match rates) or dlib (env VIDID_EMBEDDER)")
	fs.StringVar(&f.thresholds, "thresholds", envOr("VIDID_THRESHOLDS", ""), "threshold set `file` (JSON, versioned); default: the built-in set")
	fs.Float64Var(&f.threshold, "threshold", 0, "override the match threshold in score units, 0..1 (for experiments; recorded as version \"override\")")
	fs.IntVar(&f.threads, "threads", 0, "OpenCV threads (0 = OpenCV default)")
}

// referenceQuality is the gate for register photos: they are stills taken
// under controlled conditions, often small and tightly cropped, so size and
// pose limits are laxer than for the live probe.
func referenceQuality() engine.QualityConfig {
	q := engine.DefaultQualityConfig()
	q.MinFacePx = 48
	q.MaxYaw, q.MaxPitch, q.MaxRoll = 45, 35, 35
	q.MinSharpness = 4
	return q
}

func (f *engineFlags) open(reg prometheus.Registerer) (*assemble.Engine, error) {
	ts, err := assemble.LoadThresholds(f.thresholds)
	if err != nil {
		return nil, err
	}
	return assemble.Open(assemble.Config{
		ModelRoot: f.models, Embedder: f.embedder, Threads: f.threads,
		Thresholds: ts, ThresholdOverride: f.threshold,
		ReferenceQuality: referenceQuality(),
	}, reg)
}
