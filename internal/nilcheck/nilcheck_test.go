package nilcheck_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/internal/nilcheck"
)

type impl struct{}

func (*impl) String() string { return "impl" }

func TestIs(t *testing.T) {
	t.Parallel()
	var (
		p  *impl
		f  func()
		m  map[string]int
		c  chan int
		s  []int
		st fmt.Stringer = p // a typed nil in an interface
	)
	for _, v := range []any{nil, p, f, m, c, s, st} {
		assert.True(t, nilcheck.Is(v), "%T", v)
	}
	for _, v := range []any{&impl{}, func() {}, map[string]int{}, make(chan int), []int{}, 0, "", impl{}} {
		assert.False(t, nilcheck.Is(v), "%T", v)
	}
}
