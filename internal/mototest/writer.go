//go:build unix

package mototest

import (
	"strings"
	"sync"
)

// lockedWriter collects the server's output; the process writes while a
// failing Start reads.
type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b.Len() > 64<<10 { // keep the first 64 KiB: enough to explain a failure
		return len(p), nil
	}
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
