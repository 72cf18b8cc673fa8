package scaling

import "strings"

// Slabs: the fleet pass makes a reason, a plan ID and a few inputs per
// target, thousands a pass. Carving them from shared buffers makes one
// allocation per slab instead of one per value. What is carved is never
// written again (a slab only grows into its unused tail, and a full one
// is left to the values carved from it), so the strings and slices
// handed out are ordinary immutable values; a value kept alone keeps its
// slab (at most a few hundred bytes to a couple of KB) alive.

// stringSlabBytes is a string slab's size: about ten reasons or thirty
// plan IDs.
const stringSlabBytes = 1 << 10

// stringSlab hands out strings carved from a strings.Builder's buffer.
// Not safe for concurrent use (each worker's scratch has its own); the
// zero value is ready.
type stringSlab struct{ b strings.Builder }

// string returns a string of b's bytes.
func (s *stringSlab) string(b []byte) string {
	if len(b) > stringSlabBytes/4 {
		return string(b) // large: its own allocation, not a slab's quarter
	}
	if s.b.Cap()-s.b.Len() < len(b) {
		// Full: a new slab, so that the Builder never copies (grows) a
		// buffer that strings were carved from.
		s.b = strings.Builder{}
		s.b.Grow(stringSlabBytes)
	}
	start := s.b.Len()
	s.b.Write(b)
	return s.b.String()[start:]
}

// textMemoBits sets the number of texts a textMemo holds: 2 to its
// power.
const textMemoBits = 8

// textMemo remembers the texts (reasons) made last, by the values they
// are made of (K): the reasons of a fleet pass repeat (the same words and
// the same few replica counts or factors), and a repeated one then costs
// a comparison of its values instead of writing its text, and neither an
// allocation nor the collector's time. A text not remembered is carved
// from a slab. It is a direct-mapped table: a text evicts the one in its
// slot. Not safe for concurrent use (each worker's scratch has its own);
// the zero value is ready.
type textMemo[K comparable] struct {
	used  [1 << textMemoBits]bool
	keys  [1 << textMemoBits]K
	texts [1 << textMemoBits]string
	slab  stringSlab
}

// get returns the text remembered for k in slot i (< 1<<textMemoBits),
// if any.
func (m *textMemo[K]) get(i int, k *K) (string, bool) {
	if m.used[i] && m.keys[i] == *k {
		return m.texts[i], true
	}
	return "", false
}

// put remembers b's bytes as the text of k in slot i, and returns them.
func (m *textMemo[K]) put(i int, k *K, b []byte) string {
	s := m.slab.string(b)
	m.used[i], m.keys[i], m.texts[i] = true, *k, s
	return s
}

// reasonKey is what a reason of hpaReason is made of: the fields of the
// decision its text reads (the others are zero), and the suffix.
type reasonKey struct {
	rescale                               bool
	current                               int
	a, b                                  int32 // replicas (a rescale), or proposal and stabilized
	reason, active, able, limited, suffix string
}

// slot returns k's slot in a textMemo: a multiplicative hash of its
// numbers and of its strings' lengths (the strings are mostly the hpa
// package's constants; a hit compares them in full).
func (k *reasonKey) slot() int {
	h := uint64(k.current)*0x9e3779b97f4a7c15 ^ uint64(uint32(k.a))*0xc2b2ae3d27d4eb4f ^ uint64(uint32(k.b))*0x165667b19e3779f9 ^
		uint64(len(k.reason)^len(k.active)<<8^len(k.able)<<16^len(k.limited)<<24^len(k.suffix)<<32)*0x27d4eb2f165667c5
	return int(h >> (64 - textMemoBits))
}

// inputSlabLen is an input slab's length (a few hundred bytes).
const inputSlabLen = 16

// inputSlab hands out slices of Input carved from a shared array. Not safe
// for concurrent use; the zero value is ready.
type inputSlab struct{ free []Input }

// make returns an empty slice with capacity n (never nil, as make's).
func (s *inputSlab) make(n int) []Input {
	if n == 0 {
		return []Input{}
	}
	if n > inputSlabLen/2 {
		return make([]Input, 0, n)
	}
	if cap(s.free) < n {
		s.free = make([]Input, inputSlabLen)
	}
	out := s.free[:0:n]
	s.free = s.free[n:]
	return out
}

// inputArena holds the recommendations' inputs of a batch whose decisions
// are valid only until its reports are handed out (EvaluateEach, Run):
// they are carved from one array, reused from batch to batch, instead of
// from slabs that the collector then frees. Not safe for concurrent use
// (each batch has its own); the zero value is ready.
type inputArena struct{ buf []Input }

// reset empties a for the next batch (its inputs are no longer read).
func (a *inputArena) reset() {
	clear(a.buf)
	a.buf = a.buf[:0]
}

// make returns an empty slice with capacity n (never nil, as make's).
func (a *inputArena) make(n int) []Input {
	if n == 0 {
		return []Input{}
	}
	k := len(a.buf)
	if cap(a.buf)-k < n {
		// Full: a larger array for the rest of the batch and the next
		// ones; the inputs carved so far keep the old one.
		a.buf, k = make([]Input, 0, max(2*cap(a.buf), n, 64)), 0
	}
	a.buf = a.buf[:k+n]
	return a.buf[k : k : k+n]
}

// decideScratch is the working space a batch lends the built-in
// strategies for its decisions:
//   - the HPA working space of the last HPA strategy it decided with, held
//     across the batch's targets (most share one strategy) instead of
//     taken from the strategy's pool and put back for every decision;
//   - when its decisions are valid only until its reports are handed out,
//     the arena of their inputs;
//   - the target-value strategies' reasons.
//
// Not safe for concurrent use (each batch has its own); the zero value is
// ready.
type decideScratch struct {
	inputs    *inputArena // nil: the strategies' own slabs
	hpa       *HPA
	hpaSc     *hpaScratch
	tvReasons textMemo[tvReasonKey] // the target-value strategies' reasons
}

// hpaScratch returns a working space of s, held until release or until
// another HPA strategy asks, or the error of its calculator.
func (bs *decideScratch) hpaScratch(s *HPA) (*hpaScratch, error) {
	if bs.hpa != s {
		bs.release()
		sc, err := s.getScratch()
		if err != nil {
			return nil, err
		}
		bs.hpa, bs.hpaSc = s, sc
	}
	return bs.hpaSc, nil
}

// release puts the working space held back into its strategy's pool.
func (bs *decideScratch) release() {
	if bs.hpa != nil {
		bs.hpa.scratch.Put(bs.hpaSc)
		bs.hpa, bs.hpaSc = nil, nil
	}
}

// tvReasonKey is what a reason of targetValueReason is made of (the
// floats by their bits: NaN is a value like the others).
type tvReasonKey struct {
	direction         int
	factor, threshold uint64
}

// slot returns k's slot in a textMemo.
func (k *tvReasonKey) slot() int {
	h := uint64(k.direction)*0x9e3779b97f4a7c15 ^ k.factor*0xc2b2ae3d27d4eb4f ^ k.threshold*0x165667b19e3779f9
	return int(h >> (64 - textMemoBits))
}
