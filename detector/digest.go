package detector

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// digest is the compact state of one resource's metrics that a Tracker
// keeps between evaluations. Every statistic a decision reads is a count,
// a sum or a maximum of the steps of whole hours (see "Evidence" in the
// package documentation), over windows that end at next, so per metric a
// digest keeps:
//
//   - the counts of each clock hour (UTC) of the history before next, as
//     many hours as the longest window the ensemble reads (counts);
//   - the sum of each hour of the utilization window, for the metrics the
//     utilization signal reads (sums): its mean over a window is the sum
//     of these hourly sums, added as windowView.stat adds them, the same
//     float64 as a full read;
//   - the maxima that can still be the largest of a window ending at a
//     later next (peaks): the hours with data whose maximum is above the
//     maximum of every later hour, oldest first. The largest value of the
//     last k hours is the first of them inside those hours, exactly.
//
// So the buckets answer the strategies' questions exactly as a full read
// of the series does, as long as the windows end on the hour and no run of
// exact zeros could be taken as missing data (Tracker then reads in full).
// What a digest cannot tell is the sum of the evidence windows (longer than
// the utilization window): the evidence reasons' mean is not known from it,
// like their percentiles.
type digest struct {
	fp       uint64        // fingerprint of the settings the buckets count with
	step     time.Duration // the grid step of the series folded in
	next     time.Time     // end of the folded data, on the hour
	hours    int           // hours of counts kept per metric
	sumHours int           // hours of sums kept per metric that keeps sums (≤ hours)
	launch   time.Time     // the resource's launch time the digest was built for; zero when unset
	metrics  []metricDigest
}

// metricDigest is the part of a digest for one metric.
type metricDigest struct {
	metric     provider.Metric
	keepSums   bool      // the utilization signal reads the metric: sums are kept
	lastData   time.Time // end of the last step with data; zero when none
	last       float64   // the last value with data; NaN when none
	runStart   time.Time // start of the current run of exact zeros (gaps inside it count); zero when none
	runPrev    float64   // the last value with data before runStart
	suspectEnd time.Time // end of the latest run of zeros the quality rules could mask; zero when none
	counts     []counts  // oldest first; the last is the hour before next
	sums       []float64 // with keepSums, the sums of the last min(len(counts), sumHours) hours, oldest first; 0 for an hour without data
	peaks      []peak    // hours with data whose max is above every later hour's, oldest first
	launched   bucket    // the steps of the launch hour at or after launch, when launch is off the hour
}

// counts is what a digest keeps of one metric over every clock hour of its
// history: the steps with data, the steps below the idle level, at or
// above the P99 bound and at or above the downsize limit, and whether one
// reached the peak level.
type counts struct {
	n, idle, over, down uint8
	peak                bool
}

// bucket is one metric's clock hour as it is folded in: its counts, the
// sum of its steps with data (added in order, as windowView.stat adds
// them) and their maximum (−Inf without data).
type bucket struct {
	counts
	sum, max float64
}

// peak is an hour in a metricDigest's peaks: its start in hours since the
// Unix epoch and its maximum.
type peak struct {
	hour int64
	max  float64
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
	sums   bool    // the utilization signal reads the metric: hourly sums are kept
}

func emptyBucket() bucket { return bucket{max: math.Inf(-1)} }

// unixHour returns the hour of t (on the hour) in hours since the Unix
// epoch.
func unixHour(t time.Time) int64 { return floorDiv(t.UnixNano(), int64(time.Hour)) }

