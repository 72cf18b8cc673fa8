package monitor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"

	"github.com/idlescale/idlescale/provider"
)

// The FileConfig defaults.
const (
	DefaultMaxFileBytes = 64 << 20 // 64 MiB
	DefaultMaxFiles     = 5
)

// MaxFiles is the largest FileConfig.MaxFiles: a rotation renames every
// rotated file, and Files looks for each.
const MaxFiles = 10_000

// FileConfig configures a FileSink. Path is required; the zero value of
// every other field means its default.
type FileConfig struct {
	// Path is the file the events are appended to, one JSON object per
	// line. Required. Rotated files are Path.1 (the newest) to
	// Path.MaxFiles.
	Path string `json:"path" yaml:"path"`
	// MaxBytes is the size at which the file is rotated: a batch that
	// would make it larger goes to a fresh file (a single batch larger
	// than MaxBytes is written whole). Must be ≥ 0; 0 means the default.
	// Default: 64 MiB.
	MaxBytes int64 `json:"max_bytes,omitempty" yaml:"max_bytes,omitempty"`
	// MaxFiles is how many rotated files are kept besides Path; the oldest
	// is removed. Must be in [0, MaxFiles]; 0 means the default.
	// Default: 5.
	MaxFiles int `json:"max_files,omitempty" yaml:"max_files,omitempty"`
	// Sync makes every Write call fsync the file before it returns, so
	// that a crash loses no recorded event. Default: false (the operating
	// system writes the data back on its own schedule).
	Sync bool `json:"sync,omitempty" yaml:"sync,omitempty"`
}

// Validate returns a *provider.InvalidError naming a wrong field: an empty
// path, a negative size or count, or a count above MaxFiles.
func (c FileConfig) Validate() error {
	switch {
	case c.Path == "":
		return provider.Invalid("path", c.Path, "is required")
	case c.MaxBytes < 0:
		return provider.Invalid("max_bytes", c.MaxBytes, "must be ≥ 0; 0 means the default 64 MiB")
	case c.MaxFiles < 0:
		return provider.Invalid("max_files", c.MaxFiles, "must be ≥ 0; 0 means the default 5")
	case c.MaxFiles > MaxFiles:
		return provider.Invalid("max_files", c.MaxFiles, "must be at most 10000: each rotation renames every rotated file")
	}
	return nil
}

func (c FileConfig) withDefaults() FileConfig {
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxFileBytes
	}
	if c.MaxFiles == 0 {
		c.MaxFiles = DefaultMaxFiles
	}
	return c
}

// FileSink appends events to a JSON-lines file and rotates it by size. A
// file whose last line lacks its newline when the sink opens it (a host
// that crashed in the middle of a write) has that fragment, an event
// never wholly written, taken back, so that the events appended after it
// stay readable; a last line that is a whole event (cut just before its
// newline) is kept and its line ended. Each
// Write encodes its batch and writes it with one system call; a write cut
// short (a full disk) is taken back, the file truncated to its size before
// it, and the Log passes the whole batch again (when the file could not be
// truncated, or the write succeeded and its fsync failed, the file may
// hold part or all of the batch: Seq identifies the repeats). A failed rotation
// (a rotated file in the way, a full disk) fails that Write only: the sink
// keeps appending to Path, or reopens it at the next Write, and tries to
// rotate again, so it recovers once the cause is gone and the Log then
// writes the events it kept. ReadEvents reads the files back. A FileSink is safe for concurrent use. Make one with NewFileSink
// and Close it when done.
type FileSink struct {
	cfg    FileConfig
	mu     sync.Mutex
	f      *os.File // nil after a rotation that could not reopen Path: the next Write reopens it
	closed bool
	size   int64
	buf    []byte
}

var _ Sink = (*FileSink)(nil)

