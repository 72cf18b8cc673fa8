package quota

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRefundIsNeverMade: a bucket whose refused reservations are given
// back holds exactly what a bucket in which they were never made holds,
// once they are given back, and never more before: random reservations
// (some refused), at random times, with random delays before each is
// settled, several outstanding at once, refills capped at the burst in
// between.
func TestRefundIsNeverMade(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 8))
	exact := 0
	for round := range 200 {
		burst := float64(1 + rng.IntN(20))
		a := bucket{rate: burst * (0.5 + rng.Float64()), burst: burst}
		never := a
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		type out struct {
			hold    uint64
			n       float64
			refused bool
			at      time.Time // when it is settled
		}
		var pending []out
		var next uint64
		var log []string
		settle := func(o out) {
			before, c := a.tokens, a.held[o.hold]
			if o.refused {
				a.release(o.hold, o.n)
			} else {
				a.release(o.hold, 0)
			}
			log = append(log, fmt.Sprintf("release %d refused=%v n=%.2f C=%.3f tokens %.3f -> %.3f", o.hold, o.refused, o.n, c, before, a.tokens))
		}
		for step := range 300 {
			now = now.Add(time.Duration(rng.IntN(400)) * time.Millisecond)
			// Settle what is due, oldest first.
			keep := pending[:0]
			for _, o := range pending {
				if !o.at.After(now) {
					settle(o)
				} else {
					keep = append(keep, o)
				}
			}
			pending = keep
			n := float64(1 + rng.IntN(int(burst)+5))
			next++
			o := out{hold: next, n: n, refused: rng.IntN(3) == 0, at: now.Add(time.Duration(rng.IntN(2000)) * time.Millisecond)}
			a.reserve(now, n, o.hold)
			if !o.refused {
				never.reserve(now, n, 0)
			} else {
				never.refill(now)
			}
			pending = append(pending, o)
			a.refill(now)
			never.refill(now)
			log = append(log, fmt.Sprintf("step %d t=%s reserve %d n=%.2f refused=%v: a=%.3f never=%.3f", step, now.Format("05.000"), o.hold, n, o.refused, a.tokens, never.tokens))
			require.LessOrEqual(t, a.tokens, never.tokens+1e-9, "round %d step %d: never more than had the refused reservations not been made (burst %v)\n%s", round, step, burst, strings.Join(log, "\n"))
		}
		for _, o := range pending {
			settle(o)
		}
		require.Empty(t, a.held, "round %d: every hold released", round)
		require.LessOrEqual(t, a.tokens, never.tokens+1e-9, "round %d: never more, all settled", round)
		if math.Abs(a.tokens-never.tokens) < 1e-6*math.Max(1, burst) {
			exact++
		}
	}
	t.Logf("%d of 200 rounds end with exactly the tokens of a bucket that never made the refused reservations", exact)
}
