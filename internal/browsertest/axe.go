package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"vidid/internal/testenv"
)

// AxeTags are the axe-core rule tags the pages must pass: WCAG 2.0 and 2.1,
// levels A and AA.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// AxePath is axe-core's browser build: $VIDID_AXE, else
// var/node/node_modules/axe-core/axe.min.js under the repository, where
// `make npm-deps` (part of `make test`) installs the version pinned in
// web/testdata/axe/package-lock.json.
func AxePath() string {
	if p := os.Getenv("VIDID_AXE"); p != "" {
		return p
	}
	return filepath.Join(testenv.RepoRoot(), "var", "node", "node_modules", "axe-core", "axe.min.js")
}

// AxeViolation is one failed axe-core rule on a page.
type AxeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"` // CSS selectors of (at most five of) the failing elements
}

func (v AxeViolation) String() string {
	return fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", "))
}

// Axe injects axe-core into the page of ctx (once per document) and returns
// the violations of AxeTags in the page as it is now. A missing axe-core
// fails the test (it is skipped only under -short, like the browser): run
// `make npm-deps` or set VIDID_AXE.
func Axe(t testing.TB, ctx context.Context) []AxeViolation {
	t.Helper()
	if testing.Short() {
		t.Skip("runs axe-core in headless Chromium; skipped under -short")
	}
	src, err := os.ReadFile(AxePath())
	if err != nil {
		t.Fatalf("axe-core: %v: run `make npm-deps` (npm ci into var/node) or set VIDID_AXE to axe.min.js", err)
	}
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err == nil && !loaded {
		_, err = chromedp.Run(ctx, chromedp.Evaluate[any](string(src)+"\n;true"))
	}
	if err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	tags, _ := json.Marshal(AxeTags)
	run := `axe.run(document, {runOnly: {type: "tag", values: ` + string(tags) + `}, resultTypes: ["violations"]})
		.then((r) => JSON.stringify(r.violations.map((v) => ({id: v.id, impact: v.impact || "", help: v.help,
			nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" "))}))))`
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core: %v", err)
	}
	var vs []AxeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("axe-core results: %v", err)
	}
	return vs
}

// CheckAxe fails t with every axe-core violation on the page of ctx; what
// names the page and its state in the messages.
func CheckAxe(t testing.TB, ctx context.Context, what string) {
	t.Helper()
	for _, v := range Axe(t, ctx) {
		t.Errorf("%s: axe: %s", what, v)
	}
}
