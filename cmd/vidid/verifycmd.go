package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"vidid/engine"
	"vidid/idnum"
	"vidid/register"
	"vidid/verify"
)

func init() {
	addCommand(command{name: "verify", summary: "compare a selfie with the register photo of an IIN", run: runVerify})
}

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", "verify [--json] --iin IIN selfie.jpg", `
Looks up the citizen's register photo by IIN, detects exactly one face in the
selfie (JPEG or PNG), and compares the two with the configured embedder and
threshold. The register photo's embedding is cached in the database per
model version.

Exit status: 0 match, 3 no match, 4 no usable face / bad image / invalid or
unknown IIN, 1 other failures, 2 bad command line.`, stderr)
	iin := fs.String("iin", "", "the citizen's 12-digit IIN (required)")
	asJSON := fs.Bool("json", false, "print one JSON object (score, match, threshold, quality)")
	var ef engineFlags
	var pf policyFlags
	var db dbFlags
	ef.add(fs)
	pf.add(fs, true)
	db.add(fs)
	var sec secretFlags
	sec.add(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *iin == "" {
		return fmt.Errorf("%w: need --iin and one image file", errUsage)
	}
	if err := idnum.ValidateIIN(*iin); err != nil {
		return exitError{4, err}
	}
	f, err := engine.LoadImage(fs.Arg(0))
	if err != nil {
		return exitError{4, err}
	}
	pool, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	eng, err := ef.open(nil)
	if err != nil {
		return err
	}
	defer eng.Close()
	repo, err := sec.register(ctx, pool)
	if err != nil {
		return err
	}
	svc := verify.New(repo, eng, nil)
	res, err := svc.VerifyFrame(ctx, *iin, f)
	if err != nil {
		for _, e := range []error{register.ErrNotFound, engine.ErrNoFace, engine.ErrMultipleFaces, engine.ErrPoorQuality, verify.ErrReferenceMissing, verify.ErrReferenceUnusable} {
			if errors.Is(err, e) {
				return exitError{4, err}
			}
		}
		return err
	}
	pol, err := pf.offline(res.Model)
	if err != nil {
		return err
	}
	d, err := pol.Match(res.Model, res.Score)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{
			"score": d.Score, "match": d.Match, "threshold": d.Threshold, "threshold_version": d.PolicyVersion,
			"model": res.Model, "quality": res.Probe, "iin": idnum.MaskIIN(*iin),
		}); err != nil {
			return err
		}
	} else {
		verdict := "NO MATCH"
		if d.Match {
			verdict = "MATCH"
		}
		fmt.Fprintf(stdout, "%s  %s %s  score %.4f  threshold %.4f (%s, %s)\nselfie: %s\n", verdict,
			res.Citizen.GivenName, res.Citizen.Surname, d.Score, d.Threshold, d.PolicyVersion, res.Model, res.Probe)
	}
	if !d.Match {
		return exitError{3, errSilent}
	}
	return nil
}
