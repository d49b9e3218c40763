package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
)

// WriteSummary prints the report's main figures as text.
func WriteSummary(w io.Writer, r Report) error {
	ew := &errWriter{w: w}
	ew.printf("data %s (%s), %d files, hash %.16s\n", r.Dataset.Root, joinOr(r.Dataset.Parts, "nothing"), r.Dataset.Files, r.Dataset.Hash)
	for _, e := range r.Embedders {
		ew.printf("\n%s (%s): %d images (%d from cache); active threshold %.4f (%s)\n", e.Embedder, e.Model, e.Images, e.Cached, e.Active.Score, e.Active.Version)
		for _, p := range []struct {
			name string
			fp   *FacePart
		}{{"faces", e.Faces}, {"pairs", e.Pairs}} {
			if p.fp != nil {
				writeFacePart(ew, p.name, p.fp)
			}
		}
		for _, stage := range slices.Sorted(maps.Keys(e.Timing)) {
			ew.printf("  time %-8s %v\n", stage, e.Timing[stage])
		}
	}
	if l := r.Liveness; l != nil {
		ew.printf("\nliveness %s, bona fide when p(live) >= %.3f\n", l.Model, l.Threshold)
		for _, p := range []struct {
			name string
			pp   *PADPart
		}{{"frames", l.Frames}, {"crops", l.Crops}, {"mixed", l.Mixed}, {"video frames", l.VideoFrames}} {
			if p.pp == nil {
				continue
			}
			ew.printf("  %s: %d presentations, %d subjects, FTA %s\n", p.name, p.pp.Presentations, p.pp.Subjects, pct(p.pp.FTA.Value))
			for _, typ := range slices.Sorted(maps.Keys(p.pp.APCER)) {
				ew.printf("    APCER %-16s %s  (%d)\n", typ, pct(p.pp.APCER[typ]), p.pp.Attacks[typ])
			}
			ew.printf("    BPCER %-16s %s  (%d)\n", "", pct(p.pp.BPCER), p.pp.Bonafide)
		}
		ew.printf("  videos: %s\n", l.Videos.Status)
	}
	for _, n := range r.NotMeasured {
		ew.printf("\nnot measured: %s\n", n)
	}
	return ew.err
}

func writeFacePart(ew *errWriter, name string, p *FacePart) {
	ew.printf("  %s: %d identities, %d genuine, %d impostor comparisons; FTA %s %s (%d of %d images)\n",
		name, p.Identities, p.Genuine, p.Impostor, pct(p.FTA.Value), ci(p.FTA.CI95), p.FTA.Failed, p.FTA.Attempts)
	ew.printf("    EER %s %s at %.4f\n", pct(p.EER.Value), ci(p.EER.CI95), float64(p.EERThreshold))
	for i, a := range p.FNMRAtFMR {
		if !a.Measurable {
			ew.printf("    FNMR at FMR %s: not measurable (%d impostors < %.0f)\n", target(a.Target), p.Impostor, MinImpostorsPerTarget/a.Target)
			continue
		}
		ew.printf("    FNMR at FMR %s: %s %s, threshold %.4f %s\n", target(a.Target), pct(a.FNMR.Value), ci(a.FNMR.CI95),
			float64(a.Threshold), ciScore(p.Thresholds[i].CI95))
	}
	if t := p.AtThreshold; t != nil {
		ew.printf("    at the active threshold %.4f: FMR %s, FNMR %s\n", t.Threshold, pct(Num(t.FMR)), pct(Num(t.FNMR)))
	}
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func pct(n Num) string {
	if !n.Measured() {
		return "n/a"
	}
	return fmt.Sprintf("%.3f%%", 100*float64(n))
}

// ci formats a rate's interval in percent.
func ci(iv Interval) string {
	if iv[0] != iv[0] || iv[1] != iv[1] {
		return ""
	}
	return fmt.Sprintf("[%.3f, %.3f]%%", 100*iv[0], 100*iv[1])
}

// ciScore formats a threshold's interval in score units.
func ciScore(iv Interval) string {
	if iv[0] != iv[0] || iv[1] != iv[1] {
		return ""
	}
	return fmt.Sprintf("[%.4f, %.4f]", iv[0], iv[1])
}

func joinOr(xs []string, none string) string {
	if len(xs) == 0 {
		return none
	}
	out := xs[0]
	for _, x := range xs[1:] {
		out += ", " + x
	}
	return out
}

// target formats an FMR target: 0.01, 0.0001, 1e-05.
func target(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
