package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// Source is where the active policy is read from (a Store).
type Source interface {
	Active(ctx context.Context) (*Policy, error)
	Put(ctx context.Context, p *Policy, st Status, by string) error
}

// Holder serves the policy in force in a running server: the active
// version with this process's flag overrides applied (a derived version,
// stored so attempts can name it). Reload picks up an activation made by
// an operator in another process; until a valid policy is loaded, Current
// fails and /readyz says so.
type Holder struct {
	src       Source
	model     string
	overrides []Override
	log       *slog.Logger

	mu  sync.RWMutex
	cur *Policy
	err error
}

// NewHolder returns a Holder for the embedder model with the overrides
// given; call Reload before use.
func NewHolder(src Source, model string, overrides []Override, log *slog.Logger) *Holder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Holder{src: src, model: model, overrides: overrides, log: log, err: ErrNoActive}
}

// Reload reads the active policy and applies the overrides. A policy that
// is missing, invalid or lacks the embedder makes Current fail; a failed
// read (the database unreachable) keeps the last good policy in force.
func (h *Holder) Reload(ctx context.Context) error {
	p, err := h.load(ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		if h.cur == nil || errors.Is(err, ErrInvalid) || errors.Is(err, ErrNoActive) || errors.Is(err, ErrNoModel) || errors.Is(err, ErrNotFound) {
			h.err = err
		}
		return err
	}
	if h.cur == nil || h.cur.Version != p.Version {
		h.log.Info("decision policy in force", "version", p.Version, "parent", p.Parent, "digest", p.Digest()[:16])
	}
	h.cur, h.err = p, nil
	return nil
}

func (h *Holder) load(ctx context.Context) (*Policy, error) {
	act, err := h.src.Active(ctx)
	if err != nil {
		return nil, fmt.Errorf("active policy: %w", err)
	}
	if _, err := act.Model(h.model); err != nil {
		return nil, err
	}
	p, err := act.Override(h.model, h.overrides...)
	if err != nil {
		return nil, err
	}
	h.mu.RLock()
	stored := h.cur != nil && h.cur.Version == p.Version // derived and stored by an earlier reload
	h.mu.RUnlock()
	if p != act && !stored {
		if err := h.src.Put(ctx, p, StatusDerived, "serve flags"); err != nil && !errors.Is(err, ErrExists) {
			return nil, fmt.Errorf("store derived policy: %w", err)
		}
	}
	return p, nil
}

// Current is the policy in force, or why there is none.
func (h *Holder) Current() (*Policy, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.err != nil {
		return nil, h.err
	}
	return h.cur, nil
}

// Check is the readiness check: nil while a valid policy is in force.
func (h *Holder) Check(context.Context) error {
	_, err := h.Current()
	return err
}

// Static is a fixed policy (offline commands, tests) with the Current
// signature of a Holder.
type Static struct{ P *Policy }

// Current returns the fixed policy.
func (s Static) Current() (*Policy, error) { return s.P, nil }