// NewFileSink opens (creating, or appending to) cfg.Path. It returns a
// *provider.InvalidError when cfg is invalid and the error of the file
// system when the file cannot be opened. It starts no goroutine.
func NewFileSink(cfg FileConfig) (*FileSink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &FileSink{cfg: cfg.withDefaults()}
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *FileSink) open() error {
	readable := true
	f, err := os.OpenFile(s.cfg.Path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if errors.Is(err, os.ErrPermission) {
		// A file the host may only write: appended to as it is.
		readable = false
		f, err = os.OpenFile(s.cfg.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	}
	if err != nil {
		return fmt.Errorf("monitor: open event file: %w", err)
	}
	st, err := f.Stat()
	if err == nil {
		s.size = st.Size()
		if readable {
			s.size, err = wholeLines(f, st.Size())
		}
	}
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("monitor: open event file: %w", err)
	}
	s.f = f
	return nil
}

// wholeLines takes back a last line without its newline (a writer that
// crashed in the middle of a write: an event never wholly written),
// or ends it when it is a whole JSON value (a write cut short just
// before its newline: an event ReadEvents reads),
// which the next batch would be appended to, making one unreadable line
// of the two; it returns the file's size after it.
func wholeLines(f *os.File, size int64) (int64, error) {
	const chunk = 64 << 10
	buf := make([]byte, min(size, chunk))
	for end := size; end > 0; {
		start := max(0, end-chunk)
		b := buf[:end-start]
		if _, err := f.ReadAt(b, start); err != nil {
			return 0, err
		}
		i := bytes.LastIndexByte(b, '\n')
		if i >= 0 && start+int64(i) == size-1 {
			return size, nil // ends with a whole line
		}
		if i >= 0 || start == 0 {
			keep := start + int64(i) + 1 // after the last newline; 0 for none
			frag := make([]byte, size-keep)
			if _, err := f.ReadAt(frag, keep); err != nil {
				return 0, err
			}
			if json.Valid(frag) {
				// A write cut short just before its newline: the event
				// is whole (ReadEvents reads it); end its line.
				if _, err := f.Write([]byte{'\n'}); err != nil {
					return 0, err
				}
				return size + 1, nil
			}
			if err := f.Truncate(keep); err != nil {
				// A file that may only be appended to: end the fragment's
				// line, so that at least the events after it are lines of
				// their own.
				if _, werr := f.Write([]byte{'\n'}); werr != nil {
					return 0, errors.Join(err, werr)
				}
				return size + 1, nil
			}
			return keep, nil
		}
		end = start
	}
	return size, nil
}

// Write appends evs as JSON lines, rotating the file first when they would
// make it larger than MaxBytes. It returns ErrClosed after Close, and the
// file system's error (wrapped) when the rotation or the write fails; the
// file then holds none of the batch (a write cut short is truncated away;
// see FileSink) and the Log passes it again, and the next Write tries
// again (reopening Path if the failed rotation left it closed).
func (s *FileSink) Write(ctx context.Context, evs []Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.f == nil {
		// A rotation failed after closing the file: reopen Path.
		if err := s.open(); err != nil {
			return err
		}
	}
	s.buf = s.buf[:0]
	for _, e := range evs {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("monitor: encode event %d: %w", e.Seq, err)
		}
		s.buf = append(append(s.buf, b...), '\n')
	}
	if s.size > 0 && s.size+int64(len(s.buf)) > s.cfg.MaxBytes {
		if err := s.rotate(); err != nil {
			return err
		}
	}
	n, err := s.f.Write(s.buf)
	if err != nil && n > 0 {
		// Cut short (a full disk): take the part back, so that the batch
		// the Log passes again starts a line of its own; a partial line
		// before it would make one unreadable line of the two.
		if terr := s.f.Truncate(s.size); terr == nil {
			n = 0
		} else {
			err = errors.Join(err, terr)
		}
	}
	s.size += int64(n)
	if err != nil {
		return fmt.Errorf("monitor: write event file: %w", err)
	}
	if s.cfg.Sync {
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("monitor: sync event file: %w", err)
		}
	}
	return nil
}

// rotate closes the file, shifts Path.k to Path.k+1 (removing the oldest)
// and Path to Path.1, and opens a fresh Path. When a step fails it reopens
// Path (appending) so that the sink keeps working; if even that fails,
// s.f stays nil and the next Write reopens it.
func (s *FileSink) rotate() error {
	err := s.f.Close()
	s.f = nil
	if err == nil {
		err = s.shift()
	}
	if err != nil {
		err = fmt.Errorf("monitor: rotate event file: %w", err)
		if oerr := s.open(); oerr != nil {
			return errors.Join(err, oerr)
		}
		return err
	}
	return s.open()
}

// shift renames the files for a rotation.
func (s *FileSink) shift() error {
	name := func(k int) string { return s.cfg.Path + "." + strconv.Itoa(k) }
	if err := os.Remove(name(s.cfg.MaxFiles)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for k := s.cfg.MaxFiles - 1; k >= 1; k-- {
		if err := os.Rename(name(k), name(k+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return os.Rename(s.cfg.Path, name(1))
}

// Files returns the names of the files that hold events, oldest first: the
// rotated ones that exist, then Path.
func (s *FileSink) Files() []string {
	var out []string
	for k := s.cfg.MaxFiles; k >= 1; k-- {
		name := s.cfg.Path + "." + strconv.Itoa(k)
		if _, err := os.Stat(name); err == nil {
			out = append(out, name)
		}
	}
	return append(out, s.cfg.Path)
}

// Close flushes and closes the file. Later Writes return ErrClosed; a
// second Close returns nil.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// ReadEvents reads JSON-lines events written by a FileSink, skipping blank
// lines. It returns the events read so far and an error naming the line
// when a line is not a valid event.
func ReadEvents(r io.Reader) ([]Event, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var out []Event
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(b, &e); err != nil {
			return out, fmt.Errorf("monitor: line %d: %w", line, err)
		}
		if err := e.Validate(); err != nil {
			return out, fmt.Errorf("monitor: line %d: %w", line, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("monitor: read events: %w", err)
	}
	return out, nil
}
