package aws_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// TestRetriedWriteAfterAConnectionResetIsNotUntouched: a Stop, Start or
// Terminate whose first request EC2 carried out but whose reply was lost
// to a connection reset (or a timeout: no HTTP response at all), retried
// by the SDK and then throttled, read as throttled, so as nothing
// changed: the SDK hands such a transport failure over as an HTTP
// response error of status 0, which the driver took for a client error
// AWS had refused (mayHaveApplied looked at the status only), where it
// took an HTTP 500 for a reply that may have been lost
// (TestRetriedWriteAfterALostReplyIsNotUntouched). A request without a
// response may have been applied as well.
func TestRetriedWriteAfterAConnectionResetIsNotUntouched(t *testing.T) {
	t.Parallel()
	for _, tt := range instanceWrites() {
		t.Run(tt.action, func(t *testing.T) {
			t.Parallel()
			id := runInstances(t, 1, "t3.micro", nil)[0]
			if tt.before != nil {
				tt.before(t, newDriver(t), id)
			}
			hook := &lostReplyHTTP{action: tt.action, reset: true}
			cfg := fastConfig()
			cfg.MaxAttempts = 2
			cfg.NoWait = true
			d := newDriverConfig(t, cfg, awsprovider.WithEC2Options(func(o *ec2.Options) { o.HTTPClient = hook }))
			err := tt.act(d, tctx(t), id)
			require.Error(t, err)
			assert.Equal(t, int64(2), hook.calls.Load(), "the SDK retried once")
			st, _ := ec2State(t, id)
			require.Contains(t, tt.want, st, "the first attempt was applied")
			for _, s := range untouched {
				require.NotErrorIs(t, err, s, "%v: the change was made; it must not read as nothing changed", err)
			}
			assert.Contains(t, err.Error(), "may have been applied")
		})
	}
}
