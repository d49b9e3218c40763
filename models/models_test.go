package models

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCatalog(t *testing.T) {
	all, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range all {
		if seen[f.Rel()] {
			t.Errorf("%s listed twice", f.Rel())
		}
		seen[f.Rel()] = true
		if !strings.HasPrefix(f.Source, "npm:") && !strings.HasPrefix(f.Source, "deb:") && !strings.HasPrefix(f.Source, "url:https://") && f.Source != "cache-only" {
			t.Errorf("%s: source %q is not npm:, deb:, url:https:// or cache-only", f.Rel(), f.Source)
		}
		if f.Licence == "" {
			t.Errorf("%s: no licence", f.Rel())
		}
	}
	for _, need := range []string{"faceplugin/fr_detect.onnx", "faceplugin/fr_feature.onnx", "dlib/dlib_face_recognition_resnet_model_v1.dat"} {
		if !seen[need] {
			t.Errorf("catalogue lacks %s", need)
		}
	}
}

func TestParseCatalogRejects(t *testing.T) {
	for _, bad := range []string{
		"a\tb\t12\tshort\tnpm:x\tMIT\n",
		"a\tb\tnot-a-number\t" + strings.Repeat("0", 64) + "\tnpm:x\tMIT\n",
		"a\tb\t12\n",
	} {
		if _, err := parseCatalog([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestVerify(t *testing.T) {
	dir := t.TempDir()
	content := []byte("model bytes")
	sum := sha256.Sum256(content)
	f := File{Subdir: "x", Name: "m.onnx", Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:])}
	p := filepath.Join(dir, "m.onnx")
	tests := []struct {
		name  string
		write []byte
		want  string
	}{
		{"good", content, ""},
		{"truncated", content[:4], "truncated"},
		{"altered", []byte("model bytez"), "corrupt or altered"},
		{"missing", nil, "make models"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(p)
			if tc.write != nil {
				if err := os.WriteFile(p, tc.write, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := Verify(p, f)
			b, rerr := readVerified(p, f)
			if tc.want == "" {
				if err != nil || rerr != nil || string(b) != string(content) {
					t.Fatalf("Verify: %v; readVerified: %q, %v", err, b, rerr)
				}
				return
			}
			for _, err := range []error{err, rerr} {
				if !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want ErrModel saying %q", err, tc.want)
				}
			}
			if b != nil {
				t.Fatalf("readVerified returned %d bytes with an error", len(b))
			}
		})
	}
}
