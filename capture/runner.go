package capture

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"time"

	"vidid/engine"
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

// Config holds the capture's tunables. Zero values take DefaultConfig's.
type Config struct {
	// SmallMin, SmallMax bound the face height / frame height in the small oval.
	SmallMin, SmallMax float64
	// LargeMin is the face height / frame height the approach must reach,
	// and Growth the least ratio of the large to the small face size.
	LargeMin, Growth float64
	// Centre is the largest offset of the face centre from the frame centre,
	// as a share of the frame size.
	Centre float64
	// HoldFrames is how many consecutive good frames complete an oval.
	HoldFrames int
	// BestFrames is how many frames are kept as evidence and matched.
	BestFrames int
	// Challenges is the number of random active challenges (0 = none).
	Challenges int
	// ChallengeKinds are the prompts to draw from (empty = all: turn left,
	// turn right, blink).
	ChallengeKinds []ChallengeCode
	// ChallengeTimeout bounds each challenge.
	ChallengeTimeout time.Duration
	// TurnDegrees is the yaw a head turn must reach.
	TurnDegrees float64
	// MaxDuration bounds the whole attempt.
	MaxDuration time.Duration
	// LivenessThreshold: the mean passive p(live) over the kept frames
	// must reach it (0 = default; negative disables the passive check).
	LivenessThreshold float64
	// SamePersonScore is the least comparison score (engine.Score) between
	// the face seen during each challenge and the kept frames: a lower one
	// means the person doing the prompts is not the one being matched (a
	// photo of the victim held up for the ovals, then the attacker's own
	// live face for the prompts), and the attempt fails with reason
	// face_changed. The face compared is the most frontal one seen during
	// the challenge, so that it compares like with like (a turned head
	// scores low even against itself). It is model-specific, so it has no
	// default here: the caller takes it from the threshold set; 0 disables
	// the check.
	SamePersonScore float64
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		SmallMin: 0.22, SmallMax: 0.50, LargeMin: 0.55, Growth: 1.25, Centre: 0.18,
		HoldFrames: 4, BestFrames: 3, Challenges: 2, ChallengeTimeout: 8 * time.Second,
		TurnDegrees: 15, MaxDuration: 90 * time.Second, LivenessThreshold: 0.3,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	set := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	set(&c.SmallMin, d.SmallMin)
	set(&c.SmallMax, d.SmallMax)
	set(&c.LargeMin, d.LargeMin)
	set(&c.Growth, d.Growth)
	set(&c.Centre, d.Centre)
	set(&c.TurnDegrees, d.TurnDegrees)
	set(&c.LivenessThreshold, d.LivenessThreshold)
	if c.HoldFrames == 0 {
		c.HoldFrames = d.HoldFrames
	}
	if c.BestFrames == 0 {
		c.BestFrames = d.BestFrames
	}
	if c.ChallengeTimeout == 0 {
		c.ChallengeTimeout = d.ChallengeTimeout
	}
	if c.MaxDuration == 0 {
		c.MaxDuration = d.MaxDuration
	}
	return c
}

// Outcome mirrors session outcomes without importing session.
type Outcome string

// Outcomes of the capture itself (the match is decided by the caller).
const (
	// OutcomeCaptured: frames are ready for matching.
	OutcomeCaptured       Outcome = "captured"
	OutcomeLivenessFailed Outcome = "liveness_failed"
	OutcomeTimeout        Outcome = "timeout"
	OutcomeAborted        Outcome = "aborted"
	OutcomeError          Outcome = "error"
)

// Frame is one kept frame with its face.
type Frame struct {
	Frame   engine.Frame
	Face    engine.Face
	Quality engine.Quality
	// Liveness is the passive p(live) (-1 when not scored).
	Liveness float64
}

