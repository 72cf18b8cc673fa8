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

// internMax is the most strings an intern table holds before it starts
// over.
const internMax = 256

// intern hands out strings from a bounded table of the strings it handed
// out last, carving the ones it has not seen from a slab: the reasons of
// a fleet pass repeat (the same words and the same few replica counts),
// and a repeated one costs neither an allocation nor the collector's time.
// Not safe for concurrent use; the zero value is ready.
type intern struct {
	seen map[string]string
	slab stringSlab
}

// string returns a string of b's bytes.
func (in *intern) string(b []byte) string {
	if s, ok := in.seen[string(b)]; ok {
		return s
	}
	s := in.slab.string(b)
	if in.seen == nil || len(in.seen) >= internMax {
		in.seen = make(map[string]string, internMax)
	}
	in.seen[s] = s
	return s
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
