package bench

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"vidid/policy"
)

// ErrNotMeasurable: the report cannot support the proposal (the target
// FMR is below what its impostor comparisons can measure, or the model
// is not in it).
var ErrNotMeasurable = errors.New("not measurable in this report")

// ProposeOptions say what to propose from a report.
type ProposeOptions struct {
	// TargetFMR is the false-match rate the match threshold must meet.
	TargetFMR float64
	// Version names the proposal; empty derives one from the dataset hash
	// and the target.
	Version string
	// Report is the report's path, kept as evidence.
	Report string
}

// ProposePolicy turns a benchmark report into a proposed decision policy:
// base with, for every embedder of the report base knows, the match
// threshold that meets TargetFMR on the report's largest comparison set
// (faces/, else the pair list), carrying its evidence (dataset hash,
// counts, the threshold's bootstrap interval, the FNMR there). Every
// other field of base stays. The proposal is validated (for example, a
// threshold under the moderation band's floor is refused).
func ProposePolicy(r Report, base *policy.Policy, o ProposeOptions) (*policy.Policy, error) {
	if !(o.TargetFMR > 0 && o.TargetFMR < 1) {
		return nil, fmt.Errorf("%w: target FMR %v outside (0,1)", policy.ErrInvalid, o.TargetFMR)
	}
	p := base
	var ev *policy.Evidence
	for _, e := range r.Embedders {
		if _, err := base.Model(e.Model); err != nil {
			continue // a model the policy does not cover
		}
		part := e.Faces
		if part == nil || part.Impostor < (e.pairsImpostors()) {
			part = e.Pairs
		}
		if part == nil {
			continue
		}
		th, fnmr, ok := part.at(o.TargetFMR)
		if !ok {
			return nil, fmt.Errorf("%w: %s at FMR %g (%d impostor comparisons)", ErrNotMeasurable, e.Model, o.TargetFMR, part.Impostor)
		}
		q, err := p.Override(e.Model, policy.Override{Field: "match", Value: strconv.FormatFloat(float64(th.Value), 'f', 4, 64)})
		if err != nil {
			return nil, err
		}
		for i := range q.Models {
			if q.Models[i].Model == e.Model {
				q.Models[i].FMRTarget = o.TargetFMR
			}
		}
		p = q
		ev = &policy.Evidence{Report: o.Report, DatasetSHA256: r.Dataset.Hash, TargetFMR: o.TargetFMR, Genuine: part.Genuine,
			Impostor: part.Impostor, FNMR: float64(fnmr), CI95: [2]float64(th.CI95)}
	}
	if ev == nil {
		return nil, fmt.Errorf("%w: no embedder of the report is in policy %s", ErrNotMeasurable, base.Version)
	}
	q := *p
	q.Parent, q.Evidence = base.Version, ev
	q.Version = o.Version
	if q.Version == "" {
		h := r.Dataset.Hash
		if len(h) > 12 {
			h = h[:12]
		}
		q.Version = fmt.Sprintf("bench-%s-fmr%g", h, o.TargetFMR)
	}
	q.Comment = fmt.Sprintf("proposed from benchmark report %s (dataset %s) for FMR %g, on %s", o.Report, r.Dataset.Hash, o.TargetFMR, base.Version)
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return &q, nil
}

// pairsImpostors is the pair list's impostor count (0 without one).
func (e EmbedderReport) pairsImpostors() int {
	if e.Pairs == nil {
		return 0
	}
	return e.Pairs.Impostor
}

// at is the threshold meeting target with its interval and the FNMR
// there, when measurable.
func (v *FacePart) at(target float64) (Estimate, Num, bool) {
	for i, t := range v.Thresholds {
		if t.Target == target && t.Measurable && !math.IsNaN(float64(t.Value)) {
			var fnmr Num = Num(math.NaN())
			if i < len(v.FNMRAtFMR) && v.FNMRAtFMR[i].Target == target {
				fnmr = v.FNMRAtFMR[i].FNMR.Value
			}
			return t.Estimate, fnmr, true
		}
	}
	return Estimate{}, 0, false
}
