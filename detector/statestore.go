package detector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNoState is returned by a StateStore's Load for a resource it holds no
// state for.
var ErrNoState = errors.New("detector: no state")

// StateStore keeps the per-resource states of a Tracker, opaque bytes
// keyed by resource ID. Load returns ErrNoState (possibly wrapped) when
// there is none; any other error makes the Tracker read the resource in
// full. Implementations must be safe for concurrent use, must not retain
// or modify the slice passed to Save, and may return a slice from Load
// that the caller owns. A Tracker never drops a state: the stores here
// and etcdstore.Store have a Delete with which a host drops the states of
// the resources that are gone.
type StateStore interface {
	Load(ctx context.Context, id string) ([]byte, error)
	Save(ctx context.Context, id string, state []byte) error
}

var (
	_ StateStore = (*MemoryStateStore)(nil)
	_ StateStore = (*FileStateStore)(nil)
)

// MemoryStateStore is a StateStore in memory. The zero value is ready to
// use; it is safe for concurrent use.
type MemoryStateStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

// Load returns a copy of id's state, or ErrNoState.
func (s *MemoryStateStore) Load(ctx context.Context, id string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[id]
	if !ok {
		return nil, ErrNoState
	}
	return append([]byte(nil), b...), nil
}

// Save stores a copy of state as id's.
func (s *MemoryStateStore) Save(ctx context.Context, id string, state []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string][]byte)
	}
	s.m[id] = append([]byte(nil), state...)
	return nil
}

// Delete drops id's state (a resource that is gone); deleting a missing
// state succeeds. A Tracker never drops a state itself: a host that
// keeps the store deletes the states of the resources that left its
// fleet, or the store grows with the fleet's churn.
func (s *MemoryStateStore) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
	return nil
}

// Len returns the number of states held.
func (s *MemoryStateStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// Bytes returns the total size of the states held, in bytes.
func (s *MemoryStateStore) Bytes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.m {
		n += len(b)
	}
	return n
}

// FileStateStore is a StateStore in a directory: one file per resource,
// named by the hex encoding of its ID (by its SHA-256 for an ID longer
// than 124 bytes, whose encoding a file name could not hold), written to
// a temporary file, synced and renamed so that a reader never sees half a
// state, nor does one after a crash or a power loss (see Save). It is
// safe for concurrent use by one process.
type FileStateStore struct {
	dir  string
	sync func(*os.File) error // (*os.File).Sync; a test's recorder
}

// NewFileStateStore returns a store in dir, which must exist and be a
// directory. It removes the temporary files that Saves of a process that
// crashed left in dir: regular files named ".tmp-" and digits, modified
// more than an hour before, on the file system's clock
// (read from a file it creates and removes); a file just written, by a
// Save in flight of another store on dir, and every other file are kept.
// Failing to remove them (a read-only dir) is no error.
func NewFileStateStore(dir string) (*FileStateStore, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("detector: file state store: %w", err)
	}
	if !fi.IsDir() {
		return nil, invalid("dir", dir, "must be a directory")
	}
	s := &FileStateStore{dir: dir, sync: (*os.File).Sync}
	s.removeStaleTemps()
	return s, nil
}

// staleTempAge is the age past which NewFileStateStore removes a
// temporary file a Save left: no Save takes that long, so the file is
// one of a process that crashed.
const staleTempAge = time.Hour

// tempPattern names the temporary files of Save: os.CreateTemp puts
// decimal digits for its "*".
const tempPattern = ".tmp-*"

// isTempName reports whether name is one os.CreateTemp makes of
// tempPattern.
func isTempName(name string) bool {
	digits, ok := strings.CutPrefix(name, ".tmp-")
	if !ok || digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// removeStaleTemps removes the temporary files older than staleTempAge.
// Their age is on the file system's clock (a probe file's modification
// time), as their times are, and the library reads no clock of its own.
func (s *FileStateStore) removeStaleTemps() {
	probe, err := os.CreateTemp(s.dir, tempPattern)
	if err != nil {
		return
	}
	pi, err := probe.Stat()
	_ = probe.Close()
	_ = os.Remove(probe.Name())
	if err != nil {
		return
	}
	before := pi.ModTime().Add(-staleTempAge)
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isTempName(e.Name()) {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(before) {
			_ = os.Remove(filepath.Join(s.dir, e.Name()))
		}
	}
}

// maxHexID is the longest ID whose hex encoding names its file: 254
// bytes with ".state", within the 255 a file name may have on the common
// file systems. Every ID whose hex name fits keeps it, so that a state
// saved under it before long IDs were hashed is still read. A longer ID
// (up to provider.MaxIDLength bytes: a Kubernetes workload's
// "namespace/kind/name" may have 330) names its file by its SHA-256,
// after "sha256-", which no hex encoding starts with.
const maxHexID = 124

func (s *FileStateStore) path(id string) string {
	if len(id) > maxHexID {
		sum := sha256.Sum256([]byte(id))
		return filepath.Join(s.dir, "sha256-"+hex.EncodeToString(sum[:])+".state")
	}
	return filepath.Join(s.dir, hex.EncodeToString([]byte(id))+".state")
}

// Load reads id's state, or returns ErrNoState when it has no file.
func (s *FileStateStore) Load(ctx context.Context, id string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.path(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoState
	}
	if err != nil {
		return nil, fmt.Errorf("detector: file state store: %w", err)
	}
	return b, nil
}

// Delete removes id's file (a resource that is gone); deleting a missing
// state succeeds. As for MemoryStateStore.Delete, the host deletes the
// states of the resources that left its fleet.
func (s *FileStateStore) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(s.path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("detector: file state store: %w", err)
	}
	return nil
}

// Save writes state as id's: to a temporary file in the directory,
// synced to disk before it is renamed to id's name, and the directory
// synced after (where the file system can), so that after a crash or a
// power loss id's file holds the old state or the new one, whole, never
// a torn or empty one. A failed write or sync of the file keeps the old
// state and is returned.
func (s *FileStateStore) Save(ctx context.Context, id string, state []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.save(id, state); err != nil {
		return fmt.Errorf("detector: file state store: %w", err)
	}
	return nil
}

func (s *FileStateStore) save(id string, state []byte) error {
	f, err := os.CreateTemp(s.dir, tempPattern)
	if err != nil {
		return err
	}
	_, err = f.Write(state)
	if err == nil {
		err = s.fsync(f) // the bytes on disk before a name points at them
	}
	if err := errors.Join(err, f.Close()); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), s.path(id)); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	return s.syncDir() // the rename on disk
}

// fsync syncs f to disk.
func (s *FileStateStore) fsync(f *os.File) error {
	if s.sync == nil { // a FileStateStore not made by NewFileStateStore
		return f.Sync()
	}
	return s.sync(f)
}

// syncDir syncs the directory, making a rename in it durable. Windows
// cannot sync a directory opened as a file; it is skipped there, and a
// file system that refuses to (EINVAL, ENOTSUP: some FUSE and network
// file systems) has made the rename as durable as it can.
func (s *FileStateStore) syncDir() error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return err
	}
	err = s.fsync(d)
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, errors.ErrUnsupported) {
		err = nil
	}
	return errors.Join(err, d.Close())
}
