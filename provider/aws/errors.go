package aws

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/idlescale/idlescale/provider"
)

// ErrRolledBack is matched by the error of a Resize that failed part-way
// and whose previous state was restored (the instance has its previous type
// and is running again if it was running); the ResizeError carries the cause.
var ErrRolledBack = errors.New("aws: resize rolled back")

// ErrRollbackFailed is matched by the error of a Resize that failed part-way
// and whose rollback failed too: the instance may be stopped, or have the
// requested type, or both. Such an error matches none of the provider
// sentinels that mean nothing changed (provider.ChangedNothing:
// ErrThrottled, ErrNotFound, ErrConflict, ErrUnsupported, ErrInvalid,
// ErrDenied), nor the causes' context errors; the ResizeError's Err and
// RollbackErr keep the causes.
var ErrRollbackFailed = errors.New("aws: resize failed and its rollback failed")

// ResizeError reports an EC2 instance type change that failed after the
// instance was touched. When the rollback succeeded it matches ErrRolledBack
// and its cause (Err) with errors.Is and errors.As. The cause's provider
// sentinels that say nothing changed (provider.ChangedNothing) are matched
// only when the instance was stopped to begin with: one that was running
// was stopped and started again (Disrupted), which drops its public IP
// address (unless an Elastic IP) and its instance store, so something did
// change, and a caller that took it for nothing (the reaper releasing its
// approval) would stop and start it again at its next attempt, at every
// run for a cause that recurs (a denied or invalid modify). When the
// rollback failed it matches only ErrRollbackFailed, never a sentinel of
// either cause, since something changed and was not undone.
type ResizeError struct {
	// ID is the instance.
	ID string
	// From and To are the old and the requested instance types.
	From, To string
	// Step is the step that failed: "stop", "modify" or "start".
	Step string
	// Err is the failure.
	Err error
	// RollbackErr is the failure of the rollback, nil when the instance was
	// restored to From in its previous state; it ends with the state and
	// type the instance was left in, as a describe after the rollback
	// showed them (or that they are unknown).
	RollbackErr error
	// Disrupted is set when the instance was running and was stopped (or
	// may have been, a stop whose reply was lost) and started again.
	Disrupted bool
}

// Error implements error.
func (e *ResizeError) Error() string {
	if e.RollbackErr != nil {
		return fmt.Sprintf("aws: resize %q from %s to %s failed at %s: %v; rollback failed: %v", e.ID, e.From, e.To, e.Step, e.Err, e.RollbackErr)
	}
	return fmt.Sprintf("aws: resize %q from %s to %s failed at %s and was rolled back: %v", e.ID, e.From, e.To, e.Step, e.Err)
}

// Unwrap returns ErrRollbackFailed alone when the rollback failed (the
// causes stay in Err, RollbackErr and the message), and otherwise the
// failure and ErrRolledBack: the failure without its sentinels that say
// nothing changed when the instance was Disrupted.
func (e *ResizeError) Unwrap() []error {
	switch {
	case e.RollbackErr != nil:
		return []error{ErrRollbackFailed}
	case e.Disrupted:
		return []error{somethingChanged{e.Err}, ErrRolledBack}
	}
	return []error{e.Err, ErrRolledBack}
}

// somethingChanged is err, which errors.Is and errors.As reach, but for
// the provider sentinels that say nothing changed.
type somethingChanged struct{ err error }

func (e somethingChanged) Error() string { return e.err.Error() }

// Is reports whether err matches target, unless target says nothing
// changed.
func (e somethingChanged) Is(target error) bool {
	return !provider.ChangedNothing(target) && errors.Is(e.err, target)
}

// As finds target in err's chain.
func (e somethingChanged) As(target any) bool { return errors.As(e.err, target) }

// Error codes mapped onto the provider sentinels. Throttling codes are the
// SDK retryer's (retry.DefaultThrottleErrorCodes).
var (
	notFoundCodes = map[string]bool{
		"InvalidInstanceID.NotFound":  true,
		"InvalidInstanceID.Malformed": true,
		"InvalidSnapshot.NotFound":    true,
		"InvalidVolume.NotFound":      true,
		"ResourceNotFoundException":   true,
		"ResourceNotFound":            true,
		"LoadBalancerNotFound":        true,
	}
	conflictCodes = map[string]bool{
		"IncorrectInstanceState":    true,
		"IncorrectState":            true,
		"ResourceConflictException": true,
		"ScalingActivityInProgress": true,
		"ResourceInUse":             true,
		"VolumeInUse":               true,
		"OperationNotPermitted":     true,
	}
	// permissionCodes refuse a call for want of an IAM permission (or a
	// service the account has not opted in to).
	permissionCodes = map[string]bool{
		"AccessDenied":          true,
		"AccessDeniedException": true,
		"UnauthorizedOperation": true,
		"NotAuthorized":         true,
		"OptInRequired":         true,
	}
	// credentialCodes refuse the credentials themselves: unknown, expired,
	// missing or badly signed.
	credentialCodes = map[string]bool{
		"AuthFailure":                 true,
		"InvalidClientTokenId":        true,
		"UnrecognizedClientException": true,
		"MissingAuthenticationToken":  true,
		"IncompleteSignature":         true,
		"SignatureDoesNotMatch":       true,
		"InvalidSignatureException":   true,
		"ExpiredToken":                true,
		"ExpiredTokenException":       true,
		"RequestExpired":              true,
	}
	unsupportedCodes = map[string]bool{
		"UnsupportedOperation":                true,
		"UnsupportedHibernationConfiguration": true,
		"UnsupportedInstanceAttribute":        true,
	}
	invalidCodes = map[string]bool{
		"InvalidParameterValue":              true,
		"InvalidParameterValueException":     true,
		"InvalidParameterCombination":        true,
		"InvalidInstanceAttributeValue":      true,
		"InvalidParameter":                   true,
		"ValidationError":                    true,
		"ValidationException":                true,
		"InvalidParameterValue.InstanceType": true,
	}
)

