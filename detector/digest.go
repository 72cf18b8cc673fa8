package detector

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// digest is the compact state of one resource's metrics that a Tracker
// keeps between evaluations: per metric, one bucket per clock hour (UTC) of
// the hours before next, as many as the longest window the ensemble reads.
// Every statistic a decision reads is a count, a sum or a maximum of the
// steps of whole hours (see "Evidence" in the package documentation), so
// the buckets answer the strategies' questions exactly as a full read of
// the series does, as long as the windows end on the hour and no run of
// exact zeros could be taken as missing data (Tracker then reads in full).
type digest struct {
	fp      uint64        // fingerprint of the settings the buckets count with
	step    time.Duration // the grid step of the series folded in
	next    time.Time     // end of the folded data, on the hour
	hours   int           // buckets kept per metric
	launch  time.Time     // the resource's launch time the digest was built for; zero when unset
	metrics []metricDigest
}

// metricDigest is the part of a digest for one metric.
type metricDigest struct {
	metric     provider.Metric
	lastData   time.Time // end of the last step with data; zero when none
	last       float64   // the last value with data; NaN when none
	runStart   time.Time // start of the current run of exact zeros (gaps inside it count); zero when none
	runPrev    float64   // the last value with data before runStart
	suspectEnd time.Time // end of the latest run of zeros the quality rules could mask; zero when none
	buckets    []bucket  // oldest first; the last is the hour before next
	launched   bucket    // the steps of the launch hour at or after launch, when launch is off the hour
}

// bucket is what a digest keeps of one metric over one clock hour: the
// steps with data, their sum (added in order, as windowView.stat adds them,
// so that the utilization mean is the same float64; stats adds in another
// order, so the evidence mean shown in reasons agrees up to rounding), their maximum (−Inf without data), and the steps below the
// idle level, at or above the P99 bound and at or above the downsize
// limit, and whether one reached the peak level.
type bucket struct {
	sum, max            float64
	n, idle, over, down uint8
	peak                bool
}

// metricLevels are the levels a digest's buckets count against for one
// metric; they come from the ensemble's configuration (see
// Tracker.levelsOf) and are part of the fingerprint.
type metricLevels struct {
	metric provider.Metric
	idle   float64 // a step below it is idle (the schedule's threshold); NaN: not counted
	peak   float64 // a step at or above it is a peak (the schedule's peak level); +Inf: none
	over   float64 // the P99 peak bound; +Inf when the metric has none
	down   float64 // the downsize p99 limit on the current size
	cliff  float64 // the lowest level a run of zeros must follow to be suspect; +Inf: zeros are trusted
}

func emptyBucket() bucket { return bucket{max: math.Inf(-1)} }

// fold adds the steps of s, a series of md's metric on d's grid starting at
// d.next, to md's buckets: it appends one bucket per hour of s and keeps the
// last d.hours. s must cover whole hours. minSteps is the shortest run of
// zeros the quality rules mask (0: zeros are trusted).
func (md *metricDigest) fold(d *digest, s provider.Series, lv *metricLevels, minSteps int) {
	perHour := int(time.Hour / d.step)
	// Drop the hours that leave the history first, so that the buckets
	// stay within their capacity.
	if drop := len(md.buckets) + (len(s.Values)+perHour-1)/perHour - d.hours; drop > 0 {
		drop = min(drop, len(md.buckets))
		md.buckets = md.buckets[:copy(md.buckets, md.buckets[drop:])]
	}
	for h := 0; h*perHour < len(s.Values); h++ {
		b := emptyBucket()
		hourStart := s.TimeAt(h * perHour)
		// The evidence counts only steps at or after launch: the hour of a
		// launch off the hour keeps those steps apart too.
		launchHour := !d.launch.IsZero() && d.launch.After(hourStart) && d.launch.Before(hourStart.Add(time.Hour))
		if launchHour {
			md.launched = emptyBucket()
		}
		for i := h * perHour; i < (h+1)*perHour && i < len(s.Values); i++ {
			x := s.Values[i]
			if x != x { // a gap (NaN)
				continue
			}
			t := s.TimeAt(i)
			if launchHour && !t.Before(d.launch) {
				md.launched.add(x, lv)
			}
			md.lastData = t.Add(d.step)
			if minSteps > 0 {
				switch {
				case x == 0 && md.runStart.IsZero():
					md.runStart, md.runPrev = t, md.last
				case x != 0 && !md.runStart.IsZero():
					md.closeRun(t, d.step, lv.cliff, minSteps)
				}
			}
			md.last = x
			b.add(x, lv)
		}
		md.buckets = append(md.buckets, b)
	}
	if minSteps > 0 && !md.runStart.IsZero() {
		// A run still going at the end: suspect already if long enough.
		end := s.End()
		if int(end.Sub(md.runStart)/d.step) >= minSteps && md.runPrev >= lv.cliff {
			md.suspectEnd = end
		}
	}
	if drop := len(md.buckets) - d.hours; drop > 0 {
		md.buckets = append(md.buckets[:0], md.buckets[drop:]...)
	}
}

