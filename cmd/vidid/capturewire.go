package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	pion "github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"vidid/api"
	"vidid/attempt"
	"vidid/capture"
	"vidid/engine/assemble"
	"vidid/evidence"
	"vidid/handover"
	livocv "vidid/liveness/ocv"
	"vidid/policy"
	"vidid/session"
	"vidid/verify"
	"vidid/web"
	"vidid/webrtc"
)

// peers adapts the WebRTC server to attempt.Peers. Its errors (a bad
// offer, the peer cap: package webrtc/offer) become HTTP errors in
// api/errors.go.
type peers struct{ s *webrtc.Server }

func (p peers) Reserve() (attempt.Slot, error) {
	sl, err := p.s.Reserve()
	if err != nil {
		return nil, err
	}
	return slot{sl}, nil
}

type slot struct{ *webrtc.Slot }

func (s slot) Accept(ctx context.Context, offer string) (string, attempt.Peer, error) {
	return s.Slot.Accept(ctx, offer)
}

// startCapture wires the live capture (WebRTC peers, the capture state
// machine, evidence, assertions) and the capture page into deps.
func startCapture(ctx context.Context, sf serveFlags, eng *assemble.Engine, pool *pgxpool.Pool, sessions *session.PG,
	policies attempt.Policies, verifier *verify.Service, signer handover.Signer, auditLog handover.Auditor, citizens handover.Citizens,
	models string, log *slog.Logger, reg prometheus.Registerer, deps *api.Deps) (func(), *evidence.PG, error) {
	var ice []pion.ICEServer
	var pageICE []web.ICEServer
	if sf.stun != "" {
		urls := strings.Split(sf.stun, ",")
		ice = append(ice, pion.ICEServer{URLs: urls})
		pageICE = append(pageICE, web.ICEServer{URLs: urls})
	}
	rtc, err := webrtc.NewServer(webrtc.Config{
		ICEServers: ice, UDPPortMin: uint16(sf.icePortMin), UDPPortMax: uint16(sf.icePortMax),
		UDPMuxPort: sf.iceMuxPort, LoopbackOnly: sf.loopbackOnly, MaxPeers: sf.maxPeers, AnalysisFPS: sf.analysisFPS, MaxCaptureTime: sf.maxCapture + 10*time.Second,
	}, log, reg)
	if err != nil {
		return nil, nil, err
	}
	passive, err := openPassive(sf.livenessModel, models)
	if err != nil {
		rtc.Close()
		return nil, nil, err
	}
	evKey, err := loadKey(sf.secrets, "evidence-key", 32, sf.createSecrets)
	if err != nil {
		rtc.Close()
		passive.Close()
		return nil, nil, err
	}
	// After a rotation the old key reads evidence sealed before it, until
	// the retention job has purged that (--evidence-retention).
	evPrev, err := optionalKey(sf.secrets, "evidence-key-previous", 32)
	if err != nil {
		rtc.Close()
		passive.Close()
		return nil, nil, err
	}
	ev, err := evidence.NewPG(pool, evKey, evPrev...)
	if err != nil {
		rtc.Close()
		passive.Close()
		return nil, nil, err
	}
	// The capture measures (passive liveness, the same-person score during
	// the prompts); the decision policy judges.
	capCfg := capture.Config{Challenges: sf.challenges, ChallengeKinds: sf.challengeKinds, MaxDuration: sf.maxCapture,
		PassiveCue: sf.livenessModel, MeasureSamePerson: sf.challenges > 0}
	if p, err := policies.Current(); err == nil {
		capCfg.BestFrames = p.Frames.Match
	}
	issuer, err := handover.New(handover.Config{CAURL: sf.caURL, Source: "population register (demo)", Checks: checksOf(policies, sf.livenessModel)},
		pool, signer, auditLog, sessions, citizens, ev, eng)
	if err != nil {
		rtc.Close()
		passive.Close()
		return nil, nil, err
	}
	svc, err := attempt.New(attempt.Config{Capture: capCfg, Approved: issuer}, sessions, peers{rtc}, eng, passive, policies, verifier, issuer, ev, log, reg)
	if err != nil {
		rtc.Close()
		passive.Close()
		return nil, nil, err
	}
	deps.Capture = svc
	go every(ctx, time.Hour, func(ctx context.Context) { // retention of attempt evidence
		if n, err := ev.Purge(ctx, sf.evidenceRetention); err != nil {
			log.Warn("purge evidence", "err", err)
		} else if n > 0 {
			log.Info("evidence purged", "frames", n)
		}
	})
	deps.Static = web.StaticHandler()
	deps.CapturePageCSP = web.ContentSecurityPolicyFor(originOf(sf.caURL))
	deps.CapturePage = func(w io.Writer, s session.Session, token, lang string) error {
		return web.CapturePage(w, web.CapturePageData{Token: token, Lang: lang, ExpiresAt: s.ExpiresAt, ReturnURL: s.ReturnURL,
			ConsentAccepted: s.ConsentAccepted, Moderation: moderationOf(s), ICEServers: pageICE})
	}
	return func() {
		_ = svc.Close()
		_ = rtc.Close()
		_ = passive.Close()
	}, ev, nil
}

// The passive liveness scorers --liveness-model selects.
const (
	livenessMiniFASNet = "minifasnet"  // livocv.Fused, the default
	livenessFrLiveness = "fr_liveness" // livocv.Passive, the former default
)

// checkLivenessModel refuses an unknown --liveness-model.
func checkLivenessModel(model string) error {
	if model != livenessMiniFASNet && model != livenessFrLiveness {
		return fmt.Errorf("%w: --liveness-model %q: want %s or %s", errUsage, model, livenessMiniFASNet, livenessFrLiveness)
	}
	return nil
}

// passiveOverrides makes the selected model the policy's passive cue: the
// built-in policy enforces minifasnet and only records fr_liveness, so
// running fr_liveness enforces its cue and turns off the minifasnet cue,
// which would otherwise fail every attempt as required but not measured.
// The operator's own overrides come after these and win.
func passiveOverrides(model string) []policy.Override {
	if model != livenessFrLiveness {
		return nil
	}
	return []policy.Override{
		{Field: "liveness." + livenessFrLiveness + ".mode", Value: string(policy.Enforce)},
		{Field: "liveness." + livenessMiniFASNet + ".mode", Value: string(policy.Off)},
	}
}

// openPassive loads the passive liveness scorer named by --liveness-model.
func openPassive(model, root string) (interface {
	capture.Liveness
	Close() error
}, error) {
	if model == livenessFrLiveness {
		return livocv.NewPassive(livocv.PassiveConfig{ModelRoot: root})
	}
	return livocv.NewFused(livocv.MiniFASNetConfig{ModelRoot: root})
}

// moderationOf says where a session sent to a moderator stands, for the
// capture page.
func moderationOf(s session.Session) string {
	switch s.State {
	case session.StateModeration:
		return web.ModerationPending
	case session.StateApproved:
		switch {
		case !s.HandedOverAt.IsZero():
			return web.ModerationHandedOver
		case !s.HandoverOpen:
			return web.ModerationHandoverExpired
		}
		return web.ModerationApproved
	case session.StateRejected:
		return web.ModerationRejected
	}
	return ""
}

// originOf returns scheme://host[:port] of u.
func originOf(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" || p.Host == "" {
		return ""
	}
	return p.Scheme + "://" + p.Host
}
