package memory_test

import "math"

func nanF() float64 { return math.NaN() }