// add counts x, a value with data, in b.
func (b *bucket) add(x float64, lv *metricLevels) {
	b.n++
	b.sum += x
	b.max = max(b.max, x)
	if x < lv.idle {
		b.idle++
	}
	if x >= lv.over {
		b.over++
	}
	if x >= lv.down {
		b.down++
	}
	b.peak = b.peak || x >= lv.peak
}

// closeRun ends the current run of zeros at end (the step of the next
// other value) and records it when the quality rules could mask it: at
// least minSteps long and following a value at or above cliff.
func (md *metricDigest) closeRun(end time.Time, step time.Duration, cliff float64, minSteps int) {
	if int(end.Sub(md.runStart)/step) >= minSteps && md.runPrev >= cliff && end.After(md.suspectEnd) {
		md.suspectEnd = end
	}
	md.runStart = time.Time{}
}

// digestView answers the strategies' questions (see metricData) from a
// digest folded up to now.
type digestView struct {
	d    *digest
	now  time.Time // d.next
	from time.Time // where a full read's series would start: now − the digest's hours
}

func (v *digestView) find(m provider.Metric) *metricDigest {
	for i := range v.d.metrics {
		if v.d.metrics[i].metric == m {
			return &v.d.metrics[i]
		}
	}
	return nil
}

// has reports whether m has a step with data since from, as a full read
// keeps a series only when it holds data.
func (v *digestView) has(m provider.Metric) (time.Duration, bool) {
	md := v.find(m)
	return v.d.step, md != nil && md.lastData.After(v.from)
}

// quality applies the missing and staleness rules of view.
func (v *digestView) quality(md *metricDigest, q DataQuality) (int, Reason) {
	if !md.lastData.After(v.from) {
		return qMissing, Reason{Code: ReasonMissing}
	}
	if age := v.now.Sub(md.lastData); age > q.MaxStaleness {
		return qStale, Reason{Code: ReasonStale, Duration: age, Limit: float64(q.MaxStaleness)}
	}
	return qOK, Reason{}
}

// hoursOf returns the buckets of md in the window before now, from the
// first whole hour at or after from (launch, when later).
func (v *digestView) hoursOf(md *metricDigest, window time.Duration, from time.Time) []bucket {
	start := v.now.Add(-window)
	if from.After(start) {
		start = from
	}
	k := int(v.now.Sub(start) / time.Hour) // hours in the window
	k = max(min(k, len(md.buckets)), 0)
	return md.buckets[len(md.buckets)-k:]
}

// reduce returns the steps with data, their sum by hours and their max.
func reduce(bs []bucket) (n int, sum, mx float64) {
	mx = math.Inf(-1)
	for i := range bs {
		n += int(bs[i].n)
		sum += bs[i].sum
		mx = max(mx, bs[i].max)
	}
	return n, sum, mx
}

