package api_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"

	"vidid/internal/testenv"
)

// TestOnlyAPIImportsEcho: the HTTP framework stays in api/ (the CA's own
// server, ca/server, uses net/http), so the domain packages never depend on
// it.
func TestOnlyAPIImportsEcho(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = testenv.RepoRoot()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, "github.com/labstack/echo") && p.ImportPath != "vidid/api" {
				t.Errorf("%s imports %s; only vidid/api may", p.ImportPath, imp)
			}
		}
	}
}
