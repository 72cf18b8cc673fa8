package reaper

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/provider"
)

// A resize is verified on the fields its target sets, each one exactly,
// but the vCPUs and memory of an instance type, which the type decides.
func TestSizeMatches(t *testing.T) {
	t.Parallel()
	got := provider.Size{InstanceType: "m5.large", VCPU: 2, MemoryMiB: 8192, Timeout: 30 * time.Second}
	tests := []struct {
		name string
		want provider.Size
		ok   bool
	}{
		{"nothing asked", provider.Size{}, true},
		{"same type", provider.Size{InstanceType: "m5.large"}, true},
		{"other type", provider.Size{InstanceType: "m5.xlarge"}, false},
		{"same vcpu", provider.Size{VCPU: 2}, true},
		{"other vcpu", provider.Size{VCPU: 4}, false},
		{"same memory", provider.Size{MemoryMiB: 8192}, true},
		{"other memory", provider.Size{MemoryMiB: 4096}, false},
		{"same timeout", provider.Size{Timeout: 30 * time.Second}, true},
		{"other timeout", provider.Size{Timeout: 60 * time.Second}, false},
		{"all the same", got, true},
		{"same type, its vcpu and memory read otherwise", provider.Size{InstanceType: "m5.large", VCPU: 4, MemoryMiB: 4096}, true},
		{"other type, same vcpu and memory", provider.Size{InstanceType: "t3.large", VCPU: 2, MemoryMiB: 8192}, false},
		{"all but the timeout", provider.Size{InstanceType: "m5.large", VCPU: 2, MemoryMiB: 8192, Timeout: 31 * time.Second}, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.ok, sizeMatches(got, tt.want), tt.name)
	}
}
