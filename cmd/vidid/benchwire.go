package main

import (
	"context"
	"fmt"
	"time"

	"vidid/bench"
	"vidid/engine"
	"vidid/engine/assemble"
	"vidid/liveness"
	livocv "vidid/liveness/ocv"
)

// benchAcquireRule versions the acquisition rule in the cache key: change
// it when faceAcquirer or livenessAcquirer decide differently.
const benchAcquireRule = "acq-v1"

// enginePool hands out one engine per worker (the OpenCV stages lock
// around their buffers, so workers sharing one engine would queue).
type enginePool struct {
	engines chan *assemble.Engine
	all     []*assemble.Engine
}

func openEnginePool(ef engineFlags, n int) (*enginePool, error) {
	p := &enginePool{engines: make(chan *assemble.Engine, n)}
	ef.threads = 1 // parallelism comes from the workers
	for range n {
		e, err := ef.open(nil)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.all = append(p.all, e)
		p.engines <- e
	}
	return p, nil
}

func (p *enginePool) Close() {
	for _, e := range p.all {
		e.Close()
	}
	p.all = nil
}

func (p *enginePool) with(ctx context.Context, fn func(*assemble.Engine) error) error {
	select {
	case e := <-p.engines:
		defer func() { p.engines <- e }()
		return fn(e)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// mainFace loads an image and finds the subject's face, timing the stage.
// A second face at least half as tall as the main one makes the subject
// ambiguous (engine.ErrMultipleFaces); smaller faces are background.
func mainFace(ctx context.Context, eng *assemble.Engine, path string, stages map[string]float64) (engine.Frame, engine.Analysis, error) {
	f, err := engine.LoadImage(path)
	if err != nil {
		return f, engine.Analysis{}, fmt.Errorf("%w: %w", bench.ErrUnreadable, err)
	}
	t := time.Now()
	a, err := eng.Analyze(ctx, f)
	stages["analyze"] = ms(time.Since(t))
	if err != nil {
		return f, a, err
	}
	if a.Main == nil {
		return f, a, engine.ErrNoFace
	}
	for _, x := range a.Faces {
		if x.Box != a.Main.Box && 2*x.Box.Dy() >= a.Main.Box.Dy() {
			return f, a, fmt.Errorf("%w: second face %v beside %v", engine.ErrMultipleFaces, x.Box, a.Main.Box)
		}
	}
	return f, a, nil
}

// faceAcquirer embeds the subject's face of an image.
type faceAcquirer struct {
	pool  *enginePool
	model string
}

var _ bench.Acquirer = (*faceAcquirer)(nil)

func (a *faceAcquirer) ID() string { return a.model + "+" + benchAcquireRule }

func (a *faceAcquirer) Acquire(ctx context.Context, path string) (bench.Acquisition, error) {
	out := bench.Acquisition{Stages: map[string]float64{}}
	err := a.pool.with(ctx, func(eng *assemble.Engine) error {
		f, an, err := mainFace(ctx, eng, path, out.Stages)
		if err != nil {
			return err
		}
		out.QualityOK = engine.MeasureQuality(f, *an.Main, referenceQuality()).OK()
		t := time.Now()
		e, err := eng.Embed(ctx, f, *an.Main)
		out.Stages["embed"] = ms(time.Since(t))
		out.Model, out.Metric, out.Vector = e.Model, e.Metric, e.Vector
		return err
	})
	return out, err
}

// livenessAcquirer scores the subject's face of an image with a passive
// scorer. Only a missing face is a failure to acquire: frames with a
// second face (replay+live-face) are scored on the main face.
type livenessAcquirer struct {
	pool    *enginePool
	scorers chan liveness.PassiveScorer
	id      string
}

func (a *livenessAcquirer) ID() string { return a.id + "+" + benchAcquireRule }

func (a *livenessAcquirer) Acquire(ctx context.Context, path string) (bench.Acquisition, error) {
	out := bench.Acquisition{Stages: map[string]float64{}, QualityOK: true}
	err := a.pool.with(ctx, func(eng *assemble.Engine) error {
		f, err := engine.LoadImage(path)
		if err != nil {
			return fmt.Errorf("%w: %w", bench.ErrUnreadable, err)
		}
		t := time.Now()
		an, err := eng.Analyze(ctx, f)
		out.Stages["analyze"] = ms(time.Since(t))
		if err != nil {
			return err
		}
		if an.Main == nil {
			return engine.ErrNoFace
		}
		s := <-a.scorers
		defer func() { a.scorers <- s }()
		t = time.Now()
		out.Live, err = s.Score(ctx, f, *an.Main)
		out.Stages["passive"] = ms(time.Since(t))
		return err
	})
	return out, err
}

// benchPassive opens the passive scorer the bench measures: the one serve
// runs by default (MiniFASNet V2 and V1SE fused, the policy's passiveCue),
// so the report's rates belong to the threshold it names.
func benchPassive(models string) (liveness.PassiveScorer, string, func(), error) {
	p, err := livocv.NewFused(livocv.MiniFASNetConfig{ModelRoot: models})
	if err != nil {
		return nil, "", nil, err
	}
	return p, passiveCue + "-fused@3160be49+929c8b1f", func() { p.Close() }, nil
}

func newLivenessAcquirer(pool *enginePool, models string, n int) (*livenessAcquirer, func(), error) {
	a := &livenessAcquirer{pool: pool, scorers: make(chan liveness.PassiveScorer, n)}
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	for range n {
		s, id, closeFn, err := benchPassive(models)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		a.id = id
		closers = append(closers, closeFn)
		a.scorers <- s
	}
	return a, closeAll, nil
}
