// Package attempt runs one capture attempt end to end: it checks the
// session, starts the attempt in Postgres (where the lockout is enforced),
// answers the browser's WebRTC offer, drives the capture state machine over
// the live frames, scores the best frames against the register photo, asks
// the decision policy for the verdict, records the result with its
// measurements (which may lock the applicant out), and on a match has the
// hand-over (package handover) issue the identity assertion and tells the
// page where to go next.
package attempt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vidid/capture"
	"vidid/engine"
	"vidid/policy"
	"vidid/register"
	"vidid/session"
	"vidid/verify"
	"vidid/webrtc/offer"
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

// Peers admits and answers offers.
type Peers interface {
	// Reserve holds a place for one peer, cheaply, before anything is
	// recorded for the offer; beyond the server's peer cap it returns an
	// error wrapping offer.ErrBusy.
	Reserve() (Slot, error)
}

// Slot is a reserved place for one peer.
type Slot interface {
	// Accept answers the offer; the peer then holds the place until it
	// ends. On an error the place is given back.
	Accept(ctx context.Context, offerSDP string) (answerSDP string, p Peer, err error)
	// Release gives an unused place back (a no-op after Accept).
	Release()
}

// Matcher gives the register photo's embedding (verify.Service), read
// once per attempt; the attempt scores its frames against it.
type Matcher interface {
	Reference(ctx context.Context, iin string) (engine.Embedding, register.Citizen, error)
	// Model is the embedder the scores come from.
	Model() string
}

// Match is what an assertion is issued for: a matched attempt (of an open
// session, or the hand-over capture of an approved one). It holds no
// score; the scores stay with the attempt record.
type Match struct {
	Session   session.Session
	Citizen   register.Citizen
	AttemptID string
	// PolicyVersion is the decision policy the match was judged under.
	PolicyVersion string
	Model         string
	Challenges    []capture.ChallengeCode
}

// Approved gives the embeddings of the frames a moderator approved, for
// the hand-over capture of an approved session (handover.Service).
type Approved interface {
	ApprovedEmbeddings(ctx context.Context, sessionID string) ([]engine.Embedding, error)
}

// Issuer issues the identity assertion for a match and says where the
// applicant's browser goes with it (handover.Service).
type Issuer interface {
	IssueFor(ctx context.Context, m Match) (*capture.Next, error)
}

// Evidence stores frames of an attempt for moderators: kind "best" (the
// best frames) or "clip" (a short clip).
type Evidence interface {
	Save(ctx context.Context, attemptID, kind string, jpegs [][]byte) (ref string, err error)
}

// Policies gives the decision policy in force (policy.Holder).
type Policies interface {
	Current() (*policy.Policy, error)
}