// Result is what one capture run produced.
type Result struct {
	Outcome Outcome
	// Reason is a session reason code for failures ("no_face", "timeout" …).
	Reason string
	// Best holds the kept frames, best first, with their embeddings.
	Best       []Frame
	Embeddings []engine.Embedding
	// Liveness is the mean passive score over Best (-1 when not scored).
	Liveness float64
	// Challenges lists the prompts that were passed.
	Challenges []ChallengeCode
	// SamePerson is the lowest score between a challenge's face and the
	// kept frames (-1 when not compared).
	SamePerson float64
	// Frames counts analysed frames; FirstGuidance is the delay from the
	// first frame to the first guidance message.
	Frames        int
	FirstGuidance time.Duration
	// SizeSmall and SizeLarge are the median face heights (share of the
	// frame) in the two ovals: the approach's depth cue.
	SizeSmall, SizeLarge float64
	// Clip is a short evidence clip: up to ClipFrames half-size frames,
	// the most recent ones, at most ClipFPS per second of capture.
	Clip []engine.Frame
}

// Clip limits.
const (
	ClipFrames = 24
	ClipFPS    = 4
)

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
	queue      []ChallengeCode
	chFaces    []engine.Embedding // per passed challenge, its most frontal face
	chFront    *Frame             // the most frontal face of the current challenge
	chCentred  bool               // the current challenge saw the head not turned
	chIdx      int
	chStart    time.Time
	eyesClosed bool
	lastIssue  string
	lastClip   time.Time
}

// Run drives one attempt until it has good frames, fails, times out, or the
// peer goes away (ctx cancelled → aborted).
func (r *Runner) Run(ctx context.Context, src FrameSource, out Sender) Result {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.MaxDuration)
	defer cancel()
	a := &attempt{r: r, out: out, phase: PhaseSmallOval}
	a.res.Liveness = -1
	a.res.SamePerson = -1
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
				a.res.Outcome, a.res.Reason = OutcomeAborted, "aborted"
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
			a.res.Outcome, a.res.Reason = OutcomeError, "error"
			return a.res
		}
		a.res.Frames++
		a.clip(f)
		err = a.step(ctx, f, an)
		if a.res.FirstGuidance == 0 && !a.lastSent.IsZero() {
			a.res.FirstGuidance = a.lastSent.Sub(first)
		}
		release()
		if errors.Is(err, errDone) {
			return a.finish(ctx)
		}
		if err != nil {
			a.res.Outcome, a.res.Reason = OutcomeError, "error"
			return a.res
		}
		if a.res.Outcome != "" {
			return a.res
		}
	}
}

// clip keeps a half-size copy of f for the evidence clip, at most ClipFPS
// a second, dropping the oldest beyond ClipFrames.
func (a *attempt) clip(f engine.Frame) {
	now := a.r.now()
	if !a.lastClip.IsZero() && now.Sub(a.lastClip) < time.Second/ClipFPS {
		return
	}
	a.lastClip = now
	a.res.Clip = append(a.res.Clip, Half(f))
	if len(a.res.Clip) > ClipFrames {
		a.res.Clip = a.res.Clip[1:]
	}
}

// Half returns f at half width and height (each output pixel is one of a
// 2x2 block: cheap, and enough for a reviewer's clip).
func Half(f engine.Frame) engine.Frame {
	w, h := f.Width/2, f.Height/2
	out := engine.Frame{Width: w, Height: h, Pix: make([]byte, w*h*3), Seq: f.Seq, Time: f.Time}
	for y := 0; y < h; y++ {
		src := f.Pix[(2*y)*f.Width*3:]
		dst := out.Pix[y*w*3 : (y+1)*w*3]
		for x := 0; x < w; x++ {
			copy(dst[x*3:x*3+3], src[2*x*3:2*x*3+3])
		}
	}
	return out
}

