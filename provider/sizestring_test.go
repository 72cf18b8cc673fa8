package provider_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/provider"
)

// A size is named by its instance type, or by the fields it sets, with
// every digit its vCPUs have and none more.
func TestSizeString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give provider.Size
		want string
	}{
		{provider.Size{InstanceType: "m5.large", VCPU: 2, MemoryMiB: 8192}, "m5.large"},
		{provider.Size{MemoryMiB: 512, Timeout: 30 * time.Second}, "512 MiB, timeout 30s"},
		{provider.Size{VCPU: 0.5, MemoryMiB: 1024}, "0.5 vCPU, 1024 MiB"},
		{provider.Size{VCPU: 0.25, Timeout: 90 * time.Second}, "0.25 vCPU, timeout 1m30s"},
		{provider.Size{VCPU: 2}, "2 vCPU"},
		{provider.Size{}, "none"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.give.String())
		assert.Equal(t, tt.want, fmt.Sprint(tt.give), "a Stringer")
	}
}
