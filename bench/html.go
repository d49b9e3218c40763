package bench

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
)

//go:embed report.html.tmpl
var reportTemplate string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": pct, "ci": ci, "ciScore": ciScore,
	"score": func(n Num) string {
		if !n.Measured() {
			return "n/a"
		}
		return fmt.Sprintf("%.4f", float64(n))
	},
	"rate": func(f float64) string { return pct(Num(f)) },
	"sci":  target,
	"keys": func(m map[string]Num) []string { return slices.Sorted(maps.Keys(m)) },
}).Parse(reportTemplate))

// htmlPart is one embedder's part of the face data, with its charts.
type htmlPart struct {
	Title string
	Part  *FacePart
	Hist  template.HTML
}

type htmlPAD struct {
	Title string
	Part  *PADPart
	Plot  template.HTML
}

type htmlGroups struct {
	Title  string
	Groups []Group
	DET    template.HTML
}

type htmlView struct {
	R      Report
	DET    template.HTML
	ROC    template.HTML
	Parts  []htmlPart
	Groups []htmlGroups
	PAD    []htmlPAD
	Timing []timingRow
}

type timingRow struct {
	Model, Stage string
	Summary
}

func timingRows(name string, t map[string]Summary) []timingRow {
	var out []timingRow
	for _, stage := range slices.Sorted(maps.Keys(t)) {
		out = append(out, timingRow{name, stage, t[stage]})
	}
	return out
}

// WriteHTML writes the report as one self-contained HTML page: inline CSS
// and SVG, no scripts, nothing fetched.
func WriteHTML(w io.Writer, r Report) error {
	v := htmlView{R: r}
	var curves []namedCurve
	for _, e := range r.Embedders {
		v.Timing = append(v.Timing, timingRows(e.Embedder, e.Timing)...)
		for _, fp := range []struct {
			name string
			p    *FacePart
		}{{"faces", e.Faces}, {"pairs", e.Pairs}} {
			if fp.p == nil {
				continue
			}
			title := e.Embedder + " " + fp.name
			curves = append(curves, namedCurve{name: title, pts: fp.p.Curve, dashed: fp.name == "pairs"})
			v.Parts = append(v.Parts, htmlPart{Title: title, Part: fp.p,
				Hist: histPlot(title+": score distributions", fp.p.Histogram, e.Active.Score).svg()})
			if len(fp.p.Groups) > 0 {
				var gc []namedCurve
				for _, g := range fp.p.Groups {
					gc = append(gc, namedCurve{name: g.Column + "=" + g.Value, pts: g.Curve})
				}
				v.Groups = append(v.Groups, htmlGroups{Title: title, Groups: fp.p.Groups, DET: detPlot(title+": DET per group", gc).svg()})
			}
		}
	}
	if len(curves) > 0 {
		v.DET = detPlot("DET", curves).svg()
		v.ROC = rocPlot("ROC", curves).svg()
	}
	if l := r.Liveness; l != nil {
		v.Timing = append(v.Timing, timingRows(l.Model, l.Timing)...)
		for _, pp := range []struct {
			name string
			p    *PADPart
		}{{"frames and stills", l.Frames}, {"face crops", l.Crops}, {"mixed: an attack and a live face in one frame (ground truth ambiguous)", l.Mixed}, {"frames sampled from videos", l.VideoFrames}} {
			if pp.p == nil {
				continue
			}
			v.PAD = append(v.PAD, htmlPAD{Title: pp.name, Part: pp.p,
				Plot: padPlot("APCER and BPCER by p(live) threshold", pp.p.Sweep, slices.Sorted(maps.Keys(pp.p.APCER)), l.Threshold).svg()})
		}
	}
	return reportTmpl.Execute(w, v)
}
