package prometheus

import (
	"errors"
	"fmt"
	"strings"

	"github.com/idlescale/idlescale/provider"
)

// Errors of the driver. Errors that fit a provider sentinel match it too:
// ErrBadQuery matches provider.ErrInvalid, a server answering 429 matches
// provider.ErrThrottled, one answering 401 or 403 provider.ErrDenied, an
// unknown resource provider.ErrNotFound and a
// metric without a template provider.ErrUnsupported. A call that ran out of
// time or was cancelled matches context.DeadlineExceeded or
// context.Canceled.
var (
	// ErrUnavailable means the server could not be reached (connection
	// refused, DNS, TLS) or answered 502, 503 or 504. Retrying later may
	// succeed. The *url.Error of the HTTP client stays in the chain, and
	// a *StatusError for a status: Prometheus's 503 for a query that ran
	// past its timeout says so in its Type and message.
	ErrUnavailable = errors.New("prometheus: server unavailable")
	// ErrBadQuery means Prometheus rejected a query as bad_data: a
	// template that renders to invalid PromQL, or a query over too many
	// points. It matches provider.ErrInvalid; the *v1.Error of
	// client_golang stays in the chain.
	ErrBadQuery = fmt.Errorf("%w: prometheus rejected the query", provider.ErrInvalid)
	// ErrSeveralSeries means a query that must return one series per
	// resource returned several: the template does not aggregate away a
	// label (several CPUs, devices or jobs). A *SeriesError carries them.
	ErrSeveralSeries = errors.New("prometheus: several series where one was expected")
	// ErrBadResult means the server answered with something the driver
	// cannot use: a result of the wrong type, native histograms where
	// numbers are expected (a template that forgot histogram_count), a
	// series without the ID label, a count that is negative or infinite,
	// or a range query's
	// points at other times than asked (a frontend that moved the query
	// by other than whole steps), which would shift values between steps,
	// or an answer larger than Config.MaxAnswerBytes, refused unread.
	// Step alignment, as Thanos' query frontend does it, moves nothing:
	// range queries are asked at multiples of their step.
	ErrBadResult = errors.New("prometheus: unusable result")
	// ErrPartialResult means the server answered with warnings, which say
	// the answer may lack data (a failed remote store, Thanos' partial
	// response), and Config.AcceptWarnings is not set: the answer is not
	// read, so that missing samples never read as low load.
	ErrPartialResult = errors.New("prometheus: answer with warnings, possibly partial")
)

// QueryError is a failed PromQL query. It matches Kind (one of the
// sentinels above, provider.ErrThrottled, or nil) and its cause Err (the
// *v1.Error, *url.Error or context error), both with errors.Is and
// errors.As.
type QueryError struct {
	// Query is the PromQL that was sent.
	Query string
	// Kind is the sentinel the failure maps onto; nil when none fits.
	Kind error
	// Err is the underlying error: client_golang's (*v1.Error, *url.Error),
	// a context error, or the driver's own description of the result it
	// refused (ErrBadResult, ErrPartialResult).
	Err error
}

// Error implements error.
func (e *QueryError) Error() string {
	if e.Kind != nil {
		return fmt.Sprintf("prometheus: query %s: %v: %v", e.Query, e.Kind, e.Err)
	}
	return fmt.Sprintf("prometheus: query %s: %v", e.Query, e.Err)
}

// Unwrap returns Kind and Err.
func (e *QueryError) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// SeriesError reports a query that returned several series where one was
// expected. It matches ErrSeveralSeries. Its message names the first
// five (seriesShown) series and counts the others.
type SeriesError struct {
	// Query is the PromQL that was sent.
	Query string
	// Series are the label sets returned, as Prometheus prints them.
	Series []string
}

// Error implements error.
func (e *SeriesError) Error() string {
	shown := e.Series
	more := ""
	if len(shown) > seriesShown {
		shown, more = shown[:seriesShown], fmt.Sprintf(" and %d more", len(e.Series)-seriesShown)
	}
	return fmt.Sprintf("prometheus: query %s returned %d series where one was expected (aggregate the extra labels in the template): %s%s",
		e.Query, len(e.Series), strings.Join(shown, ", "), more)
}

// seriesShown is how many series a SeriesError's message names.
const seriesShown = 5

// Is reports whether target is ErrSeveralSeries.
func (e *SeriesError) Is(target error) bool { return target == ErrSeveralSeries }

// StatusError is an HTTP status the driver maps onto a sentinel: 429
// (provider.ErrThrottled), 401 and 403 (provider.ErrDenied: the server,
// or a proxy in front of it, refused the credentials or their access)
// and 502, 503, 504 (ErrUnavailable). Prometheus also answers 503 to a
// query that ran past its --query.timeout (Type "timeout"): such an error
// matches ErrUnavailable too, and its message says the query timed out.
type StatusError struct {
	// Code is the HTTP status code.
	Code int
	// Type and Message are the errorType and error of Prometheus's
	// answer ("timeout", "query timed out in expression evaluation"),
	// empty when the answer was not Prometheus's error (a proxy's page).
	Type, Message string
}

// Error implements error.
func (e *StatusError) Error() string {
	if e.Type == "" && e.Message == "" {
		return fmt.Sprintf("prometheus: HTTP status %d", e.Code)
	}
	return fmt.Sprintf("prometheus: HTTP status %d: %s: %s", e.Code, e.Type, e.Message)
}

// Is reports whether target is the sentinel of the status.
func (e *StatusError) Is(target error) bool {
	switch e.Code {
	case 429:
		return target == provider.ErrThrottled
	case 401, 403:
		return target == provider.ErrDenied
	default:
		return target == ErrUnavailable
	}
}
