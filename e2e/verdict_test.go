//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"testing"

	"vidid/policy"
	"vidid/reason"
	"vidid/store"
)

// sameVerdict checks the newest attempt as an analyst would: it names its
// policy version and keeps its measurements, and that policy, given those
// measurements, gives the outcome and reason the attempt recorded. The
// live path has no verdict of its own.
func sameVerdict(t *testing.T, db string) policy.Verdict {
	t.Helper()
	ctx := context.Background()
	pool, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var outcome, why, version string
	var meas, body []byte
	err = pool.QueryRow(ctx, `
		SELECT a.outcome, coalesce(a.reason, ''), coalesce(a.policy_version, ''), coalesce(a.measurements::text, ''), p.body::text
		FROM session_attempts a LEFT JOIN policies p ON p.version = a.policy_version
		WHERE a.finished_at IS NOT NULL ORDER BY a.started_at DESC LIMIT 1`).Scan(&outcome, &why, &version, &meas, &body)
	if err != nil {
		t.Fatalf("newest attempt with its policy: %v", err)
	}
	if version == "" || len(meas) == 0 || len(body) == 0 {
		t.Fatalf("the attempt does not name its policy (%q) or keep its measurements (%d bytes)", version, len(meas))
	}
	p, err := policy.Parse(body)
	if err != nil {
		t.Fatalf("stored policy %s: %v", version, err)
	}
	var m policy.Measurements
	if err := json.Unmarshal(meas, &m); err != nil {
		t.Fatalf("measurements: %v", err)
	}
	v := p.Decide(m)
	if v.Outcome != reason.Outcome(outcome) || v.Reason != reason.Code(why) {
		t.Fatalf("policy %s on the stored measurements says %s/%s (%s); the attempt recorded %s/%s", version, v.Outcome, v.Reason, v.DecidedBy, outcome, why)
	}
	t.Logf("verdict %s/%s by %s under policy %s", v.Outcome, v.Reason, v.DecidedBy, version)
	return v
}
