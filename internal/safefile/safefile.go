// Package safefile opens the files a configuration names (a fleet file, a
// trace it replays) the way a library must when the name may come from
// someone else: only regular files, never more bytes than a limit, and
// never by opening something that blocks or does not end (a named pipe, a
// device). Files under /proc and /sys, which report a size that is not
// their content, are refused as empty or read only up to their reported
// size.
package safefile

import (
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/idlescale/idlescale/provider"
)

// Open opens the regular file at path for reading at most maxBytes bytes.
// The returned reader yields at most the size the file had when it was
// opened. A named pipe put in place of the file between its Stat and its
// open is opened without waiting for a writer, and refused. Errors: the
// *fs.PathError of os.Stat or os.OpenFile, or a
// *provider.InvalidError naming field when the file is not a regular
// file, is empty or is larger than maxBytes.
func Open(path, field string, maxBytes int64) (io.ReadCloser, error) {
	return open(field, maxBytes, func() (fs.FileInfo, error) { return os.Stat(path) }, func() (fs.File, error) { return openFile(path) })
}

// OpenFS is Open for the file name of fsys. Which names reach outside a
// root is fsys's to decide: an (*os.Root).FS refuses symbolic links that
// leave the root, an os.DirFS follows them. fsys's Open is called as it
// is: a named pipe put in place of the file between its Stat and its Open
// (by someone who may write in the directory) is waited on as fsys's Open
// waits (os.DirFS's and (*os.Root).FS's until a writer comes).
func OpenFS(fsys fs.FS, name, field string, maxBytes int64) (io.ReadCloser, error) {
	return open(field, maxBytes, func() (fs.FileInfo, error) { return fs.Stat(fsys, name) }, func() (fs.File, error) { return fsys.Open(name) })
}

func open(field string, maxBytes int64, stat func() (fs.FileInfo, error), openFile func() (fs.File, error)) (io.ReadCloser, error) {
	// Stat before opening: opening a named pipe blocks until a writer
	// comes.
	fi, err := stat()
	if err != nil {
		return nil, err
	}
	if err := check(field, fi, maxBytes); err != nil {
		return nil, err
	}
	f, err := openFile()
	if err != nil {
		return nil, err
	}
	// The name may have been replaced between the two calls.
	if fi, err = f.Stat(); err == nil {
		err = check(field, fi, maxBytes)
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return &limited{Reader: io.LimitReader(f, fi.Size()), f: f}, nil
}

func check(field string, fi fs.FileInfo, maxBytes int64) error {
	switch {
	case !fi.Mode().IsRegular():
		return provider.Invalid(field, describe(fi.Mode()), "is not a regular file: only regular files are read")
	case fi.Size() == 0:
		return provider.Invalid(field, "0 bytes", "is empty (files under /proc and /sys report no size and are not read)")
	case fi.Size() > maxBytes:
		return provider.Invalid(field, fmt.Sprintf("%d bytes", fi.Size()), fmt.Sprintf("is larger than the limit of %d bytes", maxBytes))
	}
	return nil
}

func describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "mode " + m.String()
}

type limited struct {
	io.Reader
	f fs.File
}

func (l *limited) Close() error { return l.f.Close() }