func statOf(st provider.Statistic, n int, sum, mx float64) float64 {
	switch {
	case n == 0:
		return math.NaN()
	case st == provider.StatMax:
		return mx
	default:
		return sum / float64(n)
	}
}

// utilization is metricData.utilization from the buckets: st is mean or
// max (Tracker checks it), window and hold whole hours.
func (v *digestView) utilization(m provider.Metric, _ float64, st provider.Statistic, window, hold time.Duration, q DataQuality) (x, hx float64, code int, why Reason) {
	md := v.find(m)
	if code, why := v.quality(md, q); code != qOK {
		return math.NaN(), math.NaN(), code, why
	}
	n, sum, mx := reduce(v.hoursOf(md, window, time.Time{}))
	if q.MinCoverage > 0 {
		total := max(int(window/v.d.step), 1)
		if cov := float64(n) / float64(total); cov < q.MinCoverage {
			return math.NaN(), math.NaN(), qGaps, Reason{Code: ReasonGaps, Value: cov, Limit: q.MinCoverage, Duration: window}
		}
	}
	hn, hsum, hmx := reduce(v.hoursOf(md, min(hold, window), time.Time{}))
	return statOf(st, n, sum, mx), statOf(st, hn, hsum, hmx), qOK, Reason{}
}

// learn is metricData.learn from the buckets: the buckets count idle steps
// below the schedule's threshold and peaks at its peak level, and the
// zone's offsets are whole hours (Tracker checks both).
func (v *digestView) learn(p *Profile, m provider.Metric, _ float64, history time.Duration, q DataQuality) (int, Reason) {
	md := v.find(m)
	if code, why := v.quality(md, q); code != qOK {
		return code, why
	}
	bs := v.hoursOf(md, history, time.Time{})
	loc := p.loc()
	const hour = int64(time.Hour)
	first := v.now.Add(-time.Duration(len(bs)) * time.Hour).UnixNano()
	offsetAt := func(u int64) int64 {
		_, o := time.Unix(0, u).In(loc).Zone()
		return int64(o) * int64(time.Second)
	}
	// As learnSeries: the offset of the first step, or of every hour when
	// it differs from the last step's.
	off := offsetAt(first)
	constant := off == offsetAt(v.now.UnixNano()-int64(v.d.step))
	valid := 0
	for i := range bs {
		u := first + int64(i)*hour
		if !constant {
			off = offsetAt(u)
		}
		slot := int((floorDiv(u+off, hour) + epochHourOfWeek) % HoursPerWeek)
		if slot < 0 {
			slot += HoursPerWeek
		}
		b := &bs[i]
		p.Observed[slot] += uint32(b.n)
		p.IdleSteps[slot] += uint32(b.idle)
		if b.n > 0 {
			p.HoursSeen[slot]++
		}
		if b.peak {
			p.PeakHours[slot]++
		}
		valid += int(b.n)
	}
	p.History = time.Duration(valid) * v.d.step
	return qOK, Reason{}
}

// stats is metricData.stats from the buckets: the counts at or above lv
// are the buckets' (Tracker builds them with the same levels), launch is
// the digest's (Tracker checks it): the hours after it count, and the
// steps of its hour from it on. The percentiles p95 and p99 are not known from
// buckets: they stay NaN (the decisions count instead; see p99Below).
func (v *digestView) stats(m provider.Metric, window time.Duration, launch time.Time, _ float64, _ levels, q DataQuality) windowStats {
	step := v.d.step
	ws := windowStats{metric: m, window: window, step: step, steps: max(int(window/step), 1), max: math.NaN(), p95: math.NaN(), p99: math.NaN()}
	md := v.find(m)
	ws.code, ws.why = v.quality(md, q)
	if ws.code != qOK {
		return ws
	}
	from := launch
	if !launch.IsZero() && launch.After(v.now) {
		from = v.now
	}
	mx := math.Inf(-1)
	add := func(b *bucket) {
		if b.n == 0 {
			return
		}
		ws.n += int(b.n)
		ws.sum += b.sum
		mx = max(mx, b.max)
		ws.overP99 += int(b.over)
		ws.overDownsize += int(b.down)
	}
	if h := launch.Truncate(time.Hour); !launch.Equal(h) && launch.Before(v.now) && !h.Before(v.now.Add(-window)) {
		add(&md.launched) // the steps of the launch hour from launch on
	}
	for _, b := range v.hoursOf(md, window, from) {
		add(&b)
	}
	if ws.n > 0 {
		ws.max = mx
	}
	return ws
}

