package bench

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// palette holds the series colours (colour-blind safe, Okabe-Ito).
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"}

// axis maps values to pixels, linearly or on a log10 scale.
type axis struct {
	lo, hi float64
	log    bool
	label  string
	ticks  []float64
	pct    bool // tick labels in percent
}

func (a axis) frac(v float64) float64 {
	if a.log {
		v = max(v, a.lo)
		return (math.Log10(v) - math.Log10(a.lo)) / (math.Log10(a.hi) - math.Log10(a.lo))
	}
	return (v - a.lo) / (a.hi - a.lo)
}

func (a axis) tickLabel(v float64) string {
	switch {
	case a.pct && a.log:
		if 100*v >= 1 {
			return fmt.Sprintf("%.0f%%", 100*v)
		}
		return strconv.FormatFloat(100*v, 'g', 1, 64) + "%"
	case a.pct:
		return fmt.Sprintf("%.0f%%", 100*v)
	}
	return fmt.Sprintf("%.2f", v)
}

func logTicks(lo, hi float64) []float64 {
	var t []float64
	for v := lo; v <= hi*1.0001; v *= 10 {
		t = append(t, v)
	}
	return t
}

func linTicks(lo, hi, step float64) []float64 {
	var t []float64
	for v := lo; v <= hi+step/1000; v += step {
		t = append(t, math.Round(v/step)*step)
	}
	return t
}

// series is one line (or, with bars, one set of bars) on a plot.
type series struct {
	name   string
	xs, ys []float64
	dashed bool
	bars   bool // step histogram
}

// vline is a labelled vertical marker, such as the active threshold.
type vline struct {
	x     float64
	label string
}

// plot is a small SVG chart.
type plot struct {
	title  string
	x, y   axis
	series []series
	marks  []vline
	// legendLow puts the legend in the lower right corner.
	legendLow bool
}

const (
	plotW, plotH                   = 460, 300
	padL, padR, padT, padB         = 62, 16, 28, 44
	innerW, innerH         float64 = plotW - padL - padR, plotH - padT - padB
)

// svg renders the plot. All text is escaped; the result is safe to inline.
func (p plot) svg() template.HTML {
	var b strings.Builder
	esc := template.HTMLEscapeString
	px := func(v float64) float64 { return padL + innerW*min(max(p.x.frac(v), 0), 1) }
	py := func(v float64) float64 { return padT + innerH*(1-min(max(p.y.frac(v), 0), 1)) }
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, plotW, plotH, plotW, plotH, esc(p.title))
	fmt.Fprintf(&b, `<text x="%d" y="16" class="t">%s</text>`, padL, esc(p.title))
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" class="frame"/>`, padL, padT, innerW, innerH)
	for _, t := range p.x.ticks {
		x := px(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.0f" class="grid"/><text x="%.1f" y="%.0f" class="tx">%s</text>`, x, padT, x, padT+innerH, x, padT+innerH+14, esc(p.x.tickLabel(t)))
	}
	for _, t := range p.y.ticks {
		y := py(t)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.0f" y2="%.1f" class="grid"/><text x="%d" y="%.1f" class="ty">%s</text>`, padL, y, padL+innerW, y, padL-4, y+4, esc(p.y.tickLabel(t)))
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%d" class="xl">%s</text>`, padL+innerW/2, plotH-6, esc(p.x.label))
	fmt.Fprintf(&b, `<text transform="translate(14 %.0f) rotate(-90)" class="xl">%s</text>`, padT+innerH/2, esc(p.y.label))
	for i, s := range p.series {
		col := palette[i%len(palette)]
		var pts []string
		for k := range s.xs {
			if s.bars && k+1 < len(s.xs) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", px(s.xs[k]), py(s.ys[k]), px(s.xs[k+1]), py(s.ys[k])))
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.xs[k]), py(s.ys[k])))
		}
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="5 3"`
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.6"%s points="%s"/>`, col, dash, strings.Join(pts, " "))
		ly := padT + 14 + 14*i
		if p.legendLow {
			ly = padT + int(innerH) - 8 - 14*(len(p.series)-1-i)
		}
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%d" x2="%.0f" y2="%d" stroke="%s" stroke-width="2"%s/><text x="%.0f" y="%d" class="lg">%s</text>`,
			padL+innerW-150, ly-4, padL+innerW-132, ly-4, col, dash, padL+innerW-128, ly, esc(s.name))
	}
	for _, m := range p.marks {
		x := px(m.x)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.0f" class="mark"/><text x="%.1f" y="%d" class="mk">%s</text>`, x, padT, x, padT+innerH, x+3, int(padT+innerH-6), esc(m.label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built above with every text escaped
}

