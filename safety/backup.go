package safety

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// BackupConfig configures BackupRule. The zero value means the defaults.
type BackupConfig struct {
	// MaxAge is how old the newest usable backup may be. Must be ≥ 0; 0
	// means the default. Default: 24h.
	MaxAge time.Duration `json:"max_age,omitempty" yaml:"max_age,omitempty"`
	// AllowUnverified accepts complete backups that were not verified, or
	// not by the proposal's Now. Default: false (a backup must be
	// complete and verified by Now).
	AllowUnverified bool `json:"allow_unverified,omitempty" yaml:"allow_unverified,omitempty"`
	// Actions are the actions that need a backup. Empty means the
	// default. Default: stop, terminate, resize.
	Actions []Action `json:"actions,omitempty" yaml:"actions,omitempty"`
	// Kinds are the resource kinds that need a backup. Empty means the
	// default. Default: instance, database, volume.
	Kinds []provider.Kind `json:"kinds,omitempty" yaml:"kinds,omitempty"`
}

// DefaultBackupMaxAge is BackupConfig.MaxAge's default.
const DefaultBackupMaxAge = 24 * time.Hour

// Validate returns an error matching provider.ErrInvalid naming a wrong
// field.
func (c BackupConfig) Validate() error {
	if c.MaxAge < 0 {
		return invalidf("max_age", c.MaxAge, "must be ≥ 0 (0 means 24h)")
	}
	if _, err := newActionSet("actions", c.Actions, resourceActions); err != nil {
		return err
	}
	for i, k := range c.Kinds {
		if err := k.Validate(); err != nil {
			return invalidf(fmt.Sprintf("kinds[%d]", i), string(k), "must be a provider kind")
		}
	}
	return nil
}

// BackupRule blocks a disruptive action unless the resource has a recent
// usable backup: complete, verified at the proposal's Now (unless
// AllowUnverified), taken within MaxAge before Now and not after it. A
// backup counts as verified when Verified is set and its VerifiedAt is
// unknown (zero) or lies between its Time and Now: one verified only after
// Now was not verified when the decision is made for, and one whose
// verification predates the backup itself cannot have verified it. It
// reports the age of the backup it found and recommends taking (or
// verifying) one when none qualifies, saying why the newest complete one
// does not count. Errors from the catalog, including provider.ErrNotFound, make
// the rule fail (the engine blocks). Safe for concurrent use if the
// catalog is.
//
// Make one with NewBackupRule; the zero value is not usable: its Check fails,
// so the engine blocks.
type BackupRule struct {
	catalog provider.BackupCatalog
	maxAge  time.Duration
	unver   bool
	actions actionSet
	kinds   []provider.Kind
	made    bool // set by NewBackupRule; the zero value fails closed
}

var _ Rule = (*BackupRule)(nil)

// NewBackupRule returns a BackupRule for cfg reading catalog (required). It
// fails with provider.ErrInvalid, naming the field, when cfg is invalid or
// catalog is nil (including a nil provider.BackupCatalogFunc).
func NewBackupRule(cfg BackupConfig, catalog provider.BackupCatalog) (*BackupRule, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if isNilSource(catalog) {
		return nil, invalidf("catalog", nil, "must not be nil")
	}
	acts, _ := newActionSet("actions", cfg.Actions, resourceActions) // validated above
	r := &BackupRule{made: true, catalog: catalog, maxAge: cfg.MaxAge, unver: cfg.AllowUnverified, actions: acts, kinds: slices.Clone(cfg.Kinds)}
	if r.maxAge == 0 {
		r.maxAge = DefaultBackupMaxAge
	}
	if len(r.kinds) == 0 {
		r.kinds = []provider.Kind{provider.KindInstance, provider.KindDatabase, provider.KindVolume}
	}
	return r, nil
}

// Name returns "backup".
func (r *BackupRule) Name() string { return "backup" }

// Check implements Rule.
func (r *BackupRule) Check(ctx context.Context, p Proposal) (Result, error) {
	if !r.made {
		return Result{}, notMade("BackupRule", "NewBackupRule")
	}
	if !r.actions.has(p.Action) || !slices.Contains(r.kinds, p.Resource.Kind) {
		return pass, nil
	}
	since := p.Now.Add(-r.maxAge)
	backups, err := r.catalog.Backups(ctx, p.Resource.ID, since)
	if err != nil {
		return Result{}, fmt.Errorf("backups of %q since %s: %w", p.Resource.ID, since.Format(time.RFC3339), err)
	}
	var best, unverified *provider.Backup
	var unverifiedWhy string
	for i := range backups {
		b := &backups[i]
		if b.ResourceID != p.Resource.ID {
			return Result{}, fmt.Errorf("catalog returned backup %q of %q for %q", b.ID, b.ResourceID, p.Resource.ID)
		}
		if b.Time.Before(since) || b.Time.After(p.Now) || !b.Complete {
			continue
		}
		if !r.unver {
			if why := unverifiedAt(b, p.Now); why != "" {
				if unverified == nil || b.Time.After(unverified.Time) {
					unverified, unverifiedWhy = b, why
				}
				continue
			}
		}
		if best == nil || b.Time.After(best.Time) {
			best = b
		}
	}
	if best != nil {
		age := best.Age(p.Now).Round(time.Minute)
		a := age.String()
		return Result{Outcome: Pass, Risk: RiskLow, Reason: "backup " + best.ID + " is " + a + " old",
			Factors: []string{"backup age " + a}}, nil
	}
	res := Result{
		Outcome:         Block,
		Risk:            RiskHigh,
		Reason:          fmt.Sprintf("no complete verified backup within %s", r.maxAge),
		Factors:         []string{"no backup within " + r.maxAge.String()},
		Recommendations: []string{"take a snapshot first"},
	}
	if r.unver {
		res.Reason = fmt.Sprintf("no complete backup within %s", r.maxAge)
	}
	if unverified != nil {
		age := unverified.Age(p.Now).Round(time.Minute)
		res.Reason += fmt.Sprintf(" (backup %s, %s old, %s)", unverified.ID, age, unverifiedWhy)
		res.Recommendations = []string{"verify backup " + unverified.ID + " or take a snapshot first"}
	}
	return res, nil
}

// unverifiedAt returns why b does not count as verified at now, or "" when
// it does: Verified, with VerifiedAt unknown (zero) or neither after now
// nor before the backup was taken.
func unverifiedAt(b *provider.Backup, now time.Time) string {
	switch {
	case !b.Verified:
		return "is not verified"
	case b.VerifiedAt.IsZero():
		return ""
	case b.VerifiedAt.After(now):
		return "is verified only after now, at " + b.VerifiedAt.UTC().Format(time.RFC3339Nano)
	case b.VerifiedAt.Before(b.Time):
		return "has a verification at " + b.VerifiedAt.UTC().Format(time.RFC3339Nano) +
			", before the backup was taken at " + b.Time.UTC().Format(time.RFC3339Nano)
	}
	return ""
}
