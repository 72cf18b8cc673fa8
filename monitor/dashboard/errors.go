package dashboard

import "errors"

// ErrReadOnly means the dashboard was asked to change something without an
// Authorizer (WithAuthorizer).
var ErrReadOnly = errors.New("dashboard: read-only (no authorizer)")

// ErrForbidden means the Authorizer refused the request, or its CSRF
// token was missing or wrong.
var ErrForbidden = errors.New("dashboard: forbidden")
