package safefile_test

import (
	"io"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/safefile"
	"github.com/idlescale/idlescale/provider"
)

// Every kind of file that is not a regular one is refused, named for
// what it is, before it is opened.
func TestOpenFSRefusesEachKind(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"pipe":   {Mode: fs.ModeNamedPipe, Data: []byte("x")},
		"sock":   {Mode: fs.ModeSocket, Data: []byte("x")},
		"tty":    {Mode: fs.ModeDevice | fs.ModeCharDevice, Data: []byte("x")},
		"disk":   {Mode: fs.ModeDevice, Data: []byte("x")},
		"dir":    {Mode: fs.ModeDir},
		"other":  {Mode: fs.ModeIrregular, Data: []byte("x")},
		"plain":  {Data: []byte("12345")},
		"empty":  {Data: []byte{}},
		"bigger": {Data: []byte("123456")},
	}
	for name, want := range map[string]string{
		"pipe": "a named pipe", "sock": "a socket", "tty": "a character device", "disk": "a device",
		"dir": "a directory", "other": "mode ?---------",
		"empty": "0 bytes", "bigger": "6 bytes",
	} {
		_, err := safefile.OpenFS(fsys, name, "trace", 5)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, name)
		assert.Equal(t, "trace", ie.Field, name)
		assert.Contains(t, err.Error(), want, name)
	}
	// A file system whose Stat does not follow symbolic links.
	_, err := safefile.OpenFS(lstat{fsys, fs.ModeSymlink}, "plain", "trace", 5)
	require.ErrorContains(t, err, "a symbolic link")
	r, err := safefile.OpenFS(fsys, "plain", "trace", 5)
	require.NoError(t, err, "exactly the limit")
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, "12345", string(b))
	require.NoError(t, r.Close())
}

// lstat is a file system whose Stat reports mode for every name.
type lstat struct {
	fstest.MapFS
	mode fs.FileMode
}

func (l lstat) Stat(name string) (fs.FileInfo, error) {
	fi, err := fs.Stat(l.MapFS, name)
	return modeInfo{fi, l.mode}, err
}

type modeInfo struct {
	fs.FileInfo
	mode fs.FileMode
}

func (m modeInfo) Mode() fs.FileMode { return m.mode }

// swapped is a file system whose name is replaced between the stat and
// the open: stat sees a small regular file, the opened file is another.
type swapped struct {
	fstest.MapFS
	opened string
}

func (s swapped) Open(name string) (fs.File, error) { return s.MapFS.Open(s.opened) }

func (s swapped) Stat(name string) (fs.FileInfo, error) { return fs.Stat(s.MapFS, name) }

// A name replaced between the checks and the open is checked again on the
// file opened, and refused.
func TestOpenFSChecksTheFileOpened(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{"small": {Data: []byte("1")}, "huge": {Data: make([]byte, 100)}, "pipe": {Mode: fs.ModeNamedPipe, Data: []byte("x")}}
	for opened, want := range map[string]string{"huge": "100 bytes", "pipe": "a named pipe"} {
		_, err := safefile.OpenFS(swapped{MapFS: files, opened: opened}, "small", "trace", 10)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, opened)
		assert.Contains(t, err.Error(), want, opened)
	}
	r, err := safefile.OpenFS(swapped{MapFS: files, opened: "small"}, "small", "trace", 10)
	require.NoError(t, err)
	require.NoError(t, r.Close())
}
