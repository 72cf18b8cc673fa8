package dashboard

import "errors"

// ErrReadOnly means the dashboard was asked to change something without an
// Authorizer (WithAuthorizer).
var ErrReadOnly = errors.New("dashboard: read-only (no authorizer)")

// ErrForbidden means the Authorizer refused the request, its CSRF token
// was missing or wrong, or it came from another origin.
var ErrForbidden = errors.New("dashboard: forbidden")