// fold adds the steps of s, a series of md's metric on d's grid starting at
// d.next, to md: it appends one hour of counts (and sums) per hour of s,
// keeps the last d.hours (d.sumHours), and updates the peaks. s must cover
// whole hours. minSteps is the shortest run of zeros the quality rules
// mask (0: zeros are trusted).
func (md *metricDigest) fold(d *digest, s provider.Series, lv *metricLevels, minSteps int) {
	perHour := int(time.Hour / d.step)
	newHours := (len(s.Values) + perHour - 1) / perHour
	// Drop the hours that leave the history first, so that the counts
	// stay within their capacity.
	if drop := len(md.counts) + newHours - d.hours; drop > 0 {
		drop = min(drop, len(md.counts))
		md.counts = md.counts[:copy(md.counts, md.counts[drop:])]
	}
	if md.keepSums {
		if drop := len(md.sums) + newHours - d.sumHours; drop > 0 {
			drop = min(drop, len(md.sums))
			md.sums = md.sums[:copy(md.sums, md.sums[drop:])]
		}
	}
	first := unixHour(s.Start)
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
		md.push(b, first+int64(h))
	}
	if minSteps > 0 && !md.runStart.IsZero() {
		// A run still going at the end: suspect already if long enough.
		end := s.End()
		if int(end.Sub(md.runStart)/d.step) >= minSteps && md.runPrev >= lv.cliff {
			md.suspectEnd = end
		}
	}
	if drop := len(md.counts) - d.hours; drop > 0 {
		md.counts = append(md.counts[:0], md.counts[drop:]...)
	}
	if drop := len(md.sums) - d.sumHours; drop > 0 {
		md.sums = append(md.sums[:0], md.sums[drop:]...)
	}
	// The peaks of hours that left the history.
	oldest := first + int64(newHours) - int64(len(md.counts))
	k := 0
	for k < len(md.peaks) && md.peaks[k].hour < oldest {
		k++
	}
	if k > 0 {
		md.peaks = md.peaks[:copy(md.peaks, md.peaks[k:])]
	}
}

