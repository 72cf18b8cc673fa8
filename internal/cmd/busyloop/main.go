// Command busyloop loads the machine's CPUs so that tests can be run as on
// a busy host: it runs -per-core spinning goroutines per CPU, each on its
// own OS thread, until it is killed, its standard input is closed (when
// -stdin is set), or -for has passed. `make stress` starts it around the
// etcd-backed tests.
//
//	busyloop -per-core 4 -for 30m
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"
)

func main() {
	perCore := flag.Int("per-core", 4, "spinning goroutines (and OS threads) per CPU")
	limit := flag.Duration("for", 30*time.Minute, "stop after this long (a safety net when the parent dies)")
	stdin := flag.Bool("stdin", false, "stop when standard input is closed")
	flag.Parse()
	if *perCore <= 0 || *limit <= 0 {
		fmt.Fprintln(os.Stderr, "busyloop: -per-core and -for must be positive")
		os.Exit(2)
	}
	n := runtime.NumCPU() * *perCore
	runtime.GOMAXPROCS(n + 1)
	for range n {
		go spin()
	}
	fmt.Fprintf(os.Stderr, "busyloop: %d spinning threads on %d CPUs\n", n, runtime.NumCPU())
	done := make(chan struct{})
	if *stdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			close(done)
		}()
	}
	select {
	case <-done:
	case <-time.After(*limit):
	}
}

// spin keeps one OS thread busy.
func spin() {
	runtime.LockOSThread()
	x := uint64(1)
	for {
		x = x*6364136223846793005 + 1442695040888963407
		if x == 0 {
			fmt.Println(x) // never: keeps the loop from being optimised away
		}
	}
}
