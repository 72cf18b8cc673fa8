package aws

import "time"

// WithNow replaces the driver's real clock (CloudWatch's retention, the
// publication delay) with now, so that tests place the boundaries of a
// read exactly.
func WithNow(now func() time.Time) Option { return func(o *options) { o.now = now } }

// StartPeriod is startPeriod, for its boundaries.
var StartPeriod = startPeriod
