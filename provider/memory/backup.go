package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/provider"
)

// AddBackup records backups of existing resources. Each backup is
// validated; its ID must be unique for its resource, among those stored and
// those of the call (else an error matching provider.ErrConflict). On error
// nothing is added.
func (c *Cloud) AddBackup(backups ...provider.Backup) (err error) {
	defer redact.Errorp(&err)
	for i, b := range backups {
		if err := b.Validate(); err != nil {
			return fmt.Errorf("memory: add backup: %w", provider.Within(fmt.Sprintf("backups[%d]", i), err))
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addBackupsLocked(backups)
}

// addBackupsLocked is AddBackup of valid backups; c.mu must be held for
// writing.
func (c *Cloud) addBackupsLocked(backups []provider.Backup) error {
	type key struct{ resource, id string }
	seen := make(map[key]bool, len(backups))
	for _, b := range backups {
		if _, ok := c.resources[b.ResourceID]; !ok {
			return notFound("add backup", b.ResourceID)
		}
		if slices.ContainsFunc(c.backups[b.ResourceID], func(x provider.Backup) bool { return x.ID == b.ID }) {
			return fmt.Errorf("memory: add backup %q: %w: backup exists", b.ID, provider.ErrConflict)
		}
		if seen[key{b.ResourceID, b.ID}] {
			return fmt.Errorf("memory: add backup %q: %w: duplicate ID in the call", b.ID, provider.ErrConflict)
		}
		seen[key{b.ResourceID, b.ID}] = true
	}
	for _, b := range backups {
		c.backups[b.ResourceID] = append(c.backups[b.ResourceID], b)
	}
	return nil
}

// Backups implements provider.BackupCatalog: the backups taken at or after
// since and no later than the clock's now, newest first.
func (c *Cloud) Backups(ctx context.Context, resourceID string, since time.Time) (_ []provider.Backup, err error) {
	defer redact.Errorp(&err)
	if err := provider.ValidateID(resourceID); err != nil {
		return nil, fmt.Errorf("memory: backups: %w", err)
	}
	if _, err := c.enter(ctx, OpBackups, resourceID); err != nil {
		return nil, err
	}
	now := c.clock.Now()
	c.mu.RLock()
	defer c.mu.RUnlock()
	if _, ok := c.resources[resourceID]; !ok {
		return nil, notFound("backups", resourceID)
	}
	out := []provider.Backup{}
	for _, b := range c.backups[resourceID] {
		if !b.Time.Before(since) && !b.Time.After(now) {
			out = append(out, b)
		}
	}
	slices.SortStableFunc(out, func(a, b provider.Backup) int { return b.Time.Compare(a.Time) })
	return out, nil
}
