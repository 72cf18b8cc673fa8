//go:build unix

package safefile_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/safefile"
	"github.com/idlescale/idlescale/provider"
)

// A named pipe put in place of a regular file between Open's Stat and its
// open is refused, not waited on: Open stats the name first, as opening a
// named pipe blocks until a writer comes, but then opened the name as it
// was by then, so someone who may write in the directory (of a fleet file,
// a trace) could swap a pipe in and hold the host's load for good. The
// name is now opened without blocking, and the pipe refused as any other.
func TestOpenNeverBlocksOnAPipeSwappedIn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	regular, pipe, name := filepath.Join(dir, "regular"), filepath.Join(dir, "pipe"), filepath.Join(dir, "trace")
	require.NoError(t, os.WriteFile(regular, []byte("timestamp,value\n"), 0o600))
	require.NoError(t, syscall.Mkfifo(pipe, 0o600))
	require.NoError(t, os.Symlink(regular, name))

	// Swap name between the regular file and the pipe, atomically, until
	// stopped.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tmp := filepath.Join(dir, "tmp")
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			target := regular
			if i%2 == 1 {
				target = pipe
			}
			_ = os.Remove(tmp)
			if os.Symlink(target, tmp) == nil {
				_ = os.Rename(tmp, name)
			}
		}
	})
	defer wg.Wait()
	defer close(stop)

	const attempts = 30_000
	opened := 0
	for i := 0; i < attempts; i++ {
		done := make(chan error, 1)
		go func() {
			r, err := safefile.Open(name, "trace", 1<<20)
			if err == nil {
				_, err = io.ReadAll(r)
				err = errors.Join(err, r.Close())
				opened++
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				require.ErrorIs(t, err, provider.ErrInvalid, "attempt %d: the pipe refused", i)
			}
		case <-time.After(20 * time.Second):
			// Release the open: a writer comes.
			if w, err := os.OpenFile(pipe, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				_ = w.Close()
			}
			err := <-done
			t.Fatalf("attempt %d: Open blocked for 20s opening the named pipe swapped in after its Stat (then: %v)", i, err)
		}
	}
	t.Logf("%d of %d opened the regular file", opened, attempts)
}
