package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vidid/policy"
)

func TestPolicyCommand(t *testing.T) {
	pool, cli := dbCLI(t)
	wantUsage(t,
		usageCase{[]string{"policy", "propose", "--by", "a"}, "needs --file or --report"},
		usageCase{[]string{"policy", "propose", "--by", "a", "--file", "x", "--report", "y"}, "one of them"},
		usageCase{[]string{"policy", "activate", "--by", "a"}, "needs a VERSION"},
		usageCase{[]string{"policy", "activate", "v1", "--by", ""}, "needs --by"},
		usageCase{[]string{"policy", "retire"}, "unknown subcommand"},
	)

	// show --json on a new database: the seeded built-in version, as a
	// document propose accepts.
	code, out := cli("policy", "show", "--json")
	if code != 0 {
		t.Fatalf("show: exit %d: %s", code, out)
	}
	p, err := policy.Parse([]byte(out))
	if err != nil || p.Version != policy.Builtin().Version {
		t.Fatalf("show --json printed %q (%v)", out, err)
	}
	m, err := p.Model("faceplugin-fr_feature@87aacdfe")
	if err != nil || m.Match <= 0 || m.ModerationBand <= 0 {
		t.Fatalf("fields: %+v %v", m, err)
	}

	// propose a stricter version, then activate it: audited.
	p.Version, p.Models[0].Match = "analyst-1", 0.72
	file := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(file, p.MarshalIndent(), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := cli("policy", "propose", "--file", file, "--by", "alice"); code != 0 || !strings.Contains(out, "analyst-1 proposed") {
		t.Fatalf("propose: exit %d: %s", code, out)
	}
	if code, out := cli("policy", "propose", "--file", file, "--by", "alice"); code != 0 {
		t.Fatalf("proposing the same document again must be a no-op: exit %d: %s", code, out)
	}
	bad := strings.Replace(string(p.MarshalIndent()), `"match": 0.72`, `"match": 1.72`, 1)
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := cli("policy", "propose", "--file", file, "--by", "alice"); code != 1 || !strings.Contains(out, "match threshold") {
		t.Fatalf("an invalid policy must be refused: exit %d: %s", code, out)
	}
	if code, out := cli("policy", "activate", "analyst-1", "--by", "bob"); code != 0 {
		t.Fatalf("activate: exit %d: %s", code, out)
	}
	var who string
	if err := pool.QueryRow(context.Background(),
		`SELECT data->>'by' FROM audit_log WHERE kind = 'policy_activated' AND data->>'version' = 'analyst-1'`).Scan(&who); err != nil || who != "bob" {
		t.Fatalf("activation audit record: %q, %v", who, err)
	}
	code, out = cli("policy", "list", "--json")
	var list []policy.Info
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 {
		t.Fatalf("list: exit %d: %s", code, out)
	}
	for _, i := range list {
		if (i.Version == "analyst-1") != (i.Status == policy.StatusActive) {
			t.Errorf("list: %+v", i)
		}
	}
	if code, out := cli("policy", "show"); code != 0 || !strings.Contains(out, "policy analyst-1") || !strings.Contains(out, "0.7200") {
		t.Fatalf("show: exit %d: %s", code, out)
	}

	// From a benchmark report: the report's model is not in the policy.
	if code, out := cli("policy", "propose", "--report", "../../bench/testdata/report.json", "--target-fmr", "0.25", "--by", "analyst"); code != 1 || !strings.Contains(out, "not measurable") {
		t.Fatalf("a report of another model: exit %d: %s", code, out)
	}
	// The same report as if measured with the default embedder.
	rb, err := os.ReadFile("../../bench/testdata/report.json")
	if err != nil {
		t.Fatal(err)
	}
	rep := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(rep, []byte(strings.ReplaceAll(string(rb), "fake-embedder@1", "faceplugin-fr_feature@87aacdfe")), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := cli("policy", "propose", "--report", rep, "--target-fmr", "0.25", "--version", "bench-1", "--by", "analyst"); code != 0 || !strings.Contains(out, "14 genuine and 28 impostor") {
		t.Fatalf("propose --report: exit %d: %s", code, out)
	}
	code, out = cli("policy", "show", "bench-1", "--json")
	got, err := policy.Parse([]byte(out))
	if code != 0 || err != nil || got.Parent != "analyst-1" || got.Evidence == nil || got.Evidence.Impostor != 28 || got.Models[0].Match != 0.6733 {
		t.Fatalf("the proposal from the report: exit %d, %v: %s", code, err, out)
	}
}
