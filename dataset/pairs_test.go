package dataset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadPairs(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int
		wantErr string
	}{
		{"ok", "# header\n1\ta/1.jpg\ta/2.jpg\n0\ta/1.jpg\tb/1.jpg\n", 2, ""},
		{"bad label", "2\ta\tb\n", 0, "line 1"},
		{"two columns", "1\ta\n", 0, "line 1"},
		{"escapes root", "1\t../x.jpg\ta.jpg\n", 0, "inside the root"},
		{"absolute", "1\t/etc/passwd\ta.jpg\n", 0, "relative"},
		{"empty", "# nothing\n", 0, "no pairs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := ReadPairs(strings.NewReader(tc.in), "/root")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || len(ps) != tc.want {
				t.Fatalf("got %d pairs, %v", len(ps), err)
			}
			if !ps[0].Same || ps[1].Same || ps[0].A != "/root/a/1.jpg" {
				t.Fatalf("pairs = %+v", ps)
			}
		})
	}
}

func TestLoadIdentities(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"lfw-A/1.jpg", "lfw-A/2.png", "lfw-B/1.jpg", "lfw-B/notes.txt", "empty/x.txt"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := LoadIdentities(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || len(ids[0].Images) != 2 || len(ids[1].Images) != 1 || ids[0].Name != "lfw-A" {
		t.Fatalf("identities = %+v", ids)
	}
}
