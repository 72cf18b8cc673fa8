package sim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/idlescale/idlescale/provider"
)

// The default size of WriteSVG's chart.
const (
	DefaultWidth  = 24 * vg.Centimeter
	DefaultHeight = 10 * vg.Centimeter
)

// ErrNoSteps is returned by WriteSVG for a report without per-step
// records (Config.KeepSteps unset).
var ErrNoSteps = errors.New("sim: the report has no steps (set Config.KeepSteps)")

// WriteSVG draws the capacity of the oracle and of the named results (all
// when names is empty) over the replayed steps from..to (the whole replay
// when both are zero), each step's capacity a level to the step's end,
// as an SVG line chart of width × height
// (DefaultWidth and DefaultHeight when zero or less), with
// gonum.org/v1/plot, its time axis in the zone of the trace's times. It
// returns ErrNoSteps unless the report kept its
// steps, an error for an unknown name, and an error matching
// provider.ErrInvalid for a NaN or infinite width or height.
func (r *Report) WriteSVG(w io.Writer, from, to time.Time, width, height vg.Length, names ...string) error {
	if len(r.Oracle.Steps) == 0 {
		return ErrNoSteps
	}
	for _, l := range []struct {
		field string
		v     vg.Length
	}{{"width", width}, {"height", height}} {
		if math.IsNaN(float64(l.v)) || math.IsInf(float64(l.v), 0) {
			return fmt.Errorf("sim: svg: %w", provider.Invalid(l.field, float64(l.v), "must be a finite length (0 or less: the default)"))
		}
	}
	if width <= 0 {
		width = DefaultWidth
	}
	if height <= 0 {
		height = DefaultHeight
	}
	results := []Result{r.Oracle}
	if len(names) == 0 {
		results = append(results, r.Results...)
	}
	for _, n := range names {
		x, ok := r.Result(n)
		if !ok {
			return fmt.Errorf("sim: svg: no result named %q", n)
		}
		if n != OracleName {
			results = append(results, x)
		}
	}
	p := plot.New()
	p.Title.Text = "capacity (instances)"
	p.Legend.Top = true
	// In the trace's own zone (a demand series of a host's zone, whose
	// daily peaks read at their local hours), not UTC.
	p.X.Tick.Marker = plot.TimeTicks{Format: "Jan 2\n15:04", Time: plot.UnixTimeIn(r.Oracle.Steps[0].Time.Location())}
	for i, x := range results {
		pts := make(plotter.XYs, 0, len(x.Steps))
		for _, s := range x.Steps {
			if (!from.IsZero() && s.Time.Before(from)) || (!to.IsZero() && !s.Time.Before(to)) {
				continue
			}
			pts = append(pts, plotter.XY{X: float64(s.Time.Unix()), Y: float64(s.Actual)})
		}
		if len(pts) == 0 {
			return fmt.Errorf("sim: svg: no step between %s and %s", from, to)
		}
		if r.Step > 0 {
			// The last step's capacity holds to its end: without that
			// point the line stops at its start (a replay of one step
			// draws nothing).
			last := pts[len(pts)-1]
			pts = append(pts, plotter.XY{X: last.X + r.Step.Seconds(), Y: last.Y})
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("sim: svg: %w", err)
		}
		l.StepStyle = plotter.PostStep
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1)
		p.Add(l)
		p.Legend.Add(x.Name, l)
	}
	wt, err := p.WriterTo(width, height, "svg")
	if err != nil {
		return fmt.Errorf("sim: svg: %w", err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return fmt.Errorf("sim: svg: %w", err)
	}
	out := buf.Bytes()
	if i := bytes.Index(out, []byte("<svg")); i > 0 {
		out = out[i:]
	}
	_, err = w.Write(out)
	return err
}
