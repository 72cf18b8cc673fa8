package prometheus_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/provider/prometheus"
)

// TestStatusErrorText: a StatusError names Prometheus's error type and
// message when the answer carried them, and only the status when it
// carried neither (a proxy's page), with no empty ": : " fields.
func TestStatusErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give prometheus.StatusError
		want string
	}{
		{"a proxy's page", prometheus.StatusError{Code: 502}, "prometheus: HTTP status 502"},
		{"prometheus's error", prometheus.StatusError{Code: 503, Type: "timeout", Message: "query timed out in expression evaluation"},
			"prometheus: HTTP status 503: timeout: query timed out in expression evaluation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.give.Error())
		})
	}
}