// Encoding of a digest (little endian):
//
//	magic "ISD2", fp u64, step i64, next i64 (Unix ns), hours u32, launch
//	i64, metrics u8
//	per metric: name (u8 length + bytes), lastData i64, last f64, runStart
//	i64, runPrev f64, suspectEnd i64, the launch hour's bucket, buckets
//	u32, then the buckets: each n u8 and, when n > 0, idle u8, over u8,
//	down u8, peak u8, sum f64, max f64
//	then the CRC-32 (IEEE) of all the bytes before it, u32.
//
// Zero times are stored as math.MaxUint64 (−1 as an int64, never a stored
// time: see putTime).
const digestMagic = "ISD2"

// errCorruptState is wrapped by decodeDigest's errors.
var errCorruptState = errors.New("corrupt state")

func putTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.LittleEndian.AppendUint64(b, uint64(math.MaxUint64)) // -1 as int64: never a stored time
	}
	return binary.LittleEndian.AppendUint64(b, uint64(t.UnixNano()))
}

// size returns the length of d's encoding.
func (d *digest) size() int {
	n := len(digestMagic) + 8 + 8 + 8 + 4 + 8 + 1 + 4
	for i := range d.metrics {
		md := &d.metrics[i]
		n += 1 + len(md.metric) + 5*8 + 4 + 1
		if md.launched.n > 0 {
			n += 4 + 16
		}
		for _, bk := range md.buckets {
			n++
			if bk.n > 0 {
				n += 4 + 16
			}
		}
	}
	return n
}

func (d *digest) encode(b []byte) []byte {
	b = slices.Grow(b, d.size())
	start := len(b)
	b = append(b, digestMagic...)
	b = binary.LittleEndian.AppendUint64(b, d.fp)
	b = binary.LittleEndian.AppendUint64(b, uint64(d.step))
	b = putTime(b, d.next)
	b = binary.LittleEndian.AppendUint32(b, uint32(d.hours))
	b = putTime(b, d.launch)
	b = append(b, byte(len(d.metrics)))
	for i := range d.metrics {
		md := &d.metrics[i]
		b = append(b, byte(len(md.metric)))
		b = append(b, md.metric...)
		b = putTime(b, md.lastData)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(md.last))
		b = putTime(b, md.runStart)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(md.runPrev))
		b = putTime(b, md.suspectEnd)
		b = md.launched.encode(b)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(md.buckets)))
		for i := range md.buckets {
			b = md.buckets[i].encode(b)
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

func (b *bucket) encode(out []byte) []byte {
	out = append(out, b.n)
	if b.n == 0 {
		return out
	}
	peak := byte(0)
	if b.peak {
		peak = 1
	}
	out = append(out, b.idle, b.over, b.down, peak)
	out = binary.LittleEndian.AppendUint64(out, math.Float64bits(b.sum))
	return binary.LittleEndian.AppendUint64(out, math.Float64bits(b.max))
}

// bucket reads one bucket; ok is false when its fields are inconsistent.
func (r *reader) bucket(perHour int) (bucket, bool) {
	bk := emptyBucket()
	bk.n = r.u8()
	if bk.n == 0 {
		return bk, true
	}
	bk.idle, bk.over, bk.down = r.u8(), r.u8(), r.u8()
	peak := r.u8()
	bk.peak = peak == 1
	bk.sum, bk.max = r.f64(), r.f64()
	ok := int(bk.n) <= perHour && peak <= 1 && bk.idle <= bk.n && bk.over <= bk.n && bk.down <= bk.n &&
		!math.IsNaN(bk.sum) && !math.IsInf(bk.sum, 0) && !math.IsNaN(bk.max) && !math.IsInf(bk.max, 0)
	return bk, ok || r.err != nil
}

// reader reads a digest's encoding from b[off:]; the first short read
// sets err.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil || len(r.b)-r.off < n {
		if r.err == nil {
			r.err = fmt.Errorf("%w: truncated", errCorruptState)
		}
		return make([]byte, n)
	}
	r.off += n
	return r.b[r.off-n : r.off]
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) u8() byte {
	if r.err != nil || r.off >= len(r.b) {
		return r.take(1)[0]
	}
	r.off++
	return r.b[r.off-1]
}
func (r *reader) u32() uint32  { return binary.LittleEndian.Uint32(r.take(4)) }
func (r *reader) u64() uint64  { return binary.LittleEndian.Uint64(r.take(8)) }
func (r *reader) f64() float64 { return math.Float64frombits(r.u64()) }
func (r *reader) time() time.Time {
	u := r.u64()
	if u == math.MaxUint64 {
		return time.Time{}
	}
	return time.Unix(0, int64(u)).UTC()
}

