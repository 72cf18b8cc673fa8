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

// reasonMemoBits sets the number of reasons a reasonMemo holds: 2 to
// its power.
const reasonMemoBits = 8

// reasonMemo remembers the reasons hpaReason made last, by the values they
// are made of: the reasons of a fleet pass repeat (the same words and the
// same few replica counts), and a repeated one then costs a comparison of
// its values instead of writing and hashing its text, and neither an
// allocation nor the collector's time. A reason not remembered is carved
// from a slab. It is a direct-mapped table: a reason evicts the one in its
// slot. Not safe for concurrent use (each worker's scratch has its own);
// the zero value is ready.
type reasonMemo struct {
	keys  [1 << reasonMemoBits]reasonKey
	texts [1 << reasonMemoBits]string
	slab  stringSlab
}

// reasonKey is what a reason of hpaReason is made of: the fields of the
// decision its text reads (the others are zero), and the suffix. set tells
// a remembered key from an empty slot.
type reasonKey struct {
	set, rescale                          bool
	current                               int
	a, b                                  int32 // replicas (a rescale), or proposal and stabilized
	reason, active, able, limited, suffix string
}

// slot returns k's slot in a reasonMemo: a multiplicative hash of its
// numbers and of its strings' lengths (the strings are mostly the hpa
// package's constants; a hit compares them in full).
func (k *reasonKey) slot() int {
	h := uint64(k.current)*0x9e3779b97f4a7c15 ^ uint64(uint32(k.a))*0xc2b2ae3d27d4eb4f ^ uint64(uint32(k.b))*0x165667b19e3779f9 ^
		uint64(len(k.reason)^len(k.active)<<8^len(k.able)<<16^len(k.limited)<<24^len(k.suffix)<<32)*0x27d4eb2f165667c5
	return int(h >> (64 - reasonMemoBits))
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
// strategies for its decisions: the HPA working space of the last HPA
// strategy it decided with, held across the batch's targets (most share
// one strategy) instead of taken from the strategy's pool and put back for
// every decision, and, when its decisions are valid only until its
// reports are handed out, the arena of their inputs. Not safe for
// concurrent use (each batch has its own); the zero value is ready.
type decideScratch struct {
	inputs *inputArena // nil: the strategies' own slabs
	hpa    *HPA
	hpaSc  *hpaScratch
}

// hpaScratch returns a working space of s, held until release or until
// another HPA strategy asks.
func (bs *decideScratch) hpaScratch(s *HPA) *hpaScratch {
	if bs.hpa != s {
		bs.release()
		bs.hpa, bs.hpaSc = s, s.getScratch()
	}
	return bs.hpaSc
}

// release puts the working space held back into its strategy's pool.
func (bs *decideScratch) release() {
	if bs.hpa != nil {
		bs.hpa.scratch.Put(bs.hpaSc)
		bs.hpa, bs.hpaSc = nil, nil
	}
}
