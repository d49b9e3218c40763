package assertion_test

import (
	"os/exec"
	"strings"
	"testing"
)

// forbidden are the cgo packages of this module and the cgo modules it
// uses: assertion and ca must build without a C toolchain, for a CA host.
var forbidden = []string{
	"gocv.io/x/gocv",
	"github.com/Kagami/go-face",
	"github.com/pion/webrtc",
	"vidid/engine/ocv",
	"vidid/engine/dlib",
	"vidid/liveness/ocv",
	"vidid/webrtc",
}

// TestNoCgoDependencies fails if vidid/assertion (or anything it imports)
// pulls in a cgo package.
func TestNoCgoDependencies(t *testing.T) {
	checkNoCgo(t, "vidid/assertion", "vidid/assertion/assertiontest")
}

func checkNoCgo(t *testing.T, pkgs ...string) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	args := append([]string{"list", "-deps", "-f", "{{.ImportPath}} {{.Standard}} {{len .CgoFiles}}"}, pkgs...)
	out, err := exec.Command(gobin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("go list output %q", line)
		}
		path, std, cgoFiles := f[0], f[1] == "true", f[2]
		for _, p := range forbidden {
			if path == p || strings.HasPrefix(path, p+"/") {
				t.Errorf("%v depend on %s", pkgs, path)
			}
		}
		if !std && cgoFiles != "0" { // std's net and os/user have optional cgo files
			t.Errorf("%v depend on %s, which has cgo files", pkgs, path)
		}
	}
}
