package capture

import (
	"context"
	"math"

	"vidid/engine"
	"vidid/liveness"
	"vidid/reason"
)

// prompt returns the liveness check that judges challenge c, or nil for
// a prompt it does not know (which then times out).
func (r *Runner) prompt(c ChallengeCode) liveness.Challenge {
	switch c {
	case ChallengeTurnLeft:
		return &liveness.HeadTurn{Left: true, Degrees: r.cfg.TurnDegrees}
	case ChallengeTurnRight:
		return &liveness.HeadTurn{Left: false, Degrees: r.cfg.TurnDegrees}
	case ChallengeBlink:
		return &liveness.Blink{}
	}
	return nil
}

func (a *attempt) startChallenge() error {
	a.chStart = a.r.now()
	a.chFront = nil
	a.prompt = a.r.prompt(a.queue[a.chIdx])
	a.lastIssue = "challenge"
	a.lastCode = ""
	a.cues.prompt(liveness.PromptSent, a.chIdx+1, a.queue[a.chIdx], a.chStart)
	return a.out.Send(ChallengeMsg{Type: "challenge", Code: a.queue[a.chIdx], Index: a.chIdx + 1, Total: len(a.queue)})
}

func (a *attempt) challengeStep(ctx context.Context, f engine.Frame, an engine.Analysis) error {
	if a.r.now().Sub(a.chStart) > a.r.cfg.ChallengeTimeout {
		a.res.Outcome, a.res.Reason = OutcomeLivenessFailed, reason.ChallengeFailed
		return nil
	}
	if an.Main == nil || an.Others > 0 {
		return a.send(a.problem(f, an), a.progress(float64(a.chIdx)/float64(len(a.queue))))
	}
	if err := a.passive(ctx, f, an); err != nil {
		return err
	}
	pose := an.Quality.Pose
	if a.r.cfg.MeasureSamePerson && (a.chFront == nil || poseOff(pose) < poseOff(a.chFront.Quality.Pose)) {
		a.chFront = a.keepCopy(a.chFront, f, an)
	}
	done := a.prompt != nil && a.prompt.Answered(an)
	if !done {
		return nil
	}
	a.cues.prompt(liveness.PromptAnswered, a.chIdx+1, a.queue[a.chIdx], a.r.now())
	if a.r.cfg.MeasureSamePerson {
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