// wrap returns err with the provider sentinel its AWS error code means, the
// SDK's error kept in the chain: "aws: OP "ID": not found: operation error
// EC2: ...". A context error stays a context error.
func wrap(op, id string, err error) error {
	if err == nil {
		return nil
	}
	prefix := "aws: " + op
	if id != "" {
		prefix += fmt.Sprintf(" %q", id)
	}
	if s := sentinel(err); s != nil && !errors.Is(err, s) {
		return fmt.Errorf("%s: %w: %w", prefix, s, err)
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// sentinel returns the provider sentinel err means, or nil.
func sentinel(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	var nf *lambdatypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return provider.ErrNotFound
	}
	var rc *lambdatypes.ResourceConflictException
	if errors.As(err, &rc) {
		return provider.ErrConflict
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		switch {
		case isThrottle(code):
			return provider.ErrThrottled
		case notFoundCodes[code]:
			return provider.ErrNotFound
		case conflictCodes[code]:
			return provider.ErrConflict
		case unsupportedCodes[code]:
			return provider.ErrUnsupported
		case invalidCodes[code]:
			return provider.ErrInvalid
		case permissionCodes[code], credentialCodes[code]:
			return provider.ErrDenied
		}
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusTooManyRequests:
			return provider.ErrThrottled
		case http.StatusUnauthorized, http.StatusForbidden:
			// A code not listed above (or an answer the SDK could not
			// parse): AWS answers 401 and 403 only for calls it refused.
			return provider.ErrDenied
		}
	}
	return nil
}

func isThrottle(code string) bool {
	_, ok := retry.DefaultThrottleErrorCodes[code]
	return ok
}

// isServerError reports whether err is an HTTP 5xx response.
func isServerError(err error) bool {
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() >= 500
}

// ctxErr returns ctx's error wrapped with op, or nil while ctx is live.
func ctxErr(ctx context.Context, op, id string) error {
	if err := ctx.Err(); err != nil {
		return wrap(op, id, err)
	}
	return nil
}

// attempts watches the attempts of one API call that changes something
// (Start, Stop, Terminate, an instance resize's stop, a function's
// update), made with its option: an attempt that may have been applied
// (its request reached AWS and no answer says it was refused: a server
// error, a lost reply, a timeout) and that the SDK then retried leaves
// the call's outcome unknown, whatever the last attempt answered (a
// throttle, a conflict with the state the first attempt left).
type attempts struct {
	last, earlier bool // the last attempt, and one before it, may have been applied
}

// stack adds the watch to one call's middleware stack, inside the SDK's
// retry loop.
func (a *attempts) stack(stack *middleware.Stack) error {
	m := middleware.FinalizeMiddlewareFunc("idlescale/attempts", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		a.earlier = a.earlier || a.last
		out, md, err := next.HandleFinalize(ctx, in)
		a.last = err != nil && mayHaveApplied(err)
		return out, md, err
	})
	if err := stack.Finalize.Insert(m, "Retry", middleware.After); err != nil {
		return stack.Finalize.Add(m, middleware.After) // no retry loop: every attempt is the last
	}
	return nil
}

func (a *attempts) ec2(o *ec2.Options)       { o.APIOptions = append(o.APIOptions, a.stack) }
func (a *attempts) lambda(o *lambda.Options) { o.APIOptions = append(o.APIOptions, a.stack) }
func (a *attempts) asg(o *autoscaling.Options) {
	o.APIOptions = append(o.APIOptions, a.stack)
}

// mayHaveApplied reports whether the request of an attempt that failed
// with err may have been carried out: not when AWS refused it (throttled,
// or any other client error). An attempt without an HTTP response (a
// connection reset or a timeout after the request was sent), which the
// SDK hands over as a response error of status 0, may have been.
func mayHaveApplied(err error) bool {
	if errors.Is(sentinel(err), provider.ErrThrottled) {
		return false
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil || re.Response.Response == nil {
		return true
	}
	status := re.HTTPStatusCode()
	return status == 0 || status >= 500
}

// write is wrap for the error of a call made with a: when an attempt
// before the last may have been applied, the error matches none of the
// provider sentinels that say nothing changed (the last attempt's
// throttle or conflict says nothing of the first), keeping the cause's
// message and a context error.
func (a *attempts) write(op, id string, err error) error {
	if err == nil || !a.earlier {
		return wrap(op, id, err)
	}
	return fmt.Errorf("aws: %s %q: retried after an attempt that may have been applied (its reply was lost): %w", op, id, noSentinel{err})
}
