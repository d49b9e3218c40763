package capture

import (
	"context"
	"fmt"
	"sync"
	"time"

	"vidid/engine"
	"vidid/liveness"
	"vidid/policy"
)

// cues gathers an attempt's liveness measurements: the passive p(live) of
// every analysed frame with one face from the large oval on (the policy's
// passive cue is their liveness.AttemptScore), and the replay, injection
// and depth cues of liveness.Set over every analysed frame, with the
// prompts' events and the camera label the page reported.
type cues struct {
	set     *liveness.Set
	pending []liveness.PromptEvent
	camera  *cameraLabel
	// Per scored frame: the scorer's p(live) and, for a MultiScorer, each
	// model's.
	fused, v2, v1se []float64
}

func newCues(camera *cameraLabel) *cues {
	return &cues{set: liveness.NewSet(liveness.Config{}, nil), camera: camera}
}

// prompt queues a prompt event for the next observation.
func (c *cues) prompt(kind liveness.PromptKind, index int, code ChallengeCode, at time.Time) {
	c.pending = append(c.pending, liveness.PromptEvent{Index: index, Code: string(code), Kind: kind, At: at})
}

// observe feeds one analysed frame, with the prompt events queued while it
// was handled, to every cue of the set.
func (c *cues) observe(f engine.Frame, an engine.Analysis) {
	o := liveness.NewObservation(f, an)
	o.Prompts, c.pending = c.pending, nil
	o.CameraLabel = c.camera.get()
	c.set.Observe(o)
}

// score runs the passive scorer on the frame's main face and keeps the
// score; it returns the frame's p(live).
func (c *cues) score(ctx context.Context, live Liveness, f engine.Frame, face engine.Face) (float64, error) {
	if m, ok := live.(liveness.MultiScorer); ok {
		s, err := m.ScoreAll(ctx, f, face)
		if err != nil {
			return 0, fmt.Errorf("passive liveness: %w", err)
		}
		c.fused, c.v2, c.v1se = append(c.fused, s.Fused), append(c.v2, s.V2), append(c.v1se, s.V1SE)
		return s.Fused, nil
	}
	s, err := live.Score(ctx, f, face)
	if err != nil {
		return 0, fmt.Errorf("passive liveness: %w", err)
	}
	c.fused = append(c.fused, s)
	return s, nil
}

// Per-model cue names of a MultiScorer, after the passive cue's name
// (minifasnet_v2, minifasnet_v1se): recorded for calibration.
const (
	suffixV2   = "_v2"
	suffixV1SE = "_v1se"
)

// results returns every cue by its policy name and the passive attempt
// score (-1 when no frame was scored or there is no scorer).
func (c *cues) results(passiveCue string, scored bool) (map[string]policy.CueResult, float64) {
	out := map[string]policy.CueResult{}
	for _, r := range c.set.Results() {
		out[r.Name] = policy.CueResult{Score: r.Score, Measured: r.Measured}
	}
	if !scored {
		return out, -1
	}
	attempt := -1.0
	for _, p := range []struct {
		name   string
		scores []float64
	}{{passiveCue, c.fused}, {passiveCue + suffixV2, c.v2}, {passiveCue + suffixV1SE, c.v1se}} {
		if p.name != passiveCue && len(p.scores) == 0 {
			continue // not a MultiScorer
		}
		cue := policy.CueResult{Frames: len(p.scores)}
		if s, err := liveness.AttemptScore(p.scores); err == nil {
			cue.Score, cue.Measured = s, true
			if p.name == passiveCue {
				attempt = s
			}
		}
		out[p.name] = cue
	}
	return out, attempt
}

// cameraLabel holds the camera label the page reported; the page's
// messages arrive on the connection's goroutine.
type cameraLabel struct {
	mu    sync.Mutex
	label string
}

func (l *cameraLabel) set(s string) { l.mu.Lock(); l.label = s; l.mu.Unlock() }

func (l *cameraLabel) get() string { l.mu.Lock(); defer l.mu.Unlock(); return l.label }

// Inbox is implemented by senders that also deliver the page's messages
// (webrtc.Peer): the capture reads the camera label from them.
type Inbox interface {
	OnMessage(f func(msg []byte))
}

// listen takes the camera label from the page's messages while the
// attempt runs; the returned func stops listening.
func listen(out Sender, l *cameraLabel) func() {
	in, ok := out.(Inbox)
	if !ok {
		return func() {}
	}
	in.OnMessage(func(b []byte) {
		if label, ok := ParseCameraMsg(b); ok {
			l.set(label)
		}
	})
	return func() { in.OnMessage(nil) }
}