// timeoutReason names what the applicant was stuck on.
func (a *attempt) timeoutReason() string {
	switch a.lastIssue {
	case "":
		return "timeout"
	case string(CodeFaceNotFound):
		return "no_face"
	case string(CodeOneFaceOnly):
		return "multiple_faces"
	case string(CodeTooDark), string(CodeTooBright):
		return "poor_light"
	case string(CodeBlurry):
		return "blurry"
	case string(CodeMoveCloser):
		return "too_far"
	case "challenge":
		return "challenge_failed"
	}
	return "timeout"
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
		if err := a.keep(ctx, f, an); err != nil {
			return err
		}
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

// keep stores a good large-oval frame as a candidate, scoring its liveness.
func (a *attempt) keep(ctx context.Context, f engine.Frame, an engine.Analysis) error {
	kf := Frame{Frame: engine.Frame{Width: f.Width, Height: f.Height, Pix: append([]byte(nil), f.Pix...), Seq: f.Seq, Time: f.Time},
		Face: *an.Main, Quality: an.Quality, Liveness: -1}
	if a.r.live != nil {
		s, err := a.r.live.Score(ctx, f, *an.Main)
		if err != nil {
			return fmt.Errorf("passive liveness: %w", err)
		}
		kf.Liveness = s
	}
	a.cands = append(a.cands, kf)
	return nil
}

func (a *attempt) startChallenge() error {
	a.chStart = a.r.now()
	a.chFront = nil
	a.chCentred = false
	a.eyesClosed = false
	a.lastIssue = "challenge"
	a.lastCode = ""
	return a.out.Send(ChallengeMsg{Type: "challenge", Code: a.queue[a.chIdx], Index: a.chIdx + 1, Total: len(a.queue)})
}

func (a *attempt) challengeStep(ctx context.Context, f engine.Frame, an engine.Analysis) error {
	if a.r.now().Sub(a.chStart) > a.r.cfg.ChallengeTimeout {
		a.res.Outcome, a.res.Reason = OutcomeLivenessFailed, "challenge_failed"
		return nil
	}
	if an.Main == nil || an.Others > 0 {
		return a.send(a.problem(f, an), a.progress(float64(a.chIdx)/float64(len(a.queue))))
	}
	pose := an.Quality.Pose
	if a.r.cfg.SamePersonScore > 0 && (a.chFront == nil || poseOff(pose) < poseOff(a.chFront.Quality.Pose)) {
		a.chFront = a.keepCopy(a.chFront, f, an)
	}
	if math.Abs(pose.Yaw) < a.r.cfg.TurnDegrees {
		a.chCentred = true
	}
	done := false
	switch a.queue[a.chIdx] {
	// A turn counts only as a movement: from a head not turned, seen during
	// this prompt, to the asked side. A head held turned from the previous
	// prompt (or a photo of a turned head) does not pass.
	case ChallengeTurnLeft: // the applicant's left is the image's right
		done = a.chCentred && pose.Yaw >= a.r.cfg.TurnDegrees
	case ChallengeTurnRight:
		done = a.chCentred && pose.Yaw <= -a.r.cfg.TurnDegrees
	case ChallengeBlink:
		ear := EyeAspectRatio(an.Main.Landmarks)
		if ear > 0 && ear < 0.18 {
			a.eyesClosed = true
		} else if a.eyesClosed && ear > 0.22 {
			done = true
		}
	}
	if !done {
		return nil
	}
	if a.r.cfg.SamePersonScore > 0 {
		// Remember who did the prompt: its most frontal face. One the
		// embedder cannot align (landmarks off the frame) does not complete
		// the prompt: the frames that follow will, or it times out.
		e, err := a.r.an.Embed(ctx, a.chFront.Frame, a.chFront.Face)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			a.chFront = nil
			return nil
		}
		a.chFaces = append(a.chFaces, e)
	}
	a.res.Challenges = append(a.res.Challenges, a.queue[a.chIdx])
	a.chIdx++
	if a.chIdx == len(a.queue) {
		return errDone
	}
	return a.startChallenge()
}

