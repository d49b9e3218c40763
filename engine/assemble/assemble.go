// Package assemble builds vidid's configured face pipeline from model files:
// it is the one place that knows which concrete stages (OpenCV ONNX models,
// dlib) exist, so that everything above it depends only on engine's
// interfaces. Every model file is verified (size + sha256) before a native
// runtime sees it.
package assemble

import (
	"errors"
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"

	"vidid/engine"
	"vidid/engine/dlib"
	"vidid/engine/ocv"
	"vidid/models"
)

// Embedder names.
const (
	EmbedderONNX = "onnx" // faceplugin fr_feature.onnx through OpenCV DNN (default)
	EmbedderDlib = "dlib" // dlib ResNet v1 through go-face
)

// Config selects and configures the stages.
type Config struct {
	// ModelRoot is the model folder (models.Root resolves the default).
	ModelRoot string
	// Embedder is EmbedderONNX (default) or EmbedderDlib.
	Embedder string
	// Threads is OpenCV's thread count (0 = OpenCV's default).
	Threads int
	// DetectorScore is the detector's minimum face probability (0 = default 0.65).
	DetectorScore    float32
	Quality          engine.QualityConfig
	ReferenceQuality engine.QualityConfig
}

// Engine is an assembled pipeline and the native resources behind it.
type Engine struct {
	*engine.Pipeline
	closers []io.Closer
}

// Close frees every native resource. It is safe to call more than once.
func (e *Engine) Close() error {
	var errs []error
	for i := len(e.closers) - 1; i >= 0; i-- {
		errs = append(errs, e.closers[i].Close())
	}
	e.closers = nil
	return errors.Join(errs...)
}

// Open loads the models and builds the pipeline. reg may be nil.
func Open(cfg Config, reg prometheus.Registerer) (_ *Engine, err error) {
	root := models.Root(cfg.ModelRoot)
	e := &Engine{}
	defer func() {
		if err != nil {
			_ = e.Close()
		}
	}()
	det, err := ocv.NewDetector(ocv.DetectorConfig{ModelRoot: root, ScoreThreshold: cfg.DetectorScore, Threads: cfg.Threads})
	if err != nil {
		return nil, fmt.Errorf("load face detector: %w", err)
	}
	e.closers = append(e.closers, det)
	lm, err := ocv.NewLandmarker(ocv.LandmarkerConfig{ModelRoot: root})
	if err != nil {
		return nil, fmt.Errorf("load landmark model: %w", err)
	}
	e.closers = append(e.closers, lm)
	var emb engine.Embedder
	switch cfg.Embedder {
	case "", EmbedderONNX:
		x, err := ocv.NewEmbedder(ocv.EmbedderConfig{ModelRoot: root})
		if err != nil {
			return nil, fmt.Errorf("load onnx embedder: %w", err)
		}
		e.closers = append(e.closers, x)
		emb = x
	case EmbedderDlib:
		x, err := dlib.NewEmbedder(dlib.Config{ModelRoot: root})
		if err != nil {
			return nil, fmt.Errorf("load dlib embedder: %w", err)
		}
		e.closers = append(e.closers, x)
		emb = x
	default:
		return nil, fmt.Errorf("unknown embedder %q (want %s or %s)", cfg.Embedder, EmbedderONNX, EmbedderDlib)
	}
	var opts []engine.Option
	if reg != nil {
		opts = append(opts, engine.WithRegisterer(reg))
	}
	p, err := engine.New(engine.Config{Quality: cfg.Quality, ReferenceQuality: cfg.ReferenceQuality}, det, lm, emb, opts...)
	if err != nil {
		return nil, err
	}
	e.Pipeline = p
	return e, nil
}
