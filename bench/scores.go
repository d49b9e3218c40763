package bench

import (
	"encoding/csv"
	"io"
	"strconv"
)

// ScoresHeader is the header of scores.csv.
var ScoresHeader = []string{"model", "part", "a", "b", "label", "score", "fta"}

// WriteRunScores writes scores.csv: one row per comparison (label genuine
// or impostor, a and b the images) and per liveness presentation (label
// the attack type or bonafide, score p(live), b empty), then one row per
// image that failed to acquire (score empty, fta its reason). Paths are
// relative to root. Of a part's impostor comparisons at most maxImpostors
// are written (every k-th, in order; 0 = all); report.json counts all.
func WriteRunScores(w io.Writer, root string, parts []PartScores, maxImpostors int) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ScoresHeader); err != nil {
		return err
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 6, 64) }
	for _, ps := range parts {
		row := func(a, b, label, score, fta string) error {
			return cw.Write([]string{ps.Model, ps.Part, a, b, label, score, fta})
		}
		name := func(p string) string {
			if d, ok := ps.Display[p]; ok {
				return d
			}
			return relTo(root, p)
		}
		path := func(i int32) string { return name(ps.Images.Paths[i]) }
		for _, c := range ps.Set.Genuine {
			if err := row(path(c.I), path(c.J), "genuine", f(c.Score), ""); err != nil {
				return err
			}
		}
		step := 1
		if maxImpostors > 0 && len(ps.Set.Impostor) > maxImpostors {
			step = (len(ps.Set.Impostor) + maxImpostors - 1) / maxImpostors
		}
		for k := 0; k < len(ps.Set.Impostor); k += step {
			c := ps.Set.Impostor[k]
			if err := row(path(c.I), path(c.J), "impostor", f(c.Score), ""); err != nil {
				return err
			}
		}
		for k, p := range ps.PAD {
			if err := row(name(ps.PADPaths[k]), "", p.AttackType, f(p.Live), ""); err != nil {
				return err
			}
		}
		for _, p := range ps.Images.Paths {
			if r, ok := ps.FTA[p]; ok {
				if err := row(name(p), "", "", "", r); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