// finish picks the best frames, embeds them and checks passive liveness.
func (a *attempt) finish(ctx context.Context) Result {
	a.phase = PhaseProcessing
	_ = a.out.Send(GuidanceMsg{Type: "guidance", Phase: PhaseProcessing, Code: CodeOK, Progress: 0.95})
	sort.SliceStable(a.cands, func(i, j int) bool { return frameRank(a.cands[i]) > frameRank(a.cands[j]) })
	if len(a.cands) > a.r.cfg.BestFrames {
		a.cands = a.cands[:a.r.cfg.BestFrames]
	}
	a.res.Best = a.cands
	if a.r.live != nil && len(a.cands) > 0 {
		var sum float64
		for _, c := range a.cands {
			sum += c.Liveness
		}
		a.res.Liveness = sum / float64(len(a.cands))
		if a.r.cfg.LivenessThreshold > 0 && a.res.Liveness < a.r.cfg.LivenessThreshold {
			a.res.Outcome, a.res.Reason = OutcomeLivenessFailed, "liveness_failed"
			return a.res
		}
	}
	for _, c := range a.cands {
		e, err := a.r.an.Embed(ctx, c.Frame, c.Face)
		if err != nil {
			a.res.Outcome, a.res.Reason = OutcomeError, "error"
			return a.res
		}
		a.res.Embeddings = append(a.res.Embeddings, e)
	}
	if len(a.chFaces) > 0 && len(a.res.Embeddings) > 0 {
		a.res.SamePerson = samePerson(a.chFaces, a.res.Embeddings)
		if a.res.SamePerson < a.r.cfg.SamePersonScore {
			a.res.Outcome, a.res.Reason = OutcomeLivenessFailed, "face_changed"
			return a.res
		}
	}
	a.res.Outcome = OutcomeCaptured
	return a.res
}

// poseOff is how far a pose is from frontal, in degrees.
func poseOff(p engine.Pose) float64 { return math.Abs(p.Yaw) + math.Abs(p.Pitch) }

// keepCopy copies f and its main face into dst (reusing its pixel buffer)
// or into a new Frame when dst is nil: the source frame's pixels are only
// valid until it is released.
func (a *attempt) keepCopy(dst *Frame, f engine.Frame, an engine.Analysis) *Frame {
	if dst == nil {
		dst = &Frame{}
	}
	pix := append(dst.Frame.Pix[:0], f.Pix...)
	*dst = Frame{Frame: engine.Frame{Width: f.Width, Height: f.Height, Pix: pix, Seq: f.Seq, Time: f.Time},
		Face: *an.Main, Quality: an.Quality, Liveness: -1}
	return dst
}

// samePerson is the lowest, over the challenge faces, of each face's best
// score against the kept frames: every prompt must have been done by
// someone who looks like the matched frames. Incomparable embeddings
// (another model) score 0.
func samePerson(challenge, kept []engine.Embedding) float64 {
	lowest := 1.0
	for _, c := range challenge {
		best := 0.0
		for _, k := range kept {
			if s, err := engine.Score(c, k); err == nil && s > best {
				best = s
			}
		}
		lowest = min(lowest, best)
	}
	return lowest
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

// EyeAspectRatio is the mean eye aspect ratio (Soukupová & Čech 2016) of
// the two eyes from 68 iBUG points: about 0.3 open, below 0.2 closed.
func EyeAspectRatio(p []engine.Point) float64 {
	if len(p) != 68 {
		return 0
	}
	d := func(a, b engine.Point) float64 { return math.Hypot(float64(a.X-b.X), float64(a.Y-b.Y)) }
	ear := func(e []engine.Point) float64 {
		w := d(e[0], e[3])
		if w == 0 {
			return 0
		}
		return (d(e[1], e[5]) + d(e[2], e[4])) / (2 * w)
	}
	return (ear(p[36:42]) + ear(p[42:48])) / 2
}
