// Package testenv finds what tests need from outside the repository: the
// public test data (../shared/data or $VIDID_DATA) and the model root
// (var/models or $VIDID_MODELS). A missing dependency fails the test with a
// message saying how to provide it; only -short skips.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot returns the repository root (the folder holding go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// DataDir returns the public test data folder, or fails the test.
func DataDir(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the public test data; skipped under -short")
	}
	d := os.Getenv("VIDID_DATA")
	if d == "" {
		d = filepath.Join(RepoRoot(), "..", "shared", "data")
	}
	if _, err := os.Stat(filepath.Join(d, "faces")); err != nil {
		if os.Getenv("VIDID_ALLOW_MISSING_DATA") == "1" {
			t.Skipf("public test data not found at %s (VIDID_ALLOW_MISSING_DATA=1): %v", d, err)
		}
		t.Fatalf("public test data not found at %s (set VIDID_DATA, or VIDID_ALLOW_MISSING_DATA=1 to skip): %v", d, err)
	}
	return d
}

// ModelRoot returns the model folder, or fails the test.
func ModelRoot(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the model files; skipped under -short")
	}
	d := os.Getenv("VIDID_MODELS")
	if d == "" {
		d = filepath.Join(RepoRoot(), "var", "models")
	}
	if _, err := os.Stat(filepath.Join(d, "faceplugin", "fr_detect.onnx")); err != nil {
		t.Fatalf("models not found at %s (run `make models` or set VIDID_MODELS): %v", d, err)
	}
	return d
}
