package redact_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/internal/redact"
)

// A known secret of exactly 4 bytes is masked, one of 3 is not; a secret
// that another holds is masked after it, so nothing of the longer one
// shows.
func TestKnownSecretBounds(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "key xxxxx", redact.New("k3y!").String("key k3y!"))
	assert.Equal(t, "key k3y", redact.New("k3y").String("key k3y"))
	for _, order := range [][]string{{"hunter", "hunter2024"}, {"hunter2024", "hunter"}} {
		assert.Equal(t, "pw xxxxx, old xxxxx", redact.New(order...).String("pw hunter2024, old hunter"), "%v", order)
	}
}

// A base64 run of 100 characters is a token however it is made up (each
// end of each character class, '+' and '/'); 99 is not.
func TestLongRunBounds(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"a", "z", "A", "Z", "0", "9", "+", "/"} {
		run := "q" + strings.Repeat(c, 98) + "q" // 100 characters
		assert.Equal(t, "token xxxxx end", redact.String("token "+run+" end"), "100 with %q", c)
		short := strings.Repeat(c, 99)
		assert.Equal(t, "token "+short+" end", redact.String("token "+short+" end"), "99 with %q", c)
	}
}
