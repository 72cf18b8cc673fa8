// Package nilcheck tells a nil collaborator from a real one when it comes
// as an interface: a typed nil (a nil *safety.Engine passed as a Gate)
// passes an `== nil` test and fails on first use, so constructors and
// validators ask Is instead.
package nilcheck