// decodeDigest decodes an encoded digest; an error wraps errCorruptState
// and says what is wrong.
func decodeDigest(b []byte) (*digest, error) {
	if len(b) < len(digestMagic)+4 || string(b[:len(digestMagic)]) != digestMagic {
		return nil, fmt.Errorf("%w: not a digest (schema %q expected)", errCorruptState, digestMagic)
	}
	body := b[:len(b)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(b[len(body):]) {
		return nil, fmt.Errorf("%w: checksum mismatch", errCorruptState)
	}
	r := reader{b: body[len(digestMagic):]}
	d := &digest{fp: r.u64(), step: time.Duration(r.u64()), next: r.time(), hours: int(r.u32()), launch: r.time()}
	nm := int(r.u8())
	if r.err == nil && (d.step <= 0 || time.Hour%d.step != 0 || d.hours <= 0 || d.hours > 1<<16) {
		return nil, fmt.Errorf("%w: step %v, %d hours", errCorruptState, d.step, d.hours)
	}
	perHour := int(time.Hour / max(d.step, 1))
	d.metrics = make([]metricDigest, 0, nm)
	for range nm {
		md := metricDigest{metric: provider.Metric(r.take(int(r.u8())))}
		md.lastData, md.last = r.time(), r.f64()
		md.runStart, md.runPrev, md.suspectEnd = r.time(), r.f64(), r.time()
		var ok bool
		if md.launched, ok = r.bucket(perHour); !ok {
			return nil, fmt.Errorf("%w: %s: the launch hour's bucket is inconsistent", errCorruptState, md.metric)
		}
		nb := int(r.u32())
		if r.err != nil {
			return nil, r.err
		}
		if nb > d.hours || nb > r.left() { // a bucket takes at least a byte
			return nil, fmt.Errorf("%w: %s: %d buckets, at most %d", errCorruptState, md.metric, nb, d.hours)
		}
		md.buckets = make([]bucket, nb, d.hours)
		for i := range md.buckets {
			if md.buckets[i], ok = r.bucket(perHour); !ok {
				return nil, fmt.Errorf("%w: %s: bucket %d is inconsistent", errCorruptState, md.metric, i)
			}
		}
		d.metrics = append(d.metrics, md)
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.left() != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errCorruptState, r.left())
	}
	return d, nil
}
