// Package synth generates a fleet of any size, up to a billion instances,
// whose resources and metric series are computed on demand instead of
// stored: a simulation of a million resources holds no million series.
// It is the memory provider's large-fleet counterpart for tests, dry runs
// and benchmarks; a synth.Fleet is a read-only provider.Inventory and
// provider.MetricsSource with the batch reads, and reads through
// memory.QuotaEmulator like CloudWatch's GetMetricData.
//
// # Generation
//
// Resource i of a Fleet has an ID (Config.Prefix and i, zero-padded so
// that IDs sort as indices), a Class, and seeded parameters, all computed
// from Config.Seed and i by a hash: the fleet stores nothing per resource
// and the same Config gives the same fleet. Its series live on the native
// grid of the shapes (the real traces in Config.Shapes, normalised to
// [0, 1]) from Config.Start on: native step j of its CPU is the texture of
// one shape at a seeded phase, j + phase (wrapping around the shape),
// scaled into the band of its Class at that hour:
//
//	idle    0.2–2.2 %                                    (DefaultMix: 30 %)
//	busy    30–85 %                                      (40 %)
//	daily   25–75 % for 8–12 h a day from 06–10 UTC,
//	        0.3–1.8 % otherwise                          (20 %)
//	weekly  60–95 % for 4 h a week at a seeded hour,
//	        0.2–1.7 % otherwise                          (10 %)
//
// Network and disk utilization follow the CPU (0.2 % + half of it, 0.1 %
// + 0.3 of it); memory follows a second shape at a level of its class
// (busy 50–60 %; idle, and daily and weekly when not active, 3–8 %, the
// memory of an instance that runs little more than its system; daily and
// weekly 30 points more while active). Gaps in a shape are gaps in the series. Other metrics
// read as gaps, as a memory.Cloud answers a metric it holds no data for.
//
// # Reads
//
// A query at any step and statistic reduces the native steps inside each
// of its steps, exactly as memory.Cloud reduces a stored series, so a
// read equals the same read of the full native series stored in a Cloud
// (SetSeries). Steps that start after the clock's now (WithClock) are
// gaps until the clock reaches them. A read costs the native steps it
// covers and allocates only its values (none when QueryMetrics is given
// reads with room for them).
package synth
