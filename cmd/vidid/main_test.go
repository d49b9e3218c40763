package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vidid/internal/pgtest"
	"vidid/internal/testenv"
	"vidid/register"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"help"}, 0, "Commands:"},
		{[]string{"nonsense"}, 2, "unknown command"},
		{[]string{"compare", "only-one.jpg"}, 2, "need two image files"},
		{[]string{"compare", "--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"verify", "x.jpg"}, 2, "need --iin"},
		{[]string{"register"}, 2, "missing subcommand"},
		{[]string{"compare", "--help"}, 0, "Exit status"},
		{[]string{"version"}, 0, "vidid"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(out+errs, tc.want) {
				t.Fatalf("exit %d (want %d); output lacks %q:\n%s%s", code, tc.code, tc.want, out, errs)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	data := testenv.DataDir(t)
	models := testenv.ModelRoot(t)
	face := func(p string) string { return filepath.Join(data, "faces", p) }
	bad := filepath.Join(t.TempDir(), "bad.jpg")
	if err := os.WriteFile(bad, []byte("not a jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		a, b  string
		code  int
		match bool
	}{
		{"same person", face("lfw-Anthony_Fauci/1.jpg"), face("lfw-Anthony_Fauci/2.jpg"), 0, true},
		{"different people", face("lfw-Anthony_Fauci/1.jpg"), face("lfw-Benjamin_Netanyahu/1.jpg"), 3, false},
		{"not an image", face("lfw-Anthony_Fauci/1.jpg"), bad, 4, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "compare", "--json", "--models", models, tc.a, tc.b)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s%s", code, tc.code, out, errs)
			}
			if code == 4 {
				if !strings.Contains(errs, "not a usable image") {
					t.Fatalf("stderr %q does not explain the bad image", errs)
				}
				return
			}
			var v struct {
				Score *float64 `json:"score"`
				Match bool     `json:"match"`
			}
			if err := json.Unmarshal([]byte(out), &v); err != nil || v.Score == nil {
				t.Fatalf("output is not the JSON object: %q (%v)", out, err)
			}
			if v.Match != tc.match {
				t.Fatalf("match %v, want %v (score %v)", v.Match, tc.match, *v.Score)
			}
		})
	}
}

func TestVerifyCommand(t *testing.T) {
	data := testenv.DataDir(t)
	models := testenv.ModelRoot(t)
	pool := pgtest.New(t)
	url := pgtest.URL(t)
	iin, _ := register.GenerateIIN(time.Date(1954, 12, 24, 0, 0, 0, 0, time.UTC), true, 3)
	photo, err := os.ReadFile(filepath.Join(data, "faces", "lfw-Anthony_Fauci", "1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := register.NewPG(pool).Put(context.Background(), register.Citizen{IIN: iin, Surname: "Fauci", GivenName: "Anthony",
		BirthDate: time.Date(1954, 12, 24, 0, 0, 0, 0, time.UTC), Photo: photo}); err != nil {
		t.Fatal(err)
	}
	selfie := filepath.Join(data, "faces", "lfw-Anthony_Fauci", "2.jpg")
	unknown, _ := register.GenerateIIN(time.Date(1980, 5, 5, 0, 0, 0, 0, time.UTC), false, 9)
	tests := []struct {
		name string
		iin  string
		code int
		want string
	}{
		{"match", iin, 0, `"match": true`},
		{"invalid checksum", iin[:11] + string('0'+(iin[11]-'0'+1)%10), 4, "invalid IIN"},
		{"unknown", unknown, 4, "not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "verify", "--json", "--models", models, "--db", url, "--iin", tc.iin, selfie)
			if code != tc.code || !strings.Contains(strings.ToLower(out+errs), strings.ToLower(tc.want)) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s%s", code, tc.code, tc.want, out, errs)
			}
		})
	}
}
