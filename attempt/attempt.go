// Package attempt runs one capture attempt end to end: it checks the
// session, starts the attempt in Postgres (where the lockout is enforced),
// answers the browser's WebRTC offer, drives the capture state machine over
// the live frames, matches the best frames against the register photo,
// records the result (which may lock the applicant out), and on a match
// issues the identity assertion and tells the page where to go next.
package attempt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vidid/capture"
	"vidid/engine"
	"vidid/register"
	"vidid/session"
	"vidid/verify"
)

// Sessions is what an attempt needs from the session store.
type Sessions interface {
	ByToken(ctx context.Context, token string) (session.Session, error)
	StartAttempt(ctx context.Context, sessionID string) (session.Attempt, error)
	FinishAttempt(ctx context.Context, attemptID string, r session.Result) (session.Session, error)
}

// Peer is one live WebRTC connection: frames in, JSON messages out.
type Peer interface {
	capture.FrameSource
	capture.Sender
	// Done is closed when the connection ends.
	Done() <-chan struct{}
	Close() error
}

// Peers answers offers.
type Peers interface {
	Accept(ctx context.Context, offerSDP string) (answerSDP string, p Peer, err error)
}

// Matcher compares a probe with the register photo.
type Matcher interface {
	VerifyEmbedding(ctx context.Context, iin string, probe engine.Probe) (verify.Result, error)
}

// Match is what an assertion is issued for.
type Match struct {
	Session          session.Session
	Citizen          register.Citizen
	AttemptID        string
	MatchScore       float64
	LivenessScore    float64
	ThresholdVersion string
	Model            string
	Challenges       []capture.ChallengeCode
}

// Issuer issues the identity assertion for a match and says where the
// applicant's browser goes with it.
type Issuer interface {
	IssueFor(ctx context.Context, m Match) (*capture.Next, error)
}

// Evidence stores frames of an attempt for moderators: kind "best" (the
// best frames) or "clip" (a short clip).
type Evidence interface {
	Save(ctx context.Context, attemptID, kind string, jpegs [][]byte) (ref string, err error)
}

// Config configures the service.
type Config struct {
	Capture capture.Config
	// FlushDelay is how long the peer stays open after the result message,
	// so the data channel delivers it.
	FlushDelay time.Duration
}

// Service runs attempts.
type Service struct {
	cfg      Config
	sessions Sessions
	peers    Peers
	runner   *capture.Runner
	match    Matcher
	issuer   Issuer
	evidence Evidence
	log      *slog.Logger
	m        *metrics

	wg     sync.WaitGroup
	mu     sync.Mutex
	cancel map[string]context.CancelFunc
	base   context.Context
	stop   context.CancelFunc
}

// New returns a Service. evidence and issuer may be nil (no evidence kept;
// matches leave the applicant on the result page).
func New(cfg Config, s Sessions, peers Peers, an capture.Analyzer, live capture.Liveness, match Matcher, issuer Issuer, evidence Evidence, log *slog.Logger, reg prometheus.Registerer) (*Service, error) {
	if cfg.FlushDelay == 0 {
		cfg.FlushDelay = time.Second
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	base, stop := context.WithCancel(context.Background())
	return &Service{cfg: cfg, sessions: s, peers: peers, runner: capture.NewRunner(cfg.Capture, an, live), match: match,
		issuer: issuer, evidence: evidence, log: log, m: m, cancel: map[string]context.CancelFunc{}, base: base, stop: stop}, nil
}

// Close ends every running attempt (each is recorded as aborted) and waits.
func (s *Service) Close() error {
	s.stop()
	s.wg.Wait()
	return nil
}

// Offer starts an attempt for the session behind token and returns the SDP
// answer. The capture itself runs in the background until it ends.
func (s *Service) Offer(ctx context.Context, token, offer string) (string, error) {
	ss, err := s.sessions.ByToken(ctx, token)
	if err != nil {
		return "", err
	}
	att, err := s.sessions.StartAttempt(ctx, ss.ID)
	if err != nil {
		return "", err
	}
	answer, peer, err := s.peers.Accept(ctx, offer)
	if err != nil {
		// The browser or network failed before any capture: a server-side
		// "error" outcome, which does not count against the applicant.
		if _, ferr := s.sessions.FinishAttempt(context.WithoutCancel(ctx), att.ID, session.Result{Outcome: session.OutcomeError}); ferr != nil {
			s.log.ErrorContext(ctx, "finish attempt after failed offer", "attempt", att.ID, "err", ferr)
		}
		return "", fmt.Errorf("answer offer: %w", err)
	}
	s.m.active.Inc()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.m.active.Dec()
		s.run(ss, att, peer)
	}()
	return answer, nil
}