// fmrAxis is a log FMR axis from the decade of the smallest positive FMR
// of the curves (at most 1e-7, at least 1e-3) to 1.
func fmrAxis(label string, curves []namedCurve) axis {
	lo := 1e-3
	for _, c := range curves {
		for _, pt := range c.pts {
			if pt.FMR > 0 {
				lo = min(lo, math.Pow(10, math.Floor(math.Log10(pt.FMR))))
			}
		}
	}
	lo = max(lo, 1e-7)
	return axis{lo: lo, hi: 1, log: true, label: label, ticks: logTicks(lo, 1), pct: true}
}

// detPlot draws DET curves (FNMR against FMR, both log scale).
func detPlot(title string, curves []namedCurve) plot {
	p := plot{title: title,
		x: fmrAxis("FMR (false match rate)", curves),
		y: axis{lo: 1e-4, hi: 1, log: true, label: "FNMR (false non-match rate)", ticks: logTicks(1e-4, 1), pct: true}}
	for _, c := range curves {
		s := series{name: c.name, dashed: c.dashed}
		for _, pt := range c.pts {
			if pt.FMR > 0 { // FMR 0 is off a log axis: the curve starts at one false match
				s.xs, s.ys = append(s.xs, pt.FMR), append(s.ys, max(pt.FNMR, 1e-5))
			}
		}
		p.series = append(p.series, s)
	}
	return p
}

// rocPlot draws ROC curves (TAR against FMR on a log scale).
func rocPlot(title string, curves []namedCurve) plot {
	lo := 1.0
	for _, c := range curves {
		for _, pt := range c.pts {
			if pt.FMR > 0 {
				lo = min(lo, 1-pt.FNMR)
			}
		}
	}
	lo = math.Floor(lo*10) / 10
	if lo >= 1 {
		lo = 0.9
	}
	p := plot{title: title,
		x: fmrAxis("FMR", curves),
		y: axis{lo: lo, hi: 1, label: "TAR = 1 - FNMR", ticks: linTicks(lo, 1, (1-lo)/5), pct: true}, legendLow: true}
	for _, c := range curves {
		s := series{name: c.name, dashed: c.dashed}
		for _, pt := range c.pts {
			if pt.FMR > 0 {
				s.xs, s.ys = append(s.xs, pt.FMR), append(s.ys, 1-pt.FNMR)
			}
		}
		p.series = append(p.series, s)
	}
	return p
}

type namedCurve struct {
	name   string
	pts    []Point
	dashed bool
}

// histPlot draws the genuine and impostor score densities with the active
// threshold.
func histPlot(title string, h Histogram, active float64) plot {
	p := plot{title: title,
		x: axis{lo: 0, hi: 1, label: "score", ticks: linTicks(0, 1, 0.1)},
		y: axis{lo: 0, hi: 1, label: "share of comparisons per bin", pct: true}}
	top := 0.0
	for _, part := range []struct {
		name   string
		counts []int
	}{{"genuine", h.Genuine}, {"impostor", h.Impostor}} {
		total := 0
		for _, c := range part.counts {
			total += c
		}
		s := series{name: part.name, bars: true}
		n := len(part.counts)
		for k, c := range part.counts {
			v := 0.0
			if total > 0 {
				v = float64(c) / float64(total)
			}
			top = max(top, v)
			s.xs, s.ys = append(s.xs, float64(k)/float64(n)), append(s.ys, v)
		}
		s.xs, s.ys = append(s.xs, 1), append(s.ys, 0)
		p.series = append(p.series, s)
	}
	p.y.hi = max(math.Ceil(top*20)/20, 0.05)
	p.y.ticks = linTicks(0, p.y.hi, p.y.hi/5)
	if active > 0 {
		p.marks = []vline{{active, fmt.Sprintf("active %.3f", active)}}
	}
	return p
}

// padPlot draws APCER per attack type and BPCER against the liveness
// threshold.
func padPlot(title string, sweep []PAD, types []string, active float64) plot {
	p := plot{title: title,
		x:     axis{lo: 0, hi: 1, label: "p(live) threshold", ticks: linTicks(0, 1, 0.1)},
		y:     axis{lo: 0, hi: 1, label: "error rate", ticks: linTicks(0, 1, 0.2), pct: true},
		marks: []vline{{active, fmt.Sprintf("threshold %.2f", active)}}}
	for _, typ := range types {
		s := series{name: "APCER " + typ}
		for _, q := range sweep {
			if v, ok := q.APCER[typ]; ok && v.Measured() {
				s.xs, s.ys = append(s.xs, q.Threshold), append(s.ys, float64(v))
			}
		}
		p.series = append(p.series, s)
	}
	s := series{name: "BPCER", dashed: true}
	for _, q := range sweep {
		if q.BPCER.Measured() {
			s.xs, s.ys = append(s.xs, q.Threshold), append(s.ys, float64(q.BPCER))
		}
	}
	if len(s.xs) > 0 {
		p.series = append(p.series, s)
	}
	return p
}
