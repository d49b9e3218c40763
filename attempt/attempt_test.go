package attempt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"vidid/capture"
	"vidid/engine"
	"vidid/policy"
	"vidid/register"
	"vidid/session"
	"vidid/webrtc/offer"
)

// testTimeout bounds waits for the background capture so a broken build
// fails instead of hanging; it is never a performance assertion.
const testTimeout = 30 * time.Second

// vp8Offer passes offer.Check.
const vp8Offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\na=mid:0\r\na=sendonly\r\n"

var (
	errICE    = errors.New("ICE connection failed")
	errAnswer = errors.New("gather ICE candidates: deadline exceeded")
)

// fakeSessions records what the service asks of the session store.
type fakeSessions struct {
	consent  bool
	startErr error

	mu       sync.Mutex
	started  int
	finished chan session.Result
}

func (f *fakeSessions) ByToken(_ context.Context, token string) (session.Session, error) {
	return session.Session{ID: "s-" + token, IIN: "540101300018", State: session.StateOpen, ConsentAccepted: f.consent}, nil
}

func (f *fakeSessions) StartAttempt(_ context.Context, sessionID string) (session.Attempt, error) {
	if f.startErr != nil {
		return session.Attempt{}, f.startErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started++
	return session.Attempt{ID: fmt.Sprintf("a%d", f.started), SessionID: sessionID, N: f.started}, nil
}

func (f *fakeSessions) FinishAttempt(_ context.Context, _ string, r session.Result) (session.Session, error) {
	f.finished <- r
	return session.Session{State: session.StateOpen, AttemptsLeft: 9}, nil
}

// fakePeers hands out slots whose peers send frames analysed frames and
// then fail as ICE would.
type fakePeers struct {
	reserveErr, acceptErr error
	frames                int

	mu                          sync.Mutex
	reserved, released, accepts int
}

func (f *fakePeers) Reserve() (Slot, error) {
	if f.reserveErr != nil {
		return nil, f.reserveErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reserved++
	return &fakeSlot{f: f}, nil
}

func (f *fakePeers) counts() (reserved, released, accepts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reserved, f.released, f.accepts
}

type fakeSlot struct{ f *fakePeers }

func (s *fakeSlot) Accept(context.Context, string) (string, Peer, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.accepts++
	if s.f.acceptErr != nil {
		return "", nil, s.f.acceptErr
	}
	return "answer", &fakePeer{left: s.f.frames, done: make(chan struct{})}, nil
}

func (s *fakeSlot) Release() {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.released++
}

type fakePeer struct {
	mu   sync.Mutex
	left int
	done chan struct{}
	once sync.Once
}

func (p *fakePeer) Next(ctx context.Context) (engine.Frame, func(), error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.left == 0 {
		p.end()
		return engine.Frame{}, nil, errICE
	}
	p.left--
	return engine.Frame{Width: 64, Height: 48, Pix: make([]byte, 64*48*3)}, func() {}, nil
}

func (p *fakePeer) end()                  { p.once.Do(func() { close(p.done) }) }
func (p *fakePeer) Send(any) error        { return nil }
func (p *fakePeer) Done() <-chan struct{} { return p.done }
func (p *fakePeer) Close() error          { p.end(); return nil }

// noFace is a face pipeline that never finds a face.
type noFace struct{}

func (noFace) Analyze(context.Context, engine.Frame) (engine.Analysis, error) {
	return engine.Analysis{}, nil
}

func (noFace) Embed(context.Context, engine.Frame, engine.Face) (engine.Embedding, error) {
	return engine.Embedding{}, errors.New("no face")
}

type noMatcher struct{}

func (noMatcher) Reference(context.Context, string) (engine.Embedding, register.Citizen, error) {
	return engine.Embedding{}, register.Citizen{}, errors.New("not reached")
}

func (noMatcher) Model() string { return "fake" }

func TestOffer(t *testing.T) {
	busy := fmt.Errorf("reserve peer: %w (1)", offer.ErrBusy)
	tests := []struct {
		name     string
		sessions fakeSessions
		peers    fakePeers
		wantErr  error
		// started: attempts written; reserved, released: peer slots.
		started, reserved, released int
		// finished is the recorded outcome and route ("": none recorded).
		outcome session.Outcome
		route   policy.Route
	}{
		{name: "over the peer cap", sessions: fakeSessions{consent: true}, peers: fakePeers{reserveErr: busy},
			wantErr: offer.ErrBusy},
		{name: "no consent", sessions: fakeSessions{}, wantErr: session.ErrConsentRequired},
		{name: "attempt running", sessions: fakeSessions{consent: true, startErr: session.ErrAttemptInProgress},
			wantErr: session.ErrAttemptInProgress, reserved: 1, released: 1},
		{name: "answer fails", sessions: fakeSessions{consent: true}, peers: fakePeers{acceptErr: errAnswer},
			// The store fills in route none for an error.
			wantErr: errAnswer, started: 1, reserved: 1, outcome: session.OutcomeError},
		{name: "never connects", sessions: fakeSessions{consent: true}, peers: fakePeers{frames: 0},
			started: 1, reserved: 1, outcome: session.OutcomeError, route: policy.RouteNone},
		{name: "goes after frames", sessions: fakeSessions{consent: true}, peers: fakePeers{frames: 3},
			started: 1, reserved: 1, outcome: session.OutcomeAborted, route: policy.RouteCount},
	}
	for i := range tests {
		tc := &tests[i] // the fakes hold locks: never copied
		t.Run(tc.name, func(t *testing.T) {
			ss, ps := &tc.sessions, &tc.peers
			ss.finished = make(chan session.Result, 1)
			svc, err := New(Config{FlushDelay: time.Millisecond}, ss, ps, noFace{}, nil, policy.Static{P: policy.Builtin()},
				noMatcher{}, nil, nil, slog.New(slog.DiscardHandler), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = svc.Offer(t.Context(), "tok", vp8Offer)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Offer: %v, want %v", err, tc.wantErr)
			}
			if tc.outcome != "" {
				select {
				case r := <-ss.finished:
					if r.Outcome != tc.outcome || r.Route != tc.route {
						t.Fatalf("attempt finished %s (route %q), want %s (route %q)", r.Outcome, r.Route, tc.outcome, tc.route)
					}
				case <-time.After(testTimeout):
					t.Fatal("attempt never finished")
				}
			}
			if err := svc.Close(); err != nil {
				t.Fatal(err)
			}
			select {
			case r := <-ss.finished:
				t.Fatalf("unexpected attempt result %s", r.Outcome)
			default:
			}
			reserved, released, _ := ps.counts()
			if ss.started != tc.started || reserved != tc.reserved || released != tc.released {
				t.Fatalf("attempts started %d, slots reserved %d released %d; want %d, %d, %d",
					ss.started, reserved, released, tc.started, tc.reserved, tc.released)
			}
		})
	}
}

var _ capture.FrameSource = (*fakePeer)(nil)
