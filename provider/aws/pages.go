package aws

import "fmt"

// pageTokens are the page tokens one paged read was given. The SDK's
// paginators ask for the page of whatever token the last answer gave, and
// stop only at an answer without one: a service (or a proxy) that gives a
// token it gave before would have the same pages asked, and their items
// added, again and again until ctx ends, forever on a ctx without a
// deadline. Such a read fails instead (next), naming the call.
type pageTokens map[string]bool

// next records token, the one an answer of call gave for its next page,
// and returns an error when it was given before.
func (s pageTokens) next(call string, token *string) error {
	if token == nil || *token == "" {
		return nil
	}
	if s[*token] {
		return fmt.Errorf("%s: the answer gave again a page token it gave before: its pages would be read again without end", call)
	}
	s[*token] = true
	return nil
}
