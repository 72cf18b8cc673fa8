// Package fuzzfloat carries float64 slices through Go's fuzzing engine,
// which has no []float64 argument type: a fuzz target takes []byte and
// decodes it with Floats; seeds are written with Bytes.
package fuzzfloat

import (
	"encoding/binary"
	"math"
)

// Floats decodes b as little-endian float64s, any bit pattern (NaN, Inf,
// negative, subnormal) included. A trailing partial value is dropped.
func Floats(b []byte) []float64 {
	out := make([]float64, 0, len(b)/8)
	for len(b) >= 8 {
		out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(b)))
		b = b[8:]
	}
	return out
}

// Bytes encodes v as Floats decodes it.
func Bytes(v ...float64) []byte {
	b := make([]byte, 0, 8*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}
