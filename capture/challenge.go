package capture

import (
	"context"
	"math"

	"vidid/engine"

	"vidid/reason"
)

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
		a.res.Outcome, a.res.Reason = OutcomeLivenessFailed, reason.ChallengeFailed
		return nil
	}
	if an.Main == nil || an.Others > 0 {
		return a.send(a.problem(f, an), a.progress(float64(a.chIdx)/float64(len(a.queue))))
	}
	pose := an.Quality.Pose
	if a.r.cfg.MeasureSamePerson && (a.chFront == nil || poseOff(pose) < poseOff(a.chFront.Quality.Pose)) {
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
