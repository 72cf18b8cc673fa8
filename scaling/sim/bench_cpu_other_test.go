//go:build !unix

package sim_test

import "time"

// cpuTime is 0 where the process's CPU time is not read: the benchmarks
// then report no cpu-ms/op.
func cpuTime() time.Duration { return 0 }