func (s *Service) run(ss session.Session, att session.Attempt, peer Peer) {
	ctx, cancel := context.WithCancel(s.base)
	defer cancel()
	go func() {
		select {
		case <-peer.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	defer peer.Close()
	log := s.log.With("session", ss.ID, "attempt", att.ID, "n", att.N)
	res := s.runner.Run(ctx, peer, peer)
	if res.FirstGuidance > 0 {
		s.m.firstGuidance.Observe(res.FirstGuidance.Seconds())
	}
	s.m.frames.Add(float64(res.Frames))
	rec := session.Result{LivenessScore: max(res.Liveness, 0), SamePersonScore: res.SamePerson}
	var matched *Match
	switch res.Outcome {
	case capture.OutcomeCaptured:
		rec, matched = s.decide(context.WithoutCancel(ctx), ss, att, res, log)
	case capture.OutcomeLivenessFailed:
		rec.Outcome, rec.Reason = session.OutcomeLivenessFailed, session.Reason(res.Reason)
	case capture.OutcomeTimeout:
		rec.Outcome, rec.Reason = session.OutcomeTimeout, session.Reason(res.Reason)
	case capture.OutcomeAborted:
		rec.Outcome, rec.Reason = session.OutcomeAborted, session.ReasonAborted
	default:
		rec.Outcome = session.OutcomeError
	}
	if s.evidence != nil {
		var best, clip []engine.Frame
		for _, b := range res.Best {
			best = append(best, b.Frame)
		}
		clip = res.Clip
		for _, e := range []struct {
			kind    string
			frames  []engine.Frame
			quality int
		}{{"best", best, 90}, {"clip", clip, 70}} {
			var jpegs [][]byte
			for _, f := range e.frames {
				if j, err := f.EncodeJPEG(e.quality); err == nil {
					jpegs = append(jpegs, j)
				}
			}
			if len(jpegs) == 0 {
				continue
			}
			ref, err := s.evidence.Save(context.WithoutCancel(ctx), att.ID, e.kind, jpegs)
			if err != nil {
				log.Error("save evidence", "kind", e.kind, "err", err)
			} else if rec.EvidenceRef == "" {
				rec.EvidenceRef = ref
			}
		}
	}
	after, err := s.sessions.FinishAttempt(context.WithoutCancel(ctx), att.ID, rec)
	if err != nil {
		log.Error("finish attempt", "err", err)
		_ = peer.Send(capture.ResultMsg{Type: "result", Outcome: "error", Reason: "error"})
		time.Sleep(s.cfg.FlushDelay)
		return
	}
	s.m.attempts.WithLabelValues(string(rec.Outcome)).Inc()
	log.Info("attempt finished", "outcome", rec.Outcome, "reason", rec.Reason, "state", after.State, "frames", res.Frames,
		"liveness", res.Liveness, "match_score", rec.MatchScore)
	msg := capture.ResultMsg{Type: "result", Outcome: string(rec.Outcome), Reason: string(rec.Reason.Public()), AttemptsLeft: after.AttemptsLeft}
	switch {
	case after.State == session.StateMatched && matched != nil && s.issuer != nil:
		matched.Session = after
		next, err := s.issuer.IssueFor(context.WithoutCancel(ctx), *matched)
		if err != nil {
			log.Error("issue assertion", "err", err)
			msg.Outcome, msg.Reason = "error", "error"
		} else {
			msg.Next = next
		}
	case after.State == session.StateModeration:
		msg.Outcome = "moderation"
	case after.State == session.StateLocked || !after.LockedUntil.IsZero() && time.Until(after.LockedUntil) > 0:
		msg.Outcome = "locked"
		msg.RetryAfterSeconds = int(time.Until(after.LockedUntil).Seconds() + 0.999)
	}
	if err := peer.Send(msg); err != nil {
		log.Warn("send result", "err", err)
	}
	select {
	case <-time.After(s.cfg.FlushDelay):
	case <-peer.Done():
	}
}

// decide matches the captured frames: the median score over the best
// frames must reach the threshold (one lucky frame is not enough).
func (s *Service) decide(ctx context.Context, ss session.Session, att session.Attempt, res capture.Result, log *slog.Logger) (session.Result, *Match) {
	rec := session.Result{LivenessScore: max(res.Liveness, 0), SamePersonScore: res.SamePerson}
	var scores []float64
	var last verify.Result
	for i, e := range res.Embeddings {
		r, err := s.match.VerifyEmbedding(ctx, ss.IIN, engine.Probe{Face: res.Best[i].Face, Quality: res.Best[i].Quality, Embedding: e})
		if err != nil {
			switch {
			case errors.Is(err, verify.ErrReferenceMissing), errors.Is(err, register.ErrNotFound):
				rec.Outcome, rec.Reason = session.OutcomeNoMatch, session.ReasonRegisterPhotoMissing
			case errors.Is(err, verify.ErrReferenceUnusable):
				rec.Outcome, rec.Reason = session.OutcomeNoMatch, session.ReasonRegisterPhotoUnusable
			default:
				log.Error("verify", "err", err)
				rec.Outcome = session.OutcomeError
			}
			return rec, nil
		}
		scores = append(scores, r.Decision.Score)
		last = r
	}
	if len(scores) == 0 {
		rec.Outcome = session.OutcomeError
		return rec, nil
	}
	sort.Float64s(scores)
	med := scores[len(scores)/2]
	rec.MatchScore = med
	rec.Threshold = last.Decision.Threshold.Score
	rec.ThresholdVersion = last.Decision.Threshold.Version
	rec.Model = last.Model
	if med < last.Decision.Threshold.Score {
		rec.Outcome, rec.Reason = session.OutcomeNoMatch, session.ReasonNoMatch
		return rec, nil
	}
	rec.Outcome = session.OutcomeMatch
	return rec, &Match{Citizen: last.Citizen, AttemptID: att.ID, MatchScore: med, LivenessScore: max(res.Liveness, 0),
		ThresholdVersion: rec.ThresholdVersion, Model: rec.Model, Challenges: res.Challenges}
}

type metrics struct {
	active        prometheus.Gauge
	attempts      *prometheus.CounterVec
	frames        prometheus.Counter
	firstGuidance prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		active: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "vidid", Subsystem: "capture", Name: "attempts_running",
			Help: "Capture attempts running now."}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "vidid", Subsystem: "capture", Name: "attempts_finished_total",
			Help: "Capture attempts finished, by outcome."}, []string{"outcome"}),
		frames: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "vidid", Subsystem: "capture", Name: "frames_analysed_total",
			Help: "Frames run through the face pipeline during captures."}),
		firstGuidance: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "vidid", Subsystem: "capture", Name: "first_guidance_seconds",
			Help: "Time from the first analysed frame to the first guidance message.", Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5}}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.active, m.attempts, m.frames, m.firstGuidance} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
