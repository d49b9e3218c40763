package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Pipeline.
type Config struct {
	Quality QualityConfig
	// ReferenceQuality is the (usually laxer) gate for register photos.
	ReferenceQuality QualityConfig
}

// Pipeline runs detection, landmarks, quality, embedding and comparison. It
// is safe for concurrent use when its stages are.
type Pipeline struct {
	cfg Config
	det Detector
	lm  Landmarker
	emb Embedder
	m   *metrics
	// metric of the embedder's vectors, for embeddings read back from a cache.
	metric Metric
}

// Option configures a Pipeline.
type Option func(*Pipeline) error

// WithRegisterer registers the pipeline's metrics with reg.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(p *Pipeline) error {
		m, err := newMetrics(reg)
		if err != nil {
			return err
		}
		p.m = m
		return nil
	}
}

// New builds a pipeline from explicit stages.
func New(cfg Config, det Detector, lm Landmarker, emb Embedder, opts ...Option) (*Pipeline, error) {
	if det == nil || lm == nil || emb == nil {
		return nil, errors.New("engine: detector, landmarker and embedder are all required")
	}
	p := &Pipeline{cfg: cfg, det: det, lm: lm, emb: emb, metric: Cosine}
	if m, ok := emb.(interface{ Metric() Metric }); ok {
		p.metric = m.Metric()
	}
	p.cfg.Quality = cfg.Quality.withDefaults()
	p.cfg.ReferenceQuality = cfg.ReferenceQuality.withDefaults()
	for _, o := range opts {
		if err := o(p); err != nil {
			return nil, err
		}
	}
	if p.m == nil {
		p.m, _ = newMetrics(nil)
	}
	return p, nil
}

// Model returns the embedder's model id.
func (p *Pipeline) Model() string { return p.emb.Model() }

// Metric returns how the embedder's vectors are compared.
func (p *Pipeline) Metric() Metric { return p.metric }

// Analysis is what one frame shows: all faces, and for the main face its
// landmarks and quality.
type Analysis struct {
	Faces []Face
	// Main is the largest face (nil when there is none).
	Main *Face
	// Others counts faces large enough to be a second person.
	Others  int
	Quality Quality
}

// Analyze detects faces, picks the main one, locates its landmarks and
// measures its quality. No face or several faces are not errors here: the
// live path turns them into guidance. Errors are stage failures.
func (p *Pipeline) Analyze(ctx context.Context, f Frame) (Analysis, error) {
	return p.analyze(ctx, f, p.cfg.Quality)
}

func (p *Pipeline) analyze(ctx context.Context, f Frame, qc QualityConfig) (Analysis, error) {
	if err := f.Validate(); err != nil {
		return Analysis{}, err
	}
	var a Analysis
	t := time.Now()
	faces, err := p.det.Detect(ctx, f)
	p.m.observe("detect", p.emb.Model(), t, err)
	if err != nil {
		return a, fmt.Errorf("detect faces: %w", err)
	}
	a.Faces = faces
	if len(faces) == 0 {
		return a, nil
	}
	main := mainFace(f, faces)
	mh := faces[main].Box.Dy()
	for i := range faces {
		if i != main && faces[i].Box.Dy() >= 24 && float64(faces[i].Box.Dy()) >= qc.SecondFaceRatio*float64(mh) {
			a.Others++
		}
	}
	t = time.Now()
	lm, err := p.lm.Landmarks(ctx, f, faces[main])
	p.m.observe("landmarks", p.emb.Model(), t, err)
	if err != nil {
		return a, fmt.Errorf("locate landmarks: %w", err)
	}
	faces[main].Landmarks = lm
	a.Main = &faces[main]
	t = time.Now()
	a.Quality = MeasureQuality(f, *a.Main, qc)
	p.m.observe("quality", p.emb.Model(), t, nil)
	return a, nil
}

