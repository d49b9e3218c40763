package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"vidid/engine"
)

func init() {
	addCommand(command{name: "compare", summary: "compare the faces in two images (score, decision, quality)", run: runCompare})
}

type compareOutput struct {
	Score            float64        `json:"score"`
	Match            bool           `json:"match"`
	Threshold        float64        `json:"threshold"`
	ThresholdVersion string         `json:"threshold_version"`
	Model            string         `json:"model"`
	QualityA         engine.Quality `json:"quality_a"`
	QualityB         engine.Quality `json:"quality_b"`
}

func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compare", "compare [--json] [--embedder onnx|dlib] A.jpg B.jpg", `
Detects exactly one face in each image (JPEG or PNG), checks its quality,
embeds both and prints the similarity score (0..1), the decision against the
decision policy's match threshold for the embedder (the built-in policy, or
--policy FILE; --threshold overrides it), and the quality of both faces.

Exit status: 0 match, 3 no match, 4 an image has no usable face or is not an
image, 1 other failures, 2 bad command line.`, stderr)
	asJSON := fs.Bool("json", false, "print one JSON object (score, match, threshold, quality_a, quality_b)")
	var ef engineFlags
	var pf policyFlags
	ef.add(fs)
	pf.add(fs, true)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("%w: need two image files, got %d", errUsage, fs.NArg())
	}
	eng, err := ef.open(nil)
	if err != nil {
		return err
	}
	defer eng.Close()
	pol, err := pf.offline(eng.Model())
	if err != nil {
		return err
	}
	var probes [2]engine.Probe
	for i, path := range fs.Args() {
		f, err := engine.LoadImage(path)
		if err != nil {
			return exitError{4, err}
		}
		pr, err := eng.ProbeImage(ctx, f)
		if err != nil {
			if errors.Is(err, engine.ErrNoFace) || errors.Is(err, engine.ErrMultipleFaces) || errors.Is(err, engine.ErrPoorQuality) {
				return exitError{4, fmt.Errorf("%s: %w (quality: %s)", path, err, pr.Quality)}
			}
			return fmt.Errorf("%s: %w", path, err)
		}
		probes[i] = pr
	}
	sc, err := engine.Score(probes[0].Embedding, probes[1].Embedding)
	if err != nil {
		return err
	}
	d, err := pol.Match(eng.Model(), sc)
	if err != nil {
		return err
	}
	out := compareOutput{Score: d.Score, Match: d.Match, Threshold: d.Threshold, ThresholdVersion: d.PolicyVersion,
		Model: eng.Model(), QualityA: probes[0].Quality, QualityB: probes[1].Quality}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		verdict := "NO MATCH"
		if d.Match {
			verdict = "MATCH"
		}
		fmt.Fprintf(stdout, "%s  score %.4f  threshold %.4f (%s, %s)\n", verdict, d.Score, d.Threshold, d.PolicyVersion, eng.Model())
		fmt.Fprintf(stdout, "A: %s\nB: %s\n", probes[0].Quality, probes[1].Quality)
	}
	if !d.Match {
		return exitError{3, errSilent}
	}
	return nil
}

// errSilent is an exit status without a message (the output said it all).
var errSilent = errors.New("")
