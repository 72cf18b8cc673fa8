package report

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/idlescale/idlescale/provider"
)

// The default size of a chart's SVG.
const (
	DefaultWidth  = 18 * vg.Centimeter
	DefaultHeight = 8 * vg.Centimeter
)

// SVG renders c as an SVG image of width × height (DefaultWidth and
// DefaultHeight when zero) with gonum.org/v1/plot: a line chart with its
// thresholds dashed and its markers as labelled triangles, or a bar
// chart. Text (titles, labels, resource names) is escaped. A chart
// without data draws its axes and title and says so; one whose values
// span more than a float64 holds is clipped to ±math.MaxFloat64/2. The
// output has no XML prolog, so it can be inlined in HTML.
func (c Chart) SVG(w io.Writer, width, height vg.Length) error {
	if width <= 0 {
		width = DefaultWidth
	}
	if height <= 0 {
		height = DefaultHeight
	}
	p := plot.New()
	p.Title.Text = c.Title
	p.Y.Label.Text = c.Unit
	p.Legend.Top = true
	var err error
	switch c.Type {
	case ChartBar:
		err = c.bars(p)
	default:
		err = c.lines(p)
	}
	if err != nil {
		return fmt.Errorf("report: chart %s: %w", c.Name, err)
	}
	if math.IsInf(p.Y.Max-p.Y.Min, 0) {
		// A range wider than a float64 holds (−1e308 to 1e308): its span
		// is +Inf, and gonum's ticks never end. Clip it to the widest
		// range they handle; the lines are clipped with it.
		p.Y.Min, p.Y.Max = max(p.Y.Min, -math.MaxFloat64/2), min(p.Y.Max, math.MaxFloat64/2)
	}
	if y := p.Y.Min; y == p.Y.Max && (y+1)-(y-1) != 2 {
		// gonum widens an empty value range by ±1, which is not exact
		// from 2^53 on: it does not change a larger value (its ticks then
		// panic, "illegal range"), and it leaves a range of a few units
		// in the last place around one just past 2^53 (2^53+2 gives
		// [2^53, 2^53+4]), whose ticks never end.
		p.Y.Min, p.Y.Max = y-math.Abs(y)/1e6, y+math.Abs(y)/1e6
	}
	if c.Empty() {
		p.Title.Text += " (no data)"
	}
	wt, err := p.WriterTo(width, height, "svg")
	if err != nil {
		return fmt.Errorf("report: chart %s: %w", c.Name, err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return fmt.Errorf("report: chart %s: %w", c.Name, err)
	}
	out := buf.Bytes()
	if i := bytes.Index(out, []byte("<svg")); i > 0 {
		out = out[i:]
	}
	_, err = w.Write(out)
	return err
}

// SVGString renders c with the default size and returns the SVG text.
func (c Chart) SVGString() (string, error) {
	var b bytes.Buffer
	err := c.SVG(&b, 0, 0)
	return b.String(), err
}

func (c Chart) lines(p *plot.Plot) error {
	p.X.Tick.Marker = plot.TimeTicks{Format: "Jan 2\n15:04"}
	if len(c.Times) == 0 {
		return nil
	}
	xs := make([]float64, len(c.Times))
	for i, t := range c.Times {
		xs[i] = float64(t.Unix())
	}
	for i, s := range c.Series {
		col := plotutil.Color(i)
		first := true
		for _, seg := range segments(xs, s.Values) {
			l, err := plotter.NewLine(seg)
			if err != nil {
				return err
			}
			l.Color = col
			l.Width = vg.Points(1.2)
			if s.Step {
				l.StepStyle = plotter.PostStep
			}
			p.Add(l)
			if len(seg) == 1 {
				// A value between gaps: a line of one point draws nothing.
				dot, err := plotter.NewScatter(seg)
				if err != nil {
					return err
				}
				dot.GlyphStyle = draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(1.5), Color: col}
				p.Add(dot)
			}
			if first {
				p.Legend.Add(s.Label, l)
				first = false
			}
		}
	}
	x0, x1 := xs[0], xs[len(xs)-1]
	if x1 == x0 {
		x1 = x0 + 1
	}
	for i, th := range c.Thresholds {
		l, err := plotter.NewLine(plotter.XYs{{X: x0, Y: th.Value}, {X: x1, Y: th.Value}})
		if err != nil {
			return err
		}
		l.Color = color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff}
		l.Dashes = plotutil.Dashes(i + 1)
		p.Add(l)
		p.Legend.Add(th.Label, l)
	}
	if len(c.Markers) > 0 {
		pts := make(plotter.XYs, len(c.Markers))
		labels := make([]string, len(c.Markers))
		for i, m := range c.Markers {
			pts[i] = plotter.XY{X: float64(m.Time.Unix()), Y: m.Value}
			labels[i] = m.Label
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		sc.GlyphStyle = draw.GlyphStyle{Shape: draw.TriangleGlyph{}, Radius: vg.Points(3.5),
			Color: color.RGBA{R: 0xcc, G: 0x33, B: 0x00, A: 0xff}}
		p.Add(sc)
		p.Legend.Add("scaling events", sc)
		if len(c.Markers) <= 12 { // more labels would overlap
			lb, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: labels})
			if err != nil {
				return err
			}
			p.Add(lb)
		}
	}
	return nil
}

// segments splits the points into runs without gaps.
func segments(xs, ys []float64) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i, x := range xs {
		y := valueAt(ys, i)
		if provider.IsGap(y) || math.IsInf(y, 0) {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, plotter.XY{X: x, Y: y})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func (c Chart) bars(p *plot.Plot) error {
	if len(c.Labels) == 0 {
		return nil
	}
	n := len(c.Series)
	w := vg.Points(min(40, 300/float64(max(1, n*len(c.Labels)))))
	for i, s := range c.Series {
		vals := make(plotter.Values, len(c.Labels))
		for k := range vals {
			v := valueAt(s.Values, k)
			if provider.IsGap(v) || math.IsInf(v, 0) {
				v = 0
			}
			vals[k] = v
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return err
		}
		b.Color = plotutil.Color(i)
		b.LineStyle.Width = 0
		b.Offset = w * vg.Length(float64(i)-float64(n-1)/2)
		p.Add(b)
		if n > 1 {
			p.Legend.Add(s.Label, b)
		}
	}
	p.NominalX(c.Labels...)
	return nil
}
