package policy_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"vidid/audit"
	"vidid/internal/pgtest"
	"vidid/policy"
)

func newStore(t *testing.T) (*policy.Store, func(kind audit.Kind) int) {
	t.Helper()
	pool := pgtest.New(t)
	al, err := audit.New(audit.Config{SubjectKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	count := func(kind audit.Kind) int {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE kind = $1`, string(kind)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	return policy.NewStore(pool, al), count
}

func TestStoreSeedActivateAudited(t *testing.T) {
	ctx := context.Background()
	st, count := newStore(t)
	if _, err := st.Active(ctx); !errors.Is(err, policy.ErrNoActive) {
		t.Fatalf("empty database: %v, want ErrNoActive", err)
	}
	// Replicas starting at once seed once.
	var wg sync.WaitGroup
	seeded := make(chan bool, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := st.Seed(ctx, policy.Builtin(), "test")
			if err != nil {
				t.Error(err)
			}
			seeded <- ok
		}()
	}
	wg.Wait()
	close(seeded)
	n := 0
	for ok := range seeded {
		if ok {
			n++
		}
	}
	if n != 1 || count(audit.KindPolicyActivated) != 1 || count(audit.KindPolicyProposed) != 1 {
		t.Fatalf("seeded %d times, %d activation and %d proposal records; want 1 each", n, count(audit.KindPolicyActivated), count(audit.KindPolicyProposed))
	}
	act, err := st.Active(ctx)
	if err != nil || act.Version != policy.Builtin().Version {
		t.Fatalf("active %v, %v", act, err)
	}

	// Propose a stricter version and activate it.
	next, err := act.Override("faceplugin-fr_feature@87aacdfe", policy.Override{Field: "match", Value: "0.74"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, next, policy.StatusProposed, "analyst"); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, next, policy.StatusProposed, "analyst"); err != nil {
		t.Fatalf("the same version and contents again must be a no-op: %v", err)
	}
	other := *next
	other.Comment = "different contents, same version"
	if err := st.Put(ctx, &other, policy.StatusProposed, "analyst"); !errors.Is(err, policy.ErrExists) {
		t.Fatalf("same version, other contents: %v, want ErrExists", err)
	}
	if err := st.Activate(ctx, next.Version, "operator"); err != nil {
		t.Fatal(err)
	}
	if act, _ := st.Active(ctx); act.Version != next.Version {
		t.Fatalf("active %s after activation, want %s", act.Version, next.Version)
	}
	if count(audit.KindPolicyActivated) != 2 {
		t.Fatalf("activation not audited: %d records", count(audit.KindPolicyActivated))
	}
	list, err := st.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list %+v, %v", list, err)
	}
	states := map[string]policy.Status{}
	for _, i := range list {
		states[i.Version] = i.Status
	}
	if states[next.Version] != policy.StatusActive || states[policy.Builtin().Version] != policy.StatusRetired {
		t.Fatalf("statuses %v", states)
	}
	if err := st.Activate(ctx, "no-such-version", "operator"); !errors.Is(err, policy.ErrNotFound) {
		t.Fatalf("activating an unknown version: %v", err)
	}
	if err := st.Activate(ctx, next.Version, ""); !errors.Is(err, policy.ErrInvalid) {
		t.Fatalf("activation without a name: %v", err)
	}
}

func TestHolderOverridesAndReadiness(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t)
	const model = "faceplugin-fr_feature@87aacdfe"
	h := policy.NewHolder(st, model, []policy.Override{{Field: "match", Value: "0.72"}}, nil)
	if err := h.Reload(ctx); err == nil || h.Check(ctx) == nil {
		t.Fatal("no active policy: Reload and Check must fail")
	}
	if _, err := st.Seed(ctx, policy.Builtin(), "test"); err != nil {
		t.Fatal(err)
	}
	if err := h.Reload(ctx); err != nil || h.Check(ctx) != nil {
		t.Fatalf("reload %v", err)
	}
	p, _ := h.Current()
	m, _ := p.Model(model)
	bm, _ := policy.Builtin().Model(model)
	if m.Match != 0.72 || m.ModerationBand != bm.ModerationBand || m.ModerationBand == 0 || p.Parent != policy.Builtin().Version {
		t.Fatalf("derived policy %s: %+v (the band must stay %v)", p.Version, m, bm.ModerationBand)
	}
	if got, err := st.Get(ctx, p.Version); err != nil || got.Digest() != p.Digest() {
		t.Fatalf("the derived version must be stored: %v", err)
	}
	// An embedder the active policy does not cover: not ready.
	h2 := policy.NewHolder(st, "unknown@1", nil, nil)
	if err := h2.Reload(ctx); !errors.Is(err, policy.ErrNoModel) || h2.Check(ctx) == nil {
		t.Fatalf("unknown model: %v", err)
	}
}
