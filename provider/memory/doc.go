// Package memory is an in-memory cloud: a complete provider for tests, dry
// runs and examples.
package memory