// mainFace picks the subject: among the faces at least half as tall as the
// tallest, the one nearest the frame centre. Pure "largest" picks faces cut
// off at the frame edge in news photos; pure "most central" can pick a small
// face in the background.
func mainFace(f Frame, faces []Face) int {
	tallest := 0
	for _, x := range faces {
		tallest = max(tallest, x.Box.Dy())
	}
	cx, cy := float64(f.Width)/2, float64(f.Height)/2
	best, bestD := -1, 0.0
	for i, x := range faces {
		if 2*x.Box.Dy() < tallest {
			continue
		}
		mx, my := float64(x.Box.Min.X+x.Box.Max.X)/2, float64(x.Box.Min.Y+x.Box.Max.Y)/2
		if d := (mx-cx)*(mx-cx) + (my-cy)*(my-cy); best < 0 || d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

// Probe is one face ready for comparison.
type Probe struct {
	Face      Face
	Quality   Quality
	Embedding Embedding
}

// ProbeImage requires exactly one usable face in f and embeds it. It returns
// ErrNoFace, ErrMultipleFaces or ErrPoorQuality (with the issues) wrapped,
// alongside what was measured.
func (p *Pipeline) ProbeImage(ctx context.Context, f Frame) (Probe, error) {
	return p.probe(ctx, f, p.cfg.Quality)
}

// ReferenceImage is ProbeImage for a register photo, with the reference gate.
func (p *Pipeline) ReferenceImage(ctx context.Context, f Frame) (Probe, error) {
	return p.probe(ctx, f, p.cfg.ReferenceQuality)
}

func (p *Pipeline) probe(ctx context.Context, f Frame, qc QualityConfig) (Probe, error) {
	a, err := p.analyze(ctx, f, qc)
	if err != nil {
		return Probe{}, err
	}
	if a.Main == nil {
		return Probe{}, ErrNoFace
	}
	pr := Probe{Face: *a.Main, Quality: a.Quality}
	if a.Others > 0 {
		return pr, fmt.Errorf("%w: %d faces", ErrMultipleFaces, a.Others+1)
	}
	if !a.Quality.OK() {
		return pr, fmt.Errorf("%w: %v", ErrPoorQuality, a.Quality.Issues)
	}
	pr.Embedding, err = p.Embed(ctx, f, pr.Face)
	return pr, err
}

// Embed embeds one face (with landmarks).
func (p *Pipeline) Embed(ctx context.Context, f Frame, face Face) (Embedding, error) {
	t := time.Now()
	e, err := p.emb.Embed(ctx, f, face)
	p.m.observe("embed", p.emb.Model(), t, err)
	if err != nil {
		return Embedding{}, fmt.Errorf("embed face: %w", err)
	}
	return e, nil
}

// Align returns the aligned chip the embedder computes face's embedding
// from (face needs landmarks), or an error wrapping ErrNoAligner when the
// embedder does not expose one.
func (p *Pipeline) Align(ctx context.Context, f Frame, face Face) (Frame, error) {
	a, ok := p.emb.(Aligner)
	if !ok {
		return Frame{}, fmt.Errorf("align face: %w (%s)", ErrNoAligner, p.emb.Model())
	}
	t := time.Now()
	chip, err := a.Align(ctx, f, face)
	p.m.observe("align", p.emb.Model(), t, err)
	if err != nil {
		return Frame{}, fmt.Errorf("align face: %w", err)
	}
	return chip, nil
}

// EmbedLargest embeds the largest face in f without the quality gate or the
// one-face rule. It is for benchmarks over labelled photo sets, where a
// bystander in the background must not void a pair; the live and API paths
// use ProbeImage.
func (p *Pipeline) EmbedLargest(ctx context.Context, f Frame) (Probe, error) {
	a, err := p.analyze(ctx, f, p.cfg.ReferenceQuality)
	if err != nil {
		return Probe{}, err
	}
	if a.Main == nil {
		return Probe{}, ErrNoFace
	}
	pr := Probe{Face: *a.Main, Quality: a.Quality}
	pr.Embedding, err = p.Embed(ctx, f, pr.Face)
	return pr, err
}
