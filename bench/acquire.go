package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"vidid/engine"
)

// Failure-to-acquire reasons.
const (
	FTANoFace      = "no_face"
	FTAMultiple    = "multiple_faces" // a second face at least half the main face's height
	FTAPoorQuality = "poor_quality"
	FTAUnreadable  = "unreadable"
	FTAError       = "error"
)

// FTAReason maps an acquisition error to its reason.
func FTAReason(err error) string {
	switch {
	case errors.Is(err, engine.ErrNoFace):
		return FTANoFace
	case errors.Is(err, engine.ErrMultipleFaces):
		return FTAMultiple
	case errors.Is(err, engine.ErrPoorQuality):
		return FTAPoorQuality
	case errors.Is(err, ErrUnreadable), errors.Is(err, engine.ErrBadImage):
		return FTAUnreadable
	}
	return FTAError
}

// ErrUnreadable marks an image file that could not be read or decoded.
var ErrUnreadable = errors.New("bench: unreadable image")

// Acquisition is what an Acquirer made of one image: an embedding of its
// subject's face (face models) or a p(live) score (liveness scorers), or
// the reason it failed (FTA).
type Acquisition struct {
	Model  string        `json:"model,omitempty"`
	Metric engine.Metric `json:"metric,omitempty"`
	Vector []float32     `json:"-"`
	Live   float64       `json:"live,omitempty"`
	// QualityOK is false when the face failed the reference quality gate
	// (applied only with AcquireOptions.QualityGate).
	QualityOK bool   `json:"quality_ok"`
	FTA       string `json:"fta,omitempty"`
	Detail    string `json:"detail,omitempty"`
	// Stages holds the time per stage in ms (detect, embed, ...), as
	// measured when the acquisition was made (a cached one keeps them).
	Stages map[string]float64 `json:"stages,omitempty"`
}

// Embedding returns the acquisition's embedding.
func (a Acquisition) Embedding() engine.Embedding {
	return engine.Embedding{Model: a.Model, Metric: a.Metric, Vector: a.Vector}
}

// Acquirer turns one image file into an Acquisition. Implementations are
// safe for concurrent use. An error that FTAReason maps to a reason other
// than FTAError is a failure to acquire; any other error is also counted
// as FTA (reason "error") and its text kept, so that no image is dropped
// silently.
type Acquirer interface {
	// ID names the model and the acquisition rule; it keys the cache.
	ID() string
	Acquire(ctx context.Context, path string) (Acquisition, error)
}

// Progress shows how far a stage is; Stage returns a func called once per
// item done and a func called when the stage ends.
type Progress interface {
	Stage(name string, total int) (inc func(), done func())
}

type noProgress struct{}

func (noProgress) Stage(string, int) (func(), func()) { return func() {}, func() {} }

// AcquireOptions configure AcquireAll.
type AcquireOptions struct {
	Threads  int
	Cache    *Cache // nil: no cache
	Progress Progress
	Stage    string // progress label
}

// Acquired holds the acquisitions of a list of files and their hashes.
type Acquired struct {
	By     map[string]Acquisition // path → acquisition
	SHA    map[string]string      // path → sha256
	Cached int
	Wall   time.Duration
}

// AcquireAll acquires every file, Threads at a time, through the cache.
func AcquireAll(ctx context.Context, acq Acquirer, files []string, o AcquireOptions) (Acquired, error) {
	if o.Progress == nil {
		o.Progress = noProgress{}
	}
	res := Acquired{By: make(map[string]Acquisition, len(files)), SHA: make(map[string]string, len(files))}
	inc, done := o.Progress.Stage(o.Stage, len(files))
	defer done()
	var mu sync.Mutex
	var firstErr error
	next := make(chan string)
	var wg sync.WaitGroup
	t0 := time.Now()
	for range max(o.Threads, 1) {
		wg.Go(func() {
			for path := range next {
				a, sha, cached, err := acquireOne(ctx, acq, path, o.Cache)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				res.By[path], res.SHA[path] = a, sha
				if cached {
					res.Cached++
				}
				mu.Unlock()
				inc()
			}
		})
	}
	for _, f := range files {
		if ctx.Err() != nil {
			break
		}
		next <- f
	}
	close(next)
	wg.Wait()
	res.Wall = time.Since(t0)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, firstErr
}

func acquireOne(ctx context.Context, acq Acquirer, path string, c *Cache) (a Acquisition, sha string, cached bool, err error) {
	sha, err = FileSHA256(path)
	if err != nil {
		return Acquisition{FTA: FTAUnreadable, Detail: err.Error()}, "", false, nil
	}
	if c != nil {
		if a, ok, err := c.Get(acq.ID(), sha); err != nil || ok {
			return a, sha, ok, err
		}
	}
	a, err = acq.Acquire(ctx, path)
	if err != nil {
		if ctx.Err() != nil {
			return a, sha, false, ctx.Err()
		}
		a.FTA, a.Detail, a.Vector = FTAReason(err), err.Error(), nil
	}
	if c != nil {
		if err := c.Put(acq.ID(), sha, a); err != nil {
			return a, sha, false, err
		}
	}
	return a, sha, false, nil
}

// DatasetHash hashes the relative paths and contents (sha256) of the files
// a run used, in sorted order, so two reports can tell whether they
// measured the same data.
func DatasetHash(shas map[string]string, rel func(string) string) string {
	keys := make([]string, 0, len(shas))
	for p := range shas {
		keys = append(keys, p)
	}
	slices.SortFunc(keys, func(a, b string) int { return strings.Compare(rel(a), rel(b)) })
	h := sha256.New()
	for _, p := range keys {
		fmt.Fprintf(h, "%s %s\n", rel(p), shas[p])
	}
	return hex.EncodeToString(h.Sum(nil))
}
