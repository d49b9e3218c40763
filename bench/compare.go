package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
)

// LoadReport reads a report.json.
func LoadReport(path string) (Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Report{}, fmt.Errorf("load report: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return Report{}, fmt.Errorf("load report %s: %w", path, err)
	}
	if r.Schema != ReportSchema {
		return r, fmt.Errorf("load report %s: schema %d, this vidid reads %d", path, r.Schema, ReportSchema)
	}
	return r, nil
}

// Change is one figure in two reports.
type Change struct {
	Name string
	A, B Estimate
}

// Overlap says how the intervals of the two values relate.
func (c Change) Overlap() string {
	ia, ib := c.A.CI95, c.B.CI95
	switch {
	case ia[0] != ia[0] || ib[0] != ib[0]:
		return "no interval"
	case ia[1] < ib[0] || ib[1] < ia[0]:
		return "intervals disjoint"
	}
	return "intervals overlap"
}

// Compare lists the figures of b next to a's: per embedder and part the
// FTA, EER, FNMR and threshold per FMR target and the rates at the active
// threshold, and per liveness part APCER per attack type and BPCER.
func Compare(a, b Report) []Change {
	var out []Change
	for _, ea := range a.Embedders {
		for _, eb := range b.Embedders {
			if ea.Embedder != eb.Embedder {
				continue
			}
			out = append(out, compareFace(ea.Embedder+" faces", ea.Faces, eb.Faces)...)
			out = append(out, compareFace(ea.Embedder+" pairs", ea.Pairs, eb.Pairs)...)
		}
	}
	if a.Liveness != nil && b.Liveness != nil {
		out = append(out, comparePAD("liveness frames", a.Liveness.Frames, b.Liveness.Frames)...)
		out = append(out, comparePAD("liveness crops", a.Liveness.Crops, b.Liveness.Crops)...)
		out = append(out, comparePAD("liveness video frames", a.Liveness.VideoFrames, b.Liveness.VideoFrames)...)
	}
	return out
}

func point(v float64) Estimate { return Estimate{Num(v), Interval{nan, nan}} }

func compareFace(name string, a, b *FacePart) []Change {
	if a == nil || b == nil {
		return nil
	}
	out := []Change{{name + " FTA", a.FTA.Estimate, b.FTA.Estimate}, {name + " EER", a.EER, b.EER}}
	for i, x := range a.FNMRAtFMR {
		for j, y := range b.FNMRAtFMR {
			if x.Target == y.Target {
				out = append(out, Change{fmt.Sprintf("%s FNMR at FMR %s", name, target(x.Target)), x.FNMR, y.FNMR},
					Change{fmt.Sprintf("%s threshold at FMR %s", name, target(x.Target)), a.Thresholds[i].Estimate, b.Thresholds[j].Estimate})
			}
		}
	}
	if a.AtThreshold != nil && b.AtThreshold != nil {
		out = append(out, Change{fmt.Sprintf("%s FMR at active threshold (%.4f / %.4f)", name, a.AtThreshold.Threshold, b.AtThreshold.Threshold), point(a.AtThreshold.FMR), point(b.AtThreshold.FMR)},
			Change{name + " FNMR at active threshold", point(a.AtThreshold.FNMR), point(b.AtThreshold.FNMR)})
	}
	return out
}

func comparePAD(name string, a, b *PADPart) []Change {
	if a == nil || b == nil {
		return nil
	}
	est := func(v Num, iv Interval) Estimate { return Estimate{v, iv} }
	var out []Change
	for _, typ := range slices.Sorted(maps.Keys(a.APCER)) {
		if vb, ok := b.APCER[typ]; ok {
			out = append(out, Change{name + " APCER " + typ, est(a.APCER[typ], a.APCERCI[typ]), est(vb, b.APCERCI[typ])})
		}
	}
	return append(out, Change{name + " BPCER", est(a.BPCER, a.BPCERCI), est(b.BPCER, b.BPCERCI)})
}

// WriteCompare prints the changes between reports a and b.
func WriteCompare(w io.Writer, a, b Report) error {
	ew := &errWriter{w: w}
	if a.Dataset.Hash != b.Dataset.Hash {
		ew.printf("note: the reports measured different data (hash %.12s vs %.12s)\n", a.Dataset.Hash, b.Dataset.Hash)
	}
	for _, e := range b.Embedders {
		for _, x := range a.Embedders {
			if x.Embedder == e.Embedder && x.Model != e.Model {
				ew.printf("note: %s model changed: %s -> %s\n", e.Embedder, x.Model, e.Model)
			}
		}
	}
	ew.printf("%-52s %12s %12s %12s  %s\n", "figure", "A", "B", "B - A", "95% intervals")
	for _, c := range Compare(a, b) {
		d := "n/a"
		if c.A.Value.Measured() && c.B.Value.Measured() {
			d = fmt.Sprintf("%+.6f", float64(c.B.Value-c.A.Value))
		}
		ew.printf("%-52s %12s %12s %12s  %s\n", c.Name, num(c.A.Value), num(c.B.Value), d, c.Overlap())
	}
	return ew.err
}

func num(n Num) string {
	if !n.Measured() {
		return "n/a"
	}
	return fmt.Sprintf("%.6f", float64(n))
}
