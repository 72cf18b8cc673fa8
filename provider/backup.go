package provider

import "time"

// Backup is one backup (snapshot) of a resource as a BackupCatalog reports
// it.
type Backup struct {
	// ID identifies the backup (an EBS snapshot ID, for example).
	ID string `json:"id" yaml:"id"`
	// ResourceID is the resource the backup is of.
	ResourceID string `json:"resource_id" yaml:"resource_id"`
	// Time is when the backup was taken (its point in time).
	Time time.Time `json:"time" yaml:"time"`
	// Complete reports whether the backup finished and is usable.
	Complete bool `json:"complete" yaml:"complete"`
	// Verified reports whether a restore test or checksum verified it.
	Verified bool `json:"verified" yaml:"verified"`
	// VerifiedBy says how it was verified ("restore-test", "checksum", a
	// tool name); empty when not verified.
	VerifiedBy string `json:"verified_by,omitempty" yaml:"verified_by,omitempty"`
	// VerifiedAt is when the verification happened; zero when unknown.
	VerifiedAt time.Time `json:"verified_at,omitzero" yaml:"verified_at,omitempty"`
}

// Age returns how old the backup is at now (0 if taken in the future).
func (b Backup) Age(now time.Time) time.Duration {
	if now.Before(b.Time) {
		return 0
	}
	return now.Sub(b.Time)
}

// Validate checks the backup's ID, resource ID and time.
func (b Backup) Validate() error {
	if err := ValidateID(b.ID); err != nil {
		return within("backup", err)
	}
	if err := ValidateID(b.ResourceID); err != nil {
		return within("backup.resource", err)
	}
	if b.Time.IsZero() {
		return Invalid("backup.time", b.Time, "must be set")
	}
	return nil
}
