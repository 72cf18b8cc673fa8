//go:build !unix

package safefile

import "os"

// openFile opens path for reading (no named pipes to wait on here).
func openFile(path string) (*os.File, error) { return os.Open(path) }
