package idnum_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps idnum a leaf and the assertion and CA packages
// off the population register: they check and mask IINs through idnum, so
// a CA host needs no register code.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	for _, tc := range []struct {
		pkg string
		// forbidden are import path prefixes pkg must not depend on,
		// directly or not.
		forbidden []string
	}{
		{"vidid/idnum", []string{"vidid/"}},
		{"vidid/assertion", []string{"vidid/register"}},
		{"vidid/assertion/assertiontest", []string{"vidid/register"}},
		{"vidid/ca", []string{"vidid/register"}},
		{"vidid/ca/server", []string{"vidid/register"}},
	} {
		t.Run(tc.pkg, func(t *testing.T) {
			out, err := exec.Command(gobin, "list", "-deps", "-f", "{{.ImportPath}}", tc.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			for _, dep := range strings.Fields(string(out)) {
				if dep == tc.pkg {
					continue
				}
				for _, f := range tc.forbidden {
					if dep == strings.TrimSuffix(f, "/") || strings.HasPrefix(dep, f) {
						t.Errorf("%s depends on %s", tc.pkg, dep)
					}
				}
			}
		})
	}
}
