package capture

import (
	"context"
	"crypto/rand"
	"errors"
	"math"
	"math/big"
	"sort"
	"time"

	"vidid/engine"
	"vidid/liveness"
	"vidid/reason"
)

// FrameSource yields the newest decoded frame; release returns its buffer.
type FrameSource interface {
	Next(ctx context.Context) (engine.Frame, func(), error)
}

// Sender delivers a JSON message to the page.
type Sender interface {
	Send(msg any) error
}

// Analyzer is the face pipeline as the capture needs it.
type Analyzer interface {
	Analyze(ctx context.Context, f engine.Frame) (engine.Analysis, error)
	Embed(ctx context.Context, f engine.Frame, face engine.Face) (engine.Embedding, error)
}

// Liveness scores one face for presentation attacks: p(live) in [0,1].
type Liveness interface {
	Score(ctx context.Context, f engine.Frame, face engine.Face) (float64, error)
}

// Runner runs capture attempts.
type Runner struct {
	cfg  Config
	an   Analyzer
	live Liveness
	now  func() time.Time
	rand func(n int) int
}

// NewRunner returns a Runner. live may be nil (no passive check).
func NewRunner(cfg Config, an Analyzer, live Liveness) *Runner {
	return &Runner{cfg: cfg.withDefaults(), an: an, live: live, now: time.Now, rand: cryptoIntn}
}

func cryptoIntn(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return int(v.Int64())
}

// errDone ends the frame loop.
var errDone = errors.New("capture done")

// attempt is the state of one run.
type attempt struct {
	r        *Runner
	out      Sender
	phase    Phase
	hold     int
	sizes    []float64
	small    float64
	cands    []Frame
	res      Result
	lastCode Code
	lastSent time.Time
	// challenge state
	queue     []ChallengeCode
	chFaces   []engine.Embedding // per passed challenge, its most frontal face
	chFront   *Frame             // the most frontal face of the current challenge
	prompt    liveness.Challenge // judges the current challenge (nil: never answered)
	chIdx     int
	chStart   time.Time
	lastIssue string
	lastClip  time.Time
	crowded   int // analysed frames with more than one face
	// liveness measurements
	cues      *cues
	frameLive float64 // the current frame's passive p(live), -1 when not scored
}

// Run drives one attempt until it has good frames, fails, times out, or the
// peer goes away (ctx cancelled → aborted). However it ends, the result
// carries the liveness cues measured so far. When out is also an Inbox,
// the camera label the page reports reaches the camera cue.
func (r *Runner) Run(ctx context.Context, src FrameSource, out Sender) (res Result) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.MaxDuration)
	defer cancel()
	camera := &cameraLabel{}
	defer listen(out, camera)()
	a := &attempt{r: r, out: out, phase: PhaseSmallOval, cues: newCues(camera), frameLive: -1}
	a.res.SamePerson = -1
	defer func() { res.Cues, res.Liveness = a.cues.results(r.cfg.PassiveCue, r.live != nil) }()
	kinds := r.cfg.ChallengeKinds
	if len(kinds) == 0 {
		kinds = AllChallenges
	}
	for i := 0; i < r.cfg.Challenges; i++ {
		a.queue = append(a.queue, kinds[r.rand(len(kinds))])
	}
	var first time.Time
	for {
		f, release, err := src.Next(ctx)
		if err != nil {
			switch {
			case errors.Is(err, context.DeadlineExceeded):
				a.res.Outcome, a.res.Reason = OutcomeTimeout, a.timeoutReason()
			default:
				a.res.Outcome, a.res.Reason = OutcomeAborted, reason.Aborted
			}
			return a.res
		}
		if first.IsZero() {
			first = r.now()
		}
		an, err := r.an.Analyze(ctx, f)
		if err != nil {
			release()
			if ctx.Err() != nil {
				continue // reported by Next on the next round
			}
			a.res.Outcome, a.res.Reason = OutcomeError, ""
			return a.res
		}
		a.res.Frames++
		if an.Others > 0 {
			a.crowded++
		}
		a.clip(f)
		a.frameLive = -1
		err = a.step(ctx, f, an)
		a.cues.observe(f, an)
		if a.res.FirstGuidance == 0 && !a.lastSent.IsZero() {
			a.res.FirstGuidance = a.lastSent.Sub(first)
		}
		release()
		if errors.Is(err, errDone) {
			return a.finish(ctx)
		}
		if err != nil {
			a.res.Outcome, a.res.Reason = OutcomeError, ""
			return a.res
		}
		if a.res.Outcome != "" {
			return a.res
		}
	}
}