// Config configures the service.
type Config struct {
	Capture capture.Config
	// Approved serves the hand-over capture of approved sessions (nil:
	// approved sessions cannot be handed over).
	Approved Approved
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
	policies Policies
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
func New(cfg Config, s Sessions, peers Peers, an capture.Analyzer, live capture.Liveness, pol Policies, match Matcher, issuer Issuer, evidence Evidence, log *slog.Logger, reg prometheus.Registerer) (*Service, error) {
	if cfg.FlushDelay == 0 {
		cfg.FlushDelay = time.Second
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	base, stop := context.WithCancel(context.Background())
	return &Service{cfg: cfg, sessions: s, peers: peers, runner: capture.NewRunner(cfg.Capture, an, live), policies: pol, match: match,
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
func (s *Service) Offer(ctx context.Context, token, sdp string) (string, error) {
	ss, err := s.sessions.ByToken(ctx, token)
	if err != nil {
		return "", err
	}
	// A malformed offer or one without VP8 video is refused before an
	// attempt is recorded: garbage costs no attempt row, audit record or
	// peer. (Consent is the first thing the page must hear about.)
	if !ss.ConsentAccepted {
		return "", session.ErrConsentRequired
	}
	if err := offer.Check(sdp); err != nil {
		return "", err
	}
	// Over the peer cap the offer is refused (offer.ErrBusy) before an
	// attempt is recorded: a flood of offers costs no attempt rows and
	// counts toward no lockout.
	slot, err := s.peers.Reserve()
	if err != nil {
		return "", fmt.Errorf("admit offer: %w", err)
	}
	att, err := s.sessions.StartAttempt(ctx, ss.ID)
	if err != nil {
		slot.Release()
		return "", err
	}
	answer, peer, err := slot.Accept(ctx, sdp)
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
	rec, matched := s.judge(context.WithoutCancel(ctx), ss, att, res, log)
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
	log.Info("attempt finished", "outcome", rec.Outcome, "reason", rec.Reason, "decided_by", rec.DecidedBy, "state", after.State,
		"frames", res.Frames, "liveness", res.Liveness, "match_score", rec.MatchScore)
	msg := capture.ResultMsg{Type: "result", Outcome: string(rec.Outcome), Reason: string(rec.Reason.Public()), AttemptsLeft: after.AttemptsLeft}
	switch {
	case (after.State == session.StateMatched || after.State == session.StateApproved) && matched != nil && s.issuer != nil:
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

// judge turns the capture into the attempt's result: it measures (the
// best frames against the register photo), asks the decision policy for
// the verdict, and keeps the measurements with the attempt. It never
// compares a score with a threshold itself.
func (s *Service) judge(ctx context.Context, ss session.Session, att session.Attempt, res capture.Result, log *slog.Logger) (session.Result, *Match) {
	rec := session.Result{LivenessScore: max(res.Liveness, 0), SamePersonScore: res.SamePerson}
	pol, err := s.policies.Current()
	if err != nil {
		log.Error("no decision policy in force", "err", err)
		rec.Outcome = session.OutcomeError
		return rec, nil
	}
	m, cz, err := s.measure(ctx, ss, res)
	if err != nil {
		log.Error("measure attempt", "err", err)
		rec.Outcome = session.OutcomeError
		return rec, nil
	}
	v := pol.Decide(m)
	if v.Outcome == session.OutcomeError {
		log.Error("no verdict", "decided_by", v.DecidedBy, "policy", v.PolicyVersion)
	}
	mj, err := json.Marshal(m)
	if err != nil {
		log.Error("encode measurements", "err", err)
	}
	rec.Outcome, rec.Reason, rec.Route, rec.DecidedBy = v.Outcome, v.Reason, v.Route, v.DecidedBy
	rec.PolicyVersion, rec.ThresholdVersion, rec.Measurements = v.PolicyVersion, v.PolicyVersion, mj
	rec.MatchScore, rec.Threshold, rec.Model = max(v.MatchScore, 0), v.Threshold, m.Model
	if v.Outcome != session.OutcomeMatch {
		return rec, nil
	}
	return rec, &Match{Citizen: cz, AttemptID: att.ID, PolicyVersion: v.PolicyVersion, Model: m.Model, Challenges: res.Challenges}
}

// measure collects what the policy judges: how the capture ended, its
// liveness cues and same-person score and, for a completed capture, every
// best frame's score against the register photo.
func (s *Service) measure(ctx context.Context, ss session.Session, res capture.Result) (policy.Measurements, register.Citizen, error) {
	m := policy.Measurements{Model: s.match.Model(), Cues: res.Cues, Escalated: ss.RequiresModeration}
	if res.SamePerson >= 0 {
		sp := min(res.SamePerson, 1)
		m.SamePerson = &sp
	}
	switch {
	case res.Outcome != capture.OutcomeCaptured && res.Frames == 0:
		// Not one frame was analysed: the connection never carried video
		// (ICE never connected, the camera never started) or the server
		// failed. Nothing biometric was tried, so it does not count
		// against the applicant; otherwise offers that never connect
		// would lock a citizen out.
		m.CaptureOutcome = session.OutcomeError
	case res.Outcome == capture.OutcomeCaptured:
		m.Completed = true
	case res.Outcome == capture.OutcomeLivenessFailed:
		m.CaptureOutcome, m.CaptureReason = session.OutcomeLivenessFailed, res.Reason
	case res.Outcome == capture.OutcomeTimeout:
		m.CaptureOutcome, m.CaptureReason = session.OutcomeTimeout, res.Reason
	case res.Outcome == capture.OutcomeAborted:
		m.CaptureOutcome, m.CaptureReason = session.OutcomeAborted, session.ReasonAborted
	default:
		m.CaptureOutcome = session.OutcomeError
	}
	if !m.Completed {
		return m, register.Citizen{}, nil
	}
	ref, cz, err := s.match.Reference(ctx, ss.IIN)
	cz.Photo = nil // the assertion needs the person, not the photo
	switch {
	case errors.Is(err, verify.ErrReferenceMissing), errors.Is(err, register.ErrNotFound):
		m.Register = policy.RegisterMissing
	case errors.Is(err, verify.ErrReferenceUnusable):
		m.Register = policy.RegisterUnusable
	case err != nil:
		return m, cz, fmt.Errorf("register photo: %w", err)
	default:
		if m.MatchScores, err = closest(res.Embeddings, []engine.Embedding{ref}); err != nil {
			return m, cz, fmt.Errorf("compare with the register photo: %w", err)
		}
	}
	if ss.State != session.StateApproved {
		return m, cz, nil
	}
	// The hand-over capture after an approval: compare with the frames
	// the moderator approved as well.
	m.Handover = true
	if s.cfg.Approved == nil {
		return m, cz, errors.New("no approved frames to compare the hand-over capture with")
	}
	approved, err := s.cfg.Approved.ApprovedEmbeddings(ctx, ss.ID)
	if err != nil {
		return m, cz, fmt.Errorf("approved frames: %w", err)
	}
	if m.ApprovedScores, err = closest(res.Embeddings, approved); err != nil {
		return m, cz, fmt.Errorf("compare with an approved frame: %w", err)
	}
	return m, cz, nil
}

// closest scores each probe against its closest reference.
func closest(probes, refs []engine.Embedding) ([]float64, error) {
	out := make([]float64, 0, len(probes))
	for _, p := range probes {
		best := 0.0
		for _, r := range refs {
			sc, err := engine.Score(p, r)
			if err != nil {
				return nil, err
			}
			best = max(best, sc)
		}
		out = append(out, best)
	}
	return out, nil
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