// push appends b, the bucket of the hour starting hour hours after the
// Unix epoch: its counts, its sum when md keeps sums, and its maximum to
// the peaks, which drops every earlier peak at or below it.
func (md *metricDigest) push(b bucket, hour int64) {
	md.counts = append(md.counts, b.counts)
	if md.keepSums {
		md.sums = append(md.sums, b.sum)
	}
	if b.n == 0 {
		return
	}
	k := len(md.peaks)
	for k > 0 && md.peaks[k-1].max <= b.max {
		k--
	}
	md.peaks = append(md.peaks[:k], peak{hour: hour, max: b.max})
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

// quality applies the missing and staleness rules of view. No step of a
// digest is a suspect zero (a Tracker reads a history that holds a run of
// them in full), so the last step with data is the last that view counts.
func (v *digestView) quality(md *metricDigest, q DataQuality) (int, Reason) {
	if !md.lastData.After(v.from) {
		return qMissing, Reason{Code: ReasonMissing}
	}
	if age := v.now.Sub(md.lastData); age > q.MaxStaleness {
		return qStale, Reason{Code: ReasonStale, Duration: age, Limit: float64(q.MaxStaleness)}
	}
	return qOK, Reason{}
}

// hoursOf returns how many of md's last hours lie in the window before
// now, from the first whole hour at or after from (launch, when later).
func (v *digestView) hoursOf(md *metricDigest, window time.Duration, from time.Time) int {
	start := v.now.Add(-window)
	if from.After(start) {
		start = from
	}
	k := int(v.now.Sub(start) / time.Hour) // hours in the window
	return max(min(k, len(md.counts)), 0)
}

// maxOf returns the largest value of md's last k hours; −Inf without data.
func (v *digestView) maxOf(md *metricDigest, k int) float64 {
	from := unixHour(v.now) - int64(k)
	for _, p := range md.peaks {
		if p.hour >= from {
			return p.max
		}
	}
	return math.Inf(-1)
}

// steps returns the steps with data of the last k hours of md.
func steps(md *metricDigest, k int) int {
	n := 0
	for _, c := range md.counts[len(md.counts)-k:] {
		n += int(c.n)
	}
	return n
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

// utilization is metricData.utilization from the digest: st is mean or
// max (Tracker checks it), window and hold whole hours, the window at most
// the hours of sums kept (Tracker keeps them for the utilization window);
// launch is the digest's (Tracker checks it): each statistic is the
// higher of the whole window's and that of the hours after launch and
// the steps of its hour from it on, the coverage the whole window's and
// that of the steps since launch, as a full read's.
func (v *digestView) utilization(m provider.Metric, _ float64, st provider.Statistic, window, hold time.Duration, launch time.Time, q DataQuality) (x, hx float64, xd, hd time.Duration, code int, why Reason) {
	md := v.find(m)
	code, why = v.quality(md, q)
	if code == qMissing {
		return math.NaN(), math.NaN(), window, min(hold, window), code, why
	}
	stat := func(w time.Duration, launch time.Time) float64 {
		k := v.hoursOf(md, w, launch)
		n, sum, mx := steps(md, k), 0.0, v.maxOf(md, k)
		if h := launch.Truncate(time.Hour); !launch.Equal(h) && launch.Before(v.now) && !h.Before(v.now.Add(-w)) && md.launched.n > 0 {
			// The steps of the launch hour from launch on, summed
			// first as a full read sums them (hour by hour, in time
			// order), so that the two means are the same float.
			n, sum, mx = n+int(md.launched.n), md.launched.sum, max(mx, md.launched.max)
		}
		if st != provider.StatMax {
			for _, x := range md.sums[len(md.sums)-k:] {
				sum += x
			}
		}
		if st == provider.StatMax {
			return statOf(st, n, 0, mx)
		}
		return statOf(st, n, sum, 0)
	}
	n := steps(md, v.hoursOf(md, window, time.Time{}))
	x, xd = higher(stat(window, time.Time{}), stat(window, launch), window, v.now, launch)
	hx, hd = higher(stat(min(hold, window), time.Time{}), stat(min(hold, window), launch), min(hold, window), v.now, launch)
	if code == qOK && q.MinCoverage > 0 {
		total := max(int(window/v.d.step), 1)
		if cov := float64(n) / float64(total); cov < q.MinCoverage {
			code, why = qGaps, Reason{Code: ReasonGaps, Value: cov, Limit: q.MinCoverage, Duration: window}
		}
	}
	if code == qOK {
		// The steps since launch: the hours after its hour, and the
		// steps of its hour from it on, as stats counts them.
		own := steps(md, v.hoursOf(md, window, launch))
		if h := launch.Truncate(time.Hour); !launch.Equal(h) && launch.Before(v.now) && !h.Before(v.now.Add(-window)) {
			own += int(md.launched.n)
		}
		if cov, span, short := ownCoverage(own, v.d.step, v.now, window, launch, q); short {
			code, why = qGaps, Reason{Code: ReasonGaps, Value: cov, Limit: q.MinCoverage, Duration: span}
		}
	}
	if code == qOK && math.IsNaN(hx) {
		// Stale for the hold, as view's stale says (a digest has no
		// suspect zeros).
		code, why = qStale, Reason{Code: ReasonStale, Duration: v.now.Sub(md.lastData), Limit: float64(min(hold, window))}
	}
	return x, hx, xd, hd, code, why
}

// learn is metricData.learn from the digest: the counts count idle steps
// below the schedule's threshold and peaks at its peak level, and the
// zone's offsets are whole hours (Tracker checks both).
func (v *digestView) learn(p *Profile, m provider.Metric, _ float64, history time.Duration, launch time.Time, q DataQuality) (int, Reason) {
	md := v.find(m)
	if code, why := v.quality(md, q); code != qOK {
		return code, why
	}
	// As learnSeries, only the steps at or after launch: the whole hours
	// after it, and the steps of its hour from it on (launch is the
	// digest's, which Tracker checks).
	cs := md.counts[len(md.counts)-v.hoursOf(md, history, launch):]
	loc := p.loc()
	const hour = int64(time.Hour)
	first := v.now.Add(-time.Duration(len(cs)) * time.Hour).UnixNano()
	// As learnSeries: the offset of every hour, looked up again when the
	// zone in effect changes.
	zone := zoneOffsets{loc: loc}
	perHour := int(time.Hour / v.d.step)
	var gaps gapCounter
	valid := 0
	add := func(u int64, c *counts, steps int) {
		slot := int((floorDiv(u+zone.at(u), hour) + epochHourOfWeek) % HoursPerWeek)
		if slot < 0 {
			slot += HoursPerWeek
		}
		p.Observed[slot] += uint32(c.n)
		p.IdleSteps[slot] += uint32(c.idle)
		if c.n > 0 {
			p.HoursSeen[slot]++
			gaps.add(p, slot, int(c.n), steps)
		} else {
			gaps.missing(slot)
		}
		if c.peak {
			p.PeakHours[slot]++
		}
		valid += int(c.n)
	}
	if h := launch.Truncate(time.Hour); !launch.Equal(h) && launch.Before(v.now) && !h.Before(v.now.Add(-history)) {
		// The launch hour's steps from launch on, as many as a full read
		// walks (the first step at or after launch to the hour's end).
		before := int((launch.Sub(h) + v.d.step - 1) / v.d.step)
		add(h.UnixNano(), &md.launched.counts, perHour-before)
	}
	for i := range cs {
		add(first+int64(i)*hour, &cs[i], perHour) // the hours are whole (now is on the hour)
	}
	gaps.done(p)
	p.History = time.Duration(valid) * v.d.step
	return qOK, Reason{}
}

// stats is metricData.stats from the digest: the counts at or above lv
// are the digest's (Tracker builds them with the same levels), launch is
// the digest's (Tracker checks it): the hours after it count, and the
// steps of its hour from it on. The percentiles p95 and p99 and the sum
// (so the mean) are not known from a digest: they stay NaN (the decisions
// count instead; see p99Below).
func (v *digestView) stats(m provider.Metric, window time.Duration, launch time.Time, _ float64, _ levels, q DataQuality) windowStats {
	step := v.d.step
	ws := windowStats{metric: m, window: window, step: step, steps: max(int(window/step), 1), sum: math.NaN(), max: math.NaN(), p95: math.NaN(), p99: math.NaN()}
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
	add := func(c *counts) {
		ws.n += int(c.n)
		ws.overP99 += int(c.over)
		ws.overDownsize += int(c.down)
	}
	if h := launch.Truncate(time.Hour); !launch.Equal(h) && launch.Before(v.now) && !h.Before(v.now.Add(-window)) && md.launched.n > 0 {
		add(&md.launched.counts) // the steps of the launch hour from launch on
		mx = md.launched.max
	}
	k := v.hoursOf(md, window, from)
	for i := len(md.counts) - k; i < len(md.counts); i++ {
		add(&md.counts[i])
	}
	mx = max(mx, v.maxOf(md, k))
	if ws.n > 0 {
		ws.max = mx
	}
	return ws
}

// Encoding of a digest (varints as encoding/binary's, fixed fields little
// endian):
//
//	magic "ISD3", fp u64, step uvarint (ns), next varint (hours since the
//	Unix epoch), hours uvarint, sumHours uvarint, launch (a flag u8, then
//	the Unix ns as a varint when set), metrics u8
//	per metric: name (u8 length + bytes), flags u8 (keepSums, lastData,
//	runStart, suspectEnd, launch hour's bucket), then the fields flagged:
//	lastData (a time before next, see putRel) and last f64, runStart and
//	runPrev f64, suspectEnd, the launch hour's bucket (n, idle, over,
//	down, peak u8, sum f64, max f64); the hours of counts uvarint, then
//	five columns (n, idle, over, down, peak), each run-length or
//	bit-packed, whichever is shorter (see putColumn); with keepSums, the
//	sums of the hours with data of the last min(hours of counts,
//	sumHours), f64 each; the peaks: uvarint count, then each its hour
//	(uvarint: the first from the oldest hour of counts, the others from
//	the hour after the one before) and its max f64
//	then the CRC-32 (IEEE) of all the bytes before it, u32.
//
// The encoding is canonical: decodeDigest refuses bytes that do not
// encode back to themselves.
const digestMagic = "ISD3"

// metric flags
const (
	flagSums = 1 << iota
	flagLastData
	flagRun
	flagSuspect
	flagLaunched
	flagsAll = flagLaunched<<1 - 1
)

// errCorruptState is wrapped by decodeDigest's errors.
var errCorruptState = errors.New("corrupt state")

func zigzag(x int64) uint64   { return uint64(x<<1) ^ uint64(x>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// putRel appends t, a time that is not zero, relative to next: a whole
// number of steps before next when it is one, else nanoseconds.
func putRel(b []byte, t, next time.Time, step time.Duration) []byte {
	d := next.UnixNano() - t.UnixNano()
	if step > 0 && d%int64(step) == 0 {
		return binary.AppendUvarint(b, zigzag(d/int64(step))<<1)
	}
	return binary.AppendUvarint(b, zigzag(d)<<1|1)
}

func putF64(b []byte, x float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
}

// putColumn appends col, values of at most 255: a mode byte, then for
// mode 0 runs of (value u8, length uvarint), for mode w+1 the values
// packed in w bits each (w from 0 to 8, the fewest that hold the
// largest), low bits first, whichever is shorter (runs when equal).
func putColumn(b []byte, col []byte) []byte {
	runs, largest := 0, uint8(0)
	for i := 0; i < len(col); {
		j := i + 1
		for j < len(col) && col[j] == col[i] {
			j++
		}
		runs += 1 + uvarintLen(uint64(j-i))
		largest = max(largest, col[i])
		i = j
	}
	w := bitsLen(largest)
	if runs <= (len(col)*w+7)/8 {
		b = append(b, 0)
		for i := 0; i < len(col); {
			j := i + 1
			for j < len(col) && col[j] == col[i] {
				j++
			}
			b = append(b, col[i])
			b = binary.AppendUvarint(b, uint64(j-i))
			i = j
		}
		return b
	}
	b = append(b, byte(w+1))
	var acc uint16
	bits := 0
	for _, x := range col {
		acc |= uint16(x) << bits
		bits += w
		if bits >= 8 {
			b = append(b, byte(acc))
			acc >>= 8
			bits -= 8
		}
	}
	if bits > 0 {
		b = append(b, byte(acc))
	}
	return b
}

func bitsLen(x uint8) int {
	w := 0
	for x > 0 {
		w++
		x >>= 1
	}
	return w
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func (b *bucket) encode(out []byte) []byte {
	peak := byte(0)
	if b.peak {
		peak = 1
	}
	out = append(out, b.n, b.idle, b.over, b.down, peak)
	out = putF64(out, b.sum)
	return putF64(out, b.max)
}

func (d *digest) encode(b []byte) []byte {
	start := len(b)
	b = append(b, digestMagic...)
	b = binary.LittleEndian.AppendUint64(b, d.fp)
	b = binary.AppendUvarint(b, uint64(d.step))
	b = binary.AppendVarint(b, unixHour(d.next))
	b = binary.AppendUvarint(b, uint64(d.hours))
	b = binary.AppendUvarint(b, uint64(d.sumHours))
	if d.launch.IsZero() {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = binary.AppendVarint(b, d.launch.UnixNano())
	}
	b = append(b, byte(len(d.metrics)))
	for i := range d.metrics {
		b = d.metrics[i].encode(b, d)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

func (md *metricDigest) encode(b []byte, d *digest) []byte {
	b = append(b, byte(len(md.metric)))
	b = append(b, md.metric...)
	flags := byte(0)
	for _, f := range [...]struct {
		on   bool
		flag byte
	}{{md.keepSums, flagSums}, {!md.lastData.IsZero(), flagLastData}, {!md.runStart.IsZero(), flagRun},
		{!md.suspectEnd.IsZero(), flagSuspect}, {md.launched.n > 0, flagLaunched}} {
		if f.on {
			flags |= f.flag
		}
	}
	b = append(b, flags)
	if flags&flagLastData != 0 {
		b = putF64(putRel(b, md.lastData, d.next, d.step), md.last)
	}
	if flags&flagRun != 0 {
		b = putF64(putRel(b, md.runStart, d.next, d.step), md.runPrev)
	}
	if flags&flagSuspect != 0 {
		b = putRel(b, md.suspectEnd, d.next, d.step)
	}
	if flags&flagLaunched != 0 {
		b = md.launched.encode(b)
	}
	cs := md.counts
	b = binary.AppendUvarint(b, uint64(len(cs)))
	col := make([]byte, len(cs))
	for i := range cs {
		col[i] = cs[i].n
	}
	b = putColumn(b, col)
	for i := range cs {
		col[i] = cs[i].idle
	}
	b = putColumn(b, col)
	for i := range cs {
		col[i] = cs[i].over
	}
	b = putColumn(b, col)
	for i := range cs {
		col[i] = cs[i].down
	}
	b = putColumn(b, col)
	for i := range cs {
		col[i] = 0
		if cs[i].peak {
			col[i] = 1
		}
	}
	b = putColumn(b, col)
	if md.keepSums {
		off := len(cs) - len(md.sums)
		for i, x := range md.sums {
			if cs[off+i].n > 0 {
				b = putF64(b, x)
			}
		}
	}
	b = binary.AppendUvarint(b, uint64(len(md.peaks)))
	prev := unixHour(d.next) - int64(len(cs)) - 1
	for _, p := range md.peaks {
		b = binary.AppendUvarint(b, uint64(p.hour-prev-1))
		b = putF64(b, p.max)
		prev = p.hour
	}
	return b
}

// reader reads a digest's encoding from b[off:]; the first short or
// malformed read sets err.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{errCorruptState}, args...)...)
	}
}

func (r *reader) take(n int) []byte {
	if r.err != nil || n < 0 || len(r.b)-r.off < n {
		r.fail("truncated")
		return make([]byte, max(n, 0))
	}
	r.off += n
	return r.b[r.off-n : r.off]
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) u8() byte     { return r.take(1)[0] }
func (r *reader) u64() uint64  { return binary.LittleEndian.Uint64(r.take(8)) }
func (r *reader) f64() float64 { return math.Float64frombits(r.u64()) }

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("truncated or overlong varint")
		return 0
	}
	r.off += n
	return x
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail("truncated or overlong varint")
		return 0
	}
	r.off += n
	return x
}

// rel reads a time putRel wrote.
func (r *reader) rel(next time.Time, step time.Duration) time.Time {
	u := r.uvarint()
	d := unzigzag(u >> 1)
	if u&1 == 0 {
		if d > math.MaxInt64/int64(step) || d < math.MinInt64/int64(step) {
			r.fail("time out of range")
			return time.Time{}
		}
		d *= int64(step)
	}
	t := time.Unix(0, next.UnixNano()-d).UTC()
	if t.IsZero() {
		r.fail("time out of range")
	}
	return t
}

// column reads the len(col) values putColumn wrote into col.
func (r *reader) column(col []byte) {
	n := len(col)
	mode := r.u8()
	switch {
	case r.err != nil:
	case mode == 0:
		for i := 0; i < n && r.err == nil; {
			x, run := r.u8(), r.uvarint()
			if run == 0 || run > uint64(n-i) {
				r.fail("a run of %d past %d values", run, n)
				return
			}
			for range run {
				col[i] = x
				i++
			}
		}
	case mode == 1:
		clear(col)
	case mode <= 9:
		w := int(mode) - 1
		packed := r.take((n*w + 7) / 8)
		if r.err != nil {
			return
		}
		for i := range col {
			bit := i * w
			v := uint16(packed[bit/8])
			if bit/8+1 < len(packed) {
				v |= uint16(packed[bit/8+1]) << 8
			}
			col[i] = uint8(v>>(bit%8)) & uint8(1<<w-1)
		}
	default:
		r.fail("column mode %d", mode)
	}
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
	r := reader{b: body, off: len(digestMagic)}
	d := &digest{fp: r.u64(), step: time.Duration(r.uvarint())}
	nextHour := r.varint()
	hours, sumHours := r.uvarint(), r.uvarint()
	if r.err == nil && (d.step <= 0 || time.Hour%d.step != 0 || hours == 0 || hours > 1<<16 || sumHours > hours ||
		nextHour > math.MaxInt64/int64(time.Hour) || nextHour < math.MinInt64/int64(time.Hour)+int64(hours)) {
		return nil, fmt.Errorf("%w: step %v, %d hours, %d of sums, next hour %d", errCorruptState, d.step, hours, sumHours, nextHour)
	}
	d.hours, d.sumHours = int(hours), int(sumHours)
	d.next = time.Unix(0, nextHour*int64(time.Hour)).UTC()
	switch r.u8() {
	case 0:
	case 1:
		d.launch = time.Unix(0, r.varint()).UTC()
	default:
		r.fail("launch flag")
	}
	nm := int(r.u8())
	if r.err != nil {
		return nil, r.err
	}
	d.metrics = make([]metricDigest, 0, nm)
	for range nm {
		md, err := r.metric(d)
		if err != nil {
			return nil, err
		}
		d.metrics = append(d.metrics, md)
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.left() != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errCorruptState, r.left())
	}
	if got := d.encode(nil); string(got) != string(b) {
		return nil, fmt.Errorf("%w: not in the canonical encoding", errCorruptState)
	}
	return d, nil
}

// metric reads one metric's part of d and checks it.
func (r *reader) metric(d *digest) (metricDigest, error) {
	perHour := int(time.Hour / d.step)
	md := metricDigest{metric: provider.Metric(r.take(int(r.u8()))), last: math.NaN(), runPrev: math.NaN(), launched: emptyBucket()}
	flags := r.u8()
	if r.err == nil && flags&^flagsAll != 0 {
		r.fail("%s: flags %#x", md.metric, flags)
	}
	md.keepSums = flags&flagSums != 0
	if flags&flagLastData != 0 {
		md.lastData, md.last = r.rel(d.next, d.step), r.f64()
	}
	if flags&flagRun != 0 {
		md.runStart, md.runPrev = r.rel(d.next, d.step), r.f64()
	}
	if flags&flagSuspect != 0 {
		md.suspectEnd = r.rel(d.next, d.step)
	}
	if flags&flagLaunched != 0 {
		c, peak := counts{n: r.u8(), idle: r.u8(), over: r.u8(), down: r.u8()}, r.u8()
		c.peak = peak == 1
		md.launched = bucket{counts: c, sum: r.f64(), max: r.f64()}
		if r.err == nil && (c.n == 0 || peak > 1 || !c.valid(perHour) || !finite(md.launched.sum) || !finite(md.launched.max)) {
			return md, fmt.Errorf("%w: %s: the launch hour's bucket is inconsistent", errCorruptState, md.metric)
		}
	}
	nb := r.uvarint()
	if r.err != nil {
		return md, r.err
	}
	if nb > uint64(d.hours) {
		return md, fmt.Errorf("%w: %s: %d hours of counts, at most %d", errCorruptState, md.metric, nb, d.hours)
	}
	n := int(nb)
	md.counts = make([]counts, n)
	cs := md.counts
	col := make([]byte, n)
	peaks := true
	for k := range 5 {
		r.column(col)
		for i, x := range col {
			c := &cs[i]
			switch k {
			case 0:
				c.n = x
			case 1:
				c.idle = x
			case 2:
				c.over = x
			case 3:
				c.down = x
			default:
				c.peak, peaks = x == 1, peaks && x <= 1
			}
		}
	}
	if r.err != nil {
		return md, r.err
	}
	for i := range cs {
		if !peaks || !cs[i].valid(perHour) {
			return md, fmt.Errorf("%w: %s: the counts of hour %d are inconsistent", errCorruptState, md.metric, i)
		}
	}
	if md.keepSums {
		md.sums = make([]float64, min(n, d.sumHours))
		off := n - len(md.sums)
		for i := range md.sums {
			if cs[off+i].n > 0 {
				if md.sums[i] = r.f64(); r.err == nil && !finite(md.sums[i]) {
					return md, fmt.Errorf("%w: %s: the sum of hour %d is %v", errCorruptState, md.metric, off+i, md.sums[i])
				}
			}
		}
	}
	np := r.uvarint()
	if r.err != nil {
		return md, r.err
	}
	if np > nb {
		return md, fmt.Errorf("%w: %s: %d peaks in %d hours", errCorruptState, md.metric, np, nb)
	}
	first := unixHour(d.next) - int64(n)
	prev := first - 1
	if np > 0 {
		md.peaks = make([]peak, np)
	}
	for i := range md.peaks {
		p := &md.peaks[i]
		gap := r.uvarint()
		p.hour, p.max = prev+1+int64(min(gap, nb)), r.f64()
		if r.err != nil {
			return md, r.err
		}
		if gap >= nb || p.hour >= first+int64(n) || cs[p.hour-first].n == 0 || !finite(p.max) || i > 0 && p.max >= md.peaks[i-1].max {
			return md, fmt.Errorf("%w: %s: peak %d is inconsistent", errCorruptState, md.metric, i)
		}
		prev = p.hour
	}
	// The last hour with data is always a peak (no later hour is above it).
	last := -1
	for i := n - 1; i >= 0; i-- {
		if cs[i].n > 0 {
			last = i
			break
		}
	}
	if (last < 0) != (np == 0) || last >= 0 && md.peaks[np-1].hour != first+int64(last) {
		return md, fmt.Errorf("%w: %s: the peaks do not end at the last hour with data", errCorruptState, md.metric)
	}
	return md, nil
}

// valid reports whether c's counts fit an hour of perHour steps.
func (c *counts) valid(perHour int) bool {
	return int(c.n) <= perHour && c.idle <= c.n && c.over <= c.n && c.down <= c.n && (c.n > 0 || !c.peak)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
