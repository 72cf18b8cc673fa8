package aws_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// lostCapacityHTTP sends the first request of Auto Scaling action to
// moto and loses its reply (an HTTP 500 comes back instead), then answers
// the retries with code (a ScalingActivityInProgress of the activity the
// first attempt started, say) without sending them.
type lostCapacityHTTP struct {
	action string
	status int
	code   string
	calls  atomic.Int64
}

func (h *lostCapacityHTTP) Do(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if !strings.Contains(string(body), "Action="+h.action+"&") {
		return testHTTP.Do(r)
	}
	status, code := h.status, h.code
	if h.calls.Add(1) == 1 {
		resp, err := testHTTP.Do(r)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		status, code = http.StatusInternalServerError, "InternalFailure"
	}
	xml := `<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Sender</Type><Code>` + code +
		`</Code><Message>injected</Message></Error><RequestId>lost-reply</RequestId></ErrorResponse>`
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: http.Header{"Content-Type": {"text/xml"}},
		Body: io.NopCloser(strings.NewReader(xml)), ContentLength: int64(len(xml)), Request: r}, nil
}

// TestRetriedCapacityWriteAfterALostReplyIsNotUntouched: a SetCapacity
// whose first SetDesiredCapacity (UpdateAutoScalingGroup) Auto Scaling
// applied but whose reply was lost, retried by the SDK and then refused
// as a scaling activity in progress (the one the first attempt started)
// or throttled, changed the group: its error matched
// provider.ErrThrottled (and ErrConflict), which the scaling engine
// takes for a write that changed nothing (retried until its deadline,
// then failed as never written). It now matches none of the sentinels
// that say nothing changed, as the instance writes' errors do
// (TestRetriedWriteAfterALostReplyIsNotUntouched).
func TestRetriedCapacityWriteAfterALostReplyIsNotUntouched(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		action string
		give   provider.CapacitySpec
		status int
		code   string
	}{
		{"desired, then in progress", "SetDesiredCapacity", provider.CapacitySpec{Min: 1, Max: 4, Desired: 3}, http.StatusBadRequest, "ScalingActivityInProgress"},
		{"desired, then throttled", "SetDesiredCapacity", provider.CapacitySpec{Min: 1, Max: 4, Desired: 3}, http.StatusBadRequest, "Throttling"},
		{"bounds, then in progress", "UpdateAutoScalingGroup", provider.CapacitySpec{Min: 1, Max: 6, Desired: 3}, http.StatusBadRequest, "ScalingActivityInProgress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			group := createGroup(t, 1, 4, 2, nil)
			hook := &lostCapacityHTTP{action: tt.action, status: tt.status, code: tt.code}
			cfg := fastConfig()
			cfg.MaxAttempts = 3
			d := newDriverConfig(t, cfg, awsprovider.WithAutoScalingOptions(func(o *autoscaling.Options) { o.HTTPClient = hook }))
			err := d.SetCapacity(tctx(t), group, tt.give)
			require.Error(t, err)
			require.GreaterOrEqual(t, hook.calls.Load(), int64(2), "the SDK retried")
			g := describeGroup(t, group)
			require.Equal(t, int32(3), awssdk.ToInt32(g.DesiredCapacity), "the first attempt was applied")
			for _, s := range untouched {
				require.NotErrorIs(t, err, s, "%v: the change was made; it must not read as nothing changed", err)
			}
			assert.Contains(t, err.Error(), "may have been applied")
			assert.Contains(t, err.Error(), tt.code, "the last attempt's answer is in the message")
		})
	}
}
