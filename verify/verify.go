// Package verify compares a probe face with a citizen's register photo: it
// fetches the photo, embeds it once per model version (cached in the
// register), and scores the probe against it. It is the one place where
// that score is computed, for the one-image API, the CLI and the live
// capture path alike; the decision policy (package policy) decides.
package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"vidid/engine"
	"vidid/idnum"
	"vidid/register"
)

// Register is what verify needs from the population register.
type Register interface {
	Get(ctx context.Context, iin string) (register.Citizen, error)
	GetEmbedding(ctx context.Context, iin, model string) ([]float32, string, error)
	PutEmbedding(ctx context.Context, iin, model, photoSHA256 string, vec []float32) error
}

// Engine is what verify needs from the face pipeline.
type Engine interface {
	Model() string
	Metric() engine.Metric
	ProbeImage(ctx context.Context, f engine.Frame) (engine.Probe, error)
	ReferenceImage(ctx context.Context, f engine.Frame) (engine.Probe, error)
}

// Sentinel errors (besides engine's and register's, which pass through).
var (
	// ErrReferenceUnusable: the register photo has no single usable face.
	ErrReferenceUnusable = errors.New("register photo unusable")
	// ErrReferenceMissing: the citizen has no register photo.
	ErrReferenceMissing = errors.New("register photo missing")
)

// Service answers verification questions.
type Service struct {
	reg Register
	eng Engine
	log *slog.Logger
}

// New returns a Service.
func New(reg Register, eng Engine, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{reg: reg, eng: eng, log: log}
}

// Result is the outcome of one verification.
type Result struct {
	IIN string `json:"-"`
	// Score is the comparison score (engine.Score) of the probe against
	// the register photo; the decision policy judges it.
	Score float64        `json:"score"`
	Probe engine.Quality `json:"probe_quality"`
	Model string         `json:"model"`
	// Citizen is the register record without its photo.
	Citizen register.Citizen `json:"-"`
}

// Reference returns the cached embedding of the citizen's register photo,
// computing and caching it on first use.
func (s *Service) Reference(ctx context.Context, iin string) (engine.Embedding, register.Citizen, error) {
	if err := idnum.ValidateIIN(iin); err != nil {
		return engine.Embedding{}, register.Citizen{}, err
	}
	return s.reference(ctx, iin)
}

// reference is Reference for an IIN already validated.
func (s *Service) reference(ctx context.Context, iin string) (engine.Embedding, register.Citizen, error) {
	c, err := s.reg.Get(ctx, iin)
	if err != nil {
		return engine.Embedding{}, register.Citizen{}, fmt.Errorf("look up register: %w", err)
	}
	if len(c.Photo) == 0 {
		return engine.Embedding{}, c, ErrReferenceMissing
	}
	model := s.eng.Model()
	vec, sha, err := s.reg.GetEmbedding(ctx, iin, model)
	switch {
	case err == nil && sha == c.PhotoSHA256:
		return engine.Embedding{Model: model, Metric: s.eng.Metric(), Vector: vec}, c, nil
	case err != nil && !errors.Is(err, register.ErrNotFound):
		return engine.Embedding{}, c, fmt.Errorf("read cached embedding: %w", err)
	}
	f, err := engine.DecodeImage(c.Photo)
	if err != nil {
		return engine.Embedding{}, c, fmt.Errorf("%w: %v", ErrReferenceUnusable, err)
	}
	pr, err := s.eng.ReferenceImage(ctx, f)
	if err != nil {
		if errors.Is(err, engine.ErrNoFace) || errors.Is(err, engine.ErrMultipleFaces) || errors.Is(err, engine.ErrPoorQuality) {
			return engine.Embedding{}, c, fmt.Errorf("%w: %v", ErrReferenceUnusable, err)
		}
		return engine.Embedding{}, c, fmt.Errorf("embed register photo: %w", err)
	}
	if err := s.reg.PutEmbedding(ctx, iin, model, c.PhotoSHA256, pr.Embedding.Vector); err != nil {
		// A failed cache write costs time on the next call, not correctness.
		s.log.WarnContext(ctx, "cache register embedding", "iin", idnum.MaskIIN(iin), "err", err)
	}
	return pr.Embedding, c, nil
}

// VerifyFrame checks that f shows exactly one usable face and compares it
// with the register photo of iin.
func (s *Service) VerifyFrame(ctx context.Context, iin string, f engine.Frame) (Result, error) {
	// The probe first: whether the caller's image has a usable face must
	// not depend on whether the IIN is registered (no membership oracle).
	if err := idnum.ValidateIIN(iin); err != nil {
		return Result{}, err
	}
	pr, err := s.eng.ProbeImage(ctx, f)
	if err != nil {
		return Result{IIN: iin, Probe: pr.Quality, Model: s.eng.Model()}, fmt.Errorf("probe: %w", err)
	}
	ref, c, err := s.reference(ctx, iin)
	if err != nil {
		return Result{IIN: iin, Probe: pr.Quality, Model: s.eng.Model()}, err
	}
	return s.decide(iin, c, pr, ref)
}

func (s *Service) decide(iin string, c register.Citizen, pr engine.Probe, ref engine.Embedding) (Result, error) {
	sc, err := engine.Score(pr.Embedding, ref)
	if err != nil {
		return Result{}, fmt.Errorf("compare: %w", err)
	}
	c.Photo = nil
	return Result{IIN: iin, Score: sc, Probe: pr.Quality, Model: s.eng.Model(), Citizen: c}, nil
}

// Model is the embedder the scores come from.
func (s *Service) Model() string { return s.eng.Model() }
