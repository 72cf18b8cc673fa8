package clock_test

import (
	"fmt"
	"time"

	bclock "github.com/benbjohnson/clock"

	"github.com/idlescale/idlescale/clock"
)

// waitThenReport is a host's own helper that names the library's clock type:
// it waits d on c and reports how long that took on c.
func waitThenReport(c clock.Clock, d time.Duration) string {
	start := c.Now()
	end := <-c.After(d)
	return fmt.Sprintf("waited %s", end.Sub(start))
}

// A fake clock from github.com/benbjohnson/clock drives anything that takes a
// clock.Clock: time moves only when the test says so.
func Example() {
	mock := bclock.NewMock()
	done := make(chan string)
	go func() { done <- waitThenReport(mock, 5*time.Minute) }()

	// Advance until the waiter has registered its timer and fired.
	for {
		select {
		case s := <-done:
			fmt.Println(s)
			return
		default:
			mock.Add(time.Minute)
		}
	}
	// Output: waited 5m0s
}
