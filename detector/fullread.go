package detector

import "github.com/idlescale/idlescale/internal/enumtext"

// FullRead says why a Tracker read a resource's whole history instead of
// only the steps since its state, a lower-case snake string. The zero
// value "" means it did not (Read.Full is false).
type FullRead string

// The reasons for a full read.
const (
	FullNewResource   FullRead = "new_resource"     // no state stored yet
	FullStoreError    FullRead = "store_error"      // the state store failed to load it
	FullCorruptState  FullRead = "corrupt_state"    // the state does not decode (or its checksum fails)
	FullSettings      FullRead = "settings_changed" // the state was made with other settings or schema
	FullClockSkew     FullRead = "clock_skew"       // the state ends after now
	FullStaleState    FullRead = "state_too_old"    // the state ends a history or more before now
	FullOffTheHour    FullRead = "now_off_the_hour"
	FullGridChanged   FullRead = "grid_changed" // a query returned a series on another grid
	FullMetricError   FullRead = "metric_error" // reading the new steps failed, or gave values a full read refuses (Input.Validate)
	FullSuspectZeros  FullRead = "suspect_zeros"
	FullLaunchChanged FullRead = "launch_changed"    // the resource's launch time is not the state's
	FullZoneOffHour   FullRead = "zone_off_the_hour" // the time zone is not a whole number of hours from UTC
	FullCanceled      FullRead = "canceled"          // ctx ended while reading the new steps
)

// String returns the reason's value.
func (f FullRead) String() string { return string(f) }

// Validate returns a *provider.InvalidError unless f is one of the
// reasons above.
func (f FullRead) Validate() error {
	switch f {
	case FullNewResource, FullStoreError, FullCorruptState, FullSettings, FullClockSkew, FullStaleState, FullOffTheHour,
		FullGridChanged, FullMetricError, FullSuspectZeros, FullLaunchChanged, FullZoneOffHour, FullCanceled:
		return nil
	}
	return invalid("full_read", string(f), "is not a known reason for a full read")
}

// MarshalText implements encoding.TextMarshaler; an unknown value is an
// error.
func (f FullRead) MarshalText() ([]byte, error) { return enumtext.Marshal(f, FullRead.Validate) }

// UnmarshalText implements encoding.TextUnmarshaler: a known reason or the
// empty string. Any other text is an error naming it.
func (f *FullRead) UnmarshalText(b []byte) error { return enumtext.Unmarshal(f, b, FullRead.Validate) }
