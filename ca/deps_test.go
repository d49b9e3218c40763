package ca_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoCgoDependencies fails if vidid/ca (or anything it imports) pulls in
// a cgo package: the CA must build and run on a host without OpenCV, dlib
// or libvpx.
func TestNoCgoDependencies(t *testing.T) {
	forbidden := []string{"gocv.io/x/gocv", "github.com/Kagami/go-face", "github.com/pion/webrtc",
		"vidid/engine/ocv", "vidid/engine/dlib", "vidid/liveness/ocv", "vidid/webrtc"}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	out, err := exec.Command(gobin, "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}} {{len .CgoFiles}}", "vidid/ca").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("go list output %q", line)
		}
		for _, p := range forbidden {
			if f[0] == p || strings.HasPrefix(f[0], p+"/") {
				t.Errorf("vidid/ca depends on %s", f[0])
			}
		}
		if f[1] != "true" && f[2] != "0" { // std's net and os/user have optional cgo files
			t.Errorf("vidid/ca depends on %s, which has cgo files", f[0])
		}
	}
}
