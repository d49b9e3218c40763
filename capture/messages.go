// Package capture runs one attempt of the live capture: it reads analysed
// frames, drives the applicant through the guidance phases (small oval →
// approach → large oval → challenges → processing → done), keeps the best
// frames as evidence, and ends in an outcome with a reason code. It is pure
// Go over small interfaces, so the whole state machine is tested without a
// browser or models; webrtc/ supplies frames and the data channel, engine/
// the analysis, verify/ the match.
package capture

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Phase is where the applicant is in the capture.
type Phase string

// Phases, in order.
const (
	PhaseSmallOval  Phase = "small_oval"
	PhaseApproach   Phase = "approach"
	PhaseLargeOval  Phase = "large_oval"
	PhaseChallenge  Phase = "challenge"
	PhaseProcessing Phase = "processing"
	PhaseDone       Phase = "done"
)

// Code is a guidance code; the page shows its localised text.
type Code string

// Guidance codes (the page's i18n keys).
const (
	CodeFaceNotFound Code = "face_not_found"
	CodeCenterFace   Code = "center_face"
	CodeMoveCloser   Code = "move_closer"
	CodeMoveBack     Code = "move_back"
	CodeTooDark      Code = "too_dark"
	CodeTooBright    Code = "too_bright"
	CodeBlurry       Code = "blurry"
	CodeHoldStill    Code = "hold_still"
	CodeOneFaceOnly  Code = "one_face_only"
	CodeLookStraight Code = "look_straight"
	CodeOK           Code = "ok"
)

// ChallengeCode is an active liveness prompt.
type ChallengeCode string

// Challenges.
const (
	ChallengeTurnLeft  ChallengeCode = "turn_left"
	ChallengeTurnRight ChallengeCode = "turn_right"
	ChallengeBlink     ChallengeCode = "blink"
)

// AllChallenges lists every prompt the capture can give.
var AllChallenges = []ChallengeCode{ChallengeTurnLeft, ChallengeTurnRight, ChallengeBlink}

// ParseChallenges reads a comma-separated list of prompts ("turn_left,
// blink"); unknown or repeated ones are an error, and an empty list is
// none.
func ParseChallenges(s string) ([]ChallengeCode, error) {
	var out []ChallengeCode
	for _, f := range strings.Split(s, ",") {
		c := ChallengeCode(strings.TrimSpace(f))
		if c == "" {
			continue
		}
		if !slices.Contains(AllChallenges, c) {
			return nil, fmt.Errorf("unknown challenge %q (want %v)", c, AllChallenges)
		}
		if slices.Contains(out, c) {
			return nil, fmt.Errorf("challenge %q listed twice", c)
		}
		out = append(out, c)
	}
	return out, nil
}

// GuidanceMsg is sent to the page on every analysed frame whose guidance
// changed, and at least once a second.
type GuidanceMsg struct {
	Type     string  `json:"type"` // "guidance"
	Phase    Phase   `json:"phase"`
	Code     Code    `json:"code"`
	Progress float64 `json:"progress"`
}

// ChallengeMsg asks for one active-liveness action.
type ChallengeMsg struct {
	Type  string        `json:"type"` // "challenge"
	Code  ChallengeCode `json:"code"`
	Index int           `json:"index"`
	Total int           `json:"total"`
}

// ResultMsg ends the attempt on the page. It never carries scores.
type ResultMsg struct {
	Type              string `json:"type"` // "result"
	Outcome           string `json:"outcome"`
	Reason            string `json:"reason,omitempty"`
	AttemptsLeft      int    `json:"attempts_left"`
	RetryAfterSeconds int    `json:"retry_after_seconds,omitempty"`
	Next              *Next  `json:"next,omitempty"`
}

// Next tells the page where to go after a match: it auto-submits a form.
type Next struct {
	URL    string            `json:"url"`
	Method string            `json:"method"`
	Fields map[string]string `json:"fields,omitempty"`
}

// CameraMsg is the page's report of the camera it captures from: the video
// track's label (MediaStreamTrack.label). The label is attacker-controlled;
// the camera cue only reads it for virtual-camera names.
type CameraMsg struct {
	Type  string `json:"type"` // "camera"
	Label string `json:"label"`
}

// maxLabel bounds the camera label kept (bytes).
const maxLabel = 256

// ParseCameraMsg reads a page message: ok for a "camera" message, with
// its label trimmed and cut to maxLabel bytes (on a rune boundary).
func ParseCameraMsg(b []byte) (label string, ok bool) {
	var m CameraMsg
	if json.Unmarshal(b, &m) != nil || m.Type != "camera" {
		return "", false
	}
	label = strings.TrimSpace(m.Label)
	for len(label) > maxLabel {
		_, n := utf8.DecodeLastRuneInString(label)
		label = label[:len(label)-n]
	}
	return label, true
}