// timeoutReason names what the applicant was stuck on. Before the
// prompts, a second face in at least a quarter of the analysed frames
// names multiple_faces whatever the last guidance was: a clip that
// flickers between two faces and none is about the second person.
func (a *attempt) timeoutReason() reason.Code {
	if a.lastIssue != "challenge" && a.crowded > 0 && 4*a.crowded >= a.res.Frames {
		return reason.MultipleFaces
	}
	switch a.lastIssue {
	case "":
		return reason.Timeout
	case string(CodeFaceNotFound):
		return reason.NoFace
	case string(CodeOneFaceOnly):
		return reason.MultipleFaces
	case string(CodeTooDark), string(CodeTooBright):
		return reason.PoorLight
	case string(CodeBlurry):
		return reason.Blurry
	case string(CodeMoveCloser):
		return reason.TooFar
	case "challenge":
		return reason.ChallengeFailed
	}
	return reason.Timeout
}

func (a *attempt) send(code Code, progress float64) error {
	now := a.r.now()
	if code == a.lastCode && now.Sub(a.lastSent) < time.Second {
		return nil
	}
	a.lastCode, a.lastSent = code, now
	if code != CodeOK && code != CodeHoldStill {
		a.lastIssue = string(code)
	}
	return a.out.Send(GuidanceMsg{Type: "guidance", Phase: a.phase, Code: code, Progress: progress})
}

// progress maps the phase to a share of the whole capture.
func (a *attempt) progress(within float64) float64 {
	base := map[Phase]float64{PhaseSmallOval: 0, PhaseApproach: 0.2, PhaseLargeOval: 0.4, PhaseChallenge: 0.6, PhaseProcessing: 0.9}[a.phase]
	span := map[Phase]float64{PhaseSmallOval: 0.2, PhaseApproach: 0.2, PhaseLargeOval: 0.2, PhaseChallenge: 0.3, PhaseProcessing: 0.1}[a.phase]
	return math.Min(1, base+span*math.Max(0, math.Min(1, within)))
}

// problem returns the guidance for a frame that is not usable at all.
func (a *attempt) problem(f engine.Frame, an engine.Analysis) Code {
	switch {
	case an.Main == nil:
		return CodeFaceNotFound
	case an.Others > 0:
		return CodeOneFaceOnly
	case an.Quality.Has(engine.IssueTooDark):
		return CodeTooDark
	case an.Quality.Has(engine.IssueTooBright):
		return CodeTooBright
	}
	b := an.Main.Box
	cx := (float64(b.Min.X+b.Max.X)/2)/float64(f.Width) - 0.5
	cy := (float64(b.Min.Y+b.Max.Y)/2)/float64(f.Height) - 0.5
	if math.Abs(cx) > a.r.cfg.Centre || math.Abs(cy) > a.r.cfg.Centre+0.05 || an.Quality.Has(engine.IssueOffFrame) {
		return CodeCenterFace
	}
	return ""
}

