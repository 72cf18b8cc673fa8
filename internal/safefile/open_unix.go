//go:build unix

package safefile

import (
	"os"
	"syscall"
)

// openFile opens path for reading without waiting: a named pipe put in
// place of the file after its Stat is opened at once (and then refused),
// not waited on until a writer comes. Reads of a regular file do not
// block either way.
func openFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
