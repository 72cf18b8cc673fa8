// Package syncbuf provides Buffer, a bytes.Buffer safe for concurrent use:
// the log sink of tests whose code under test logs from its own goroutines
// while the test reads what was logged.
package syncbuf
