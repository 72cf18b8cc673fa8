package detector_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// An Ensemble or Preset declared as a zero value instead of made by its
// constructor has no configuration: Detect returns an error naming it
// (Scan records it per resource) instead of a nil-pointer panic.
func TestZeroValueDetectorsFail(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	in := detector.Input{Now: now, Resource: provider.Resource{ID: "r", Kind: provider.KindInstance}}
	tests := []struct {
		name  string
		d     detector.Detector
		field string
	}{
		{"ensemble", &detector.Ensemble{}, "ensemble"},
		{"preset", &detector.Preset{}, "preset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var err error
			require.NotPanics(t, func() { _, err = tt.d.Detect(t.Context(), in) })
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)

			cloud := nabFleet(t, now, "c6585a")
			var rep detector.Report
			require.NotPanics(t, func() {
				rep, err = detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: cloud}, tt.d, detector.ScanConfig{Now: now})
			})
			require.NoError(t, err)
			require.Len(t, rep.Errors, 1)
			require.ErrorIs(t, rep.Errors[0], provider.ErrInvalid)
			assert.Empty(t, rep.Verdicts)
		})
	}
}