func (a *attempt) step(ctx context.Context, f engine.Frame, an engine.Analysis) error {
	if a.phase == PhaseChallenge {
		return a.challengeStep(ctx, f, an)
	}
	if c := a.problem(f, an); c != "" {
		a.hold = 0
		return a.send(c, a.progress(0))
	}
	size := an.Quality.FaceFraction
	cfg := a.r.cfg
	switch a.phase {
	case PhaseSmallOval:
		switch {
		case size < cfg.SmallMin:
			a.hold = 0
			return a.send(CodeMoveCloser, a.progress(0))
		case size > cfg.SmallMax:
			a.hold = 0
			return a.send(CodeMoveBack, a.progress(0))
		case an.Quality.Has(engine.IssueBlurry):
			a.hold = 0
			return a.send(CodeHoldStill, a.progress(0))
		case an.Quality.Has(engine.IssuePose):
			a.hold = 0
			return a.send(CodeLookStraight, a.progress(0))
		}
		a.hold++
		a.sizes = append(a.sizes, size)
		if a.hold < cfg.HoldFrames {
			return a.send(CodeHoldStill, a.progress(float64(a.hold)/float64(cfg.HoldFrames)))
		}
		a.small = median(a.sizes)
		a.res.SizeSmall = a.small
		a.phase, a.hold, a.sizes = PhaseApproach, 0, nil
		return a.send(CodeMoveCloser, a.progress(0))
	case PhaseApproach:
		target := math.Max(cfg.LargeMin, a.small*cfg.Growth)
		if size < target {
			return a.send(CodeMoveCloser, a.progress((size-a.small)/math.Max(1e-6, target-a.small)))
		}
		a.phase, a.hold = PhaseLargeOval, 0
		fallthrough
	case PhaseLargeOval:
		if err := a.passive(ctx, f, an); err != nil {
			return err
		}
		if size < math.Max(cfg.LargeMin, a.small*cfg.Growth)*0.9 {
			a.hold = 0
			return a.send(CodeMoveCloser, a.progress(0))
		}
		if an.Quality.Has(engine.IssueBlurry) || an.Quality.Has(engine.IssueTooSmall) {
			a.hold = 0
			return a.send(CodeHoldStill, a.progress(0))
		}
		if an.Quality.Has(engine.IssuePose) {
			a.hold = 0
			return a.send(CodeLookStraight, a.progress(0))
		}
		a.keep(f, an)
		a.hold++
		a.sizes = append(a.sizes, size)
		if a.hold < cfg.HoldFrames {
			return a.send(CodeHoldStill, a.progress(float64(a.hold)/float64(cfg.HoldFrames)))
		}
		a.res.SizeLarge = median(a.sizes)
		if len(a.queue) == 0 {
			return errDone
		}
		a.phase = PhaseChallenge
		return a.startChallenge()
	}
	return nil
}

// passive scores the frame's main face with the passive scorer (every
// analysed frame with one face from the large oval on) and keeps the score
// for the attempt's passive cue.
func (a *attempt) passive(ctx context.Context, f engine.Frame, an engine.Analysis) error {
	if a.r.live == nil || an.Main == nil {
		return nil
	}
	s, err := a.cues.score(ctx, a.r.live, f, *an.Main)
	if err != nil {
		return err
	}
	a.frameLive = s
	return nil
}

// keep stores a good large-oval frame as a candidate, with its passive
// score.
func (a *attempt) keep(f engine.Frame, an engine.Analysis) {
	kf := Frame{Frame: engine.Frame{Width: f.Width, Height: f.Height, Pix: append([]byte(nil), f.Pix...), Seq: f.Seq, Time: f.Time},
		Face: *an.Main, Quality: an.Quality, Liveness: a.frameLive}
	a.cands = append(a.cands, kf)
}

// finish picks the best frames and embeds them; Run adds the liveness
// cues.
func (a *attempt) finish(ctx context.Context) Result {
	a.phase = PhaseProcessing
	_ = a.out.Send(GuidanceMsg{Type: "guidance", Phase: PhaseProcessing, Code: CodeOK, Progress: 0.95})
	sort.SliceStable(a.cands, func(i, j int) bool { return frameRank(a.cands[i]) > frameRank(a.cands[j]) })
	if len(a.cands) > a.r.cfg.BestFrames {
		a.cands = a.cands[:a.r.cfg.BestFrames]
	}
	a.res.Best = a.cands
	for _, c := range a.cands {
		e, err := a.r.an.Embed(ctx, c.Frame, c.Face)
		if err != nil {
			a.res.Outcome, a.res.Reason = OutcomeError, ""
			return a.res
		}
		a.res.Embeddings = append(a.res.Embeddings, e)
	}
	if len(a.chFaces) > 0 && len(a.res.Embeddings) > 0 {
		a.res.SamePerson = samePerson(a.chFaces, a.res.Embeddings)
	}
	a.res.Outcome = OutcomeCaptured
	return a.res
}

// frameRank prefers sharp, frontal faces.
func frameRank(f Frame) float64 {
	p := f.Quality.Pose
	return math.Log1p(f.Quality.Sharpness) - (math.Abs(p.Yaw)+math.Abs(p.Pitch))/30
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
