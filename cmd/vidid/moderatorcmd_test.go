package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"vidid/moderation"
)

func TestModeratorCommand(t *testing.T) {
	pool, cli := dbCLI(t)
	wantUsage(t,
		usageCase{[]string{"moderator", "add"}, "needs --name"},
		usageCase{[]string{"moderator", "disable"}, "needs an ID"},
		usageCase{[]string{"moderator", "promote"}, "unknown subcommand"},
		usageCase{[]string{"moderator", "list", "extra"}, "unexpected"},
	)
	if code, out, errs := runCLI(t, "moderator", "--help"); code != 0 || !strings.Contains(out+errs, "access token") {
		t.Errorf("--help: exit %d: %s", code, out)
	}

	code, out := cli("moderator", "add", "--name", "Aliya Seitkali")
	token := regexp.MustCompile(`vmod_[0-9a-f]{16}_[0-9a-f]{64}`).FindString(out)
	if code != 0 || token == "" {
		t.Fatalf("add: exit %d: %s", code, out)
	}
	mods := moderation.NewModerators(pool, nil)
	m, err := mods.Authenticate(context.Background(), token)
	if err != nil || m.Name != "Aliya Seitkali" {
		t.Fatalf("the printed token does not sign in: %+v, %v", m, err)
	}

	// --token-file: written once (0600), then left alone.
	file := filepath.Join(t.TempDir(), "sub", "demo-token")
	if code, out := cli("moderator", "add", "--name", "Demo", "--token-file", file); code != 0 || strings.Contains(out, "vmod_") {
		t.Fatalf("add --token-file: exit %d: %s", code, out)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v", st.Mode().Perm())
	}
	if _, err := mods.Authenticate(context.Background(), strings.TrimSpace(string(b))); err != nil {
		t.Fatalf("token from the file: %v", err)
	}
	if code, out := cli("moderator", "add", "--name", "Demo", "--token-file", file); code != 0 || !strings.Contains(out, "nothing to do") {
		t.Fatalf("second add --token-file: exit %d: %s", code, out)
	}
	// A stale token (the database was reset) is replaced by a new account's.
	if err := os.WriteFile(file, []byte("vmod_0123456789abcdef_"+strings.Repeat("0", 64)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := cli("moderator", "add", "--name", "Demo", "--token-file", file); code != 0 || strings.Contains(out, "nothing to do") {
		t.Fatalf("add --token-file over a stale token: exit %d: %s", code, out)
	}
	if b, _ := os.ReadFile(file); func() error {
		_, err := mods.Authenticate(context.Background(), strings.TrimSpace(string(b)))
		return err
	}() != nil {
		t.Fatal("the replaced token file does not sign in")
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("replaced token file mode %v", st.Mode().Perm())
	}

	// The analysts' export (the records themselves: package moderation).
	csvPath := filepath.Join(t.TempDir(), "decisions.csv")
	if code, out := cli("moderator", "decisions", "--since", "2026-01-01", "--csv", csvPath); code != 0 || !strings.Contains(out, "0 decisions") {
		t.Fatalf("decisions: exit %d: %s", code, out)
	}
	if b, err := os.ReadFile(csvPath); err != nil || !strings.HasPrefix(string(b), "session_id,entered_at,decided_at,on_time,why,") {
		t.Fatalf("decisions CSV: %q %v", b, err)
	}
	if code, out := cli("moderator", "decisions", "--since", "yesterday"); code != 2 || !strings.Contains(out, "not YYYY-MM-DD") {
		t.Errorf("bad --since: exit %d: %s", code, out)
	}

	code, out = cli("moderator", "list")
	if code != 0 || strings.Count(out, "active") != 3 || !strings.Contains(out, m.ID) {
		t.Fatalf("list: exit %d: %s", code, out)
	}
	if code, out := cli("moderator", "disable", m.ID); code != 0 {
		t.Fatalf("disable: exit %d: %s", code, out)
	}
	if _, err := mods.Authenticate(context.Background(), token); err == nil {
		t.Fatal("a disabled moderator still signs in")
	}
	if code, out := cli("moderator", "disable", "0123456789abcdef"); code == 0 || !strings.Contains(out, "not found") {
		t.Errorf("disable unknown: exit %d: %s", code, out)
	}
	if code, out := cli("moderator", "list"); code != 0 || !strings.Contains(out, "disabled") {
		t.Errorf("list after disable: exit %d: %s", code, out)
	}
}
