// Package redact removes credentials from the text of errors and log
// lines: passwords and tokens in URLs (also in the errors url.Parse
// returns for an address it cannot parse), authorization headers and
// their parts (a bearer token, a SigV4 credential and signature),
// labelled secrets (password=…, "SecretAccessKey": …, --token …, a
// kubeconfig's client-key-data, quoted or not, whole lists of them, and
// the fields of a struct or a map as Go's %v prints them; a URL query's
// ?key=… and &auth=…), a command line's -p PASSWORD (not a port: ssh -p
// 2222; also as %q and JSON print the arguments, ["mysql" "-p" "…"], and
// written -pPASSWORD to a MySQL or MariaDB client, 7-Zip or RAR), the password of a Go SQL data source name
// ("user:password@tcp(host)/db"), AWS access key IDs, GitHub, Slack and
// OpenAI-style tokens by their prefix (ghp_…, github_pat_…, xoxb-…,
// sk-…; the prefix is kept), long base64 runs such as session tokens,
// PEM private keys, and any
// secret value a driver knows (the password of its address, its static
// credentials). Drivers pass every error they return and every line they
// log through a Redactor, so that a credential that reached a message (a
// server echoing a header, an invalid address) is not printed.
//
// Redaction is textual and best effort beyond the secrets a Redactor is
// given: a secret that appears bare, is short and was not given is not
// recognised (nor is a password of digits only after -p, which reads as
// a port, nor one after the -p of a command whose -p takes no value,
// git, mkdir, cp, install, tar, rsync or ls, named as the command), nor is what follows a space in an unquoted URL's password
// or an unquoted labelled value (password=two words); quoted ones (as
// url.Error, %q and JSON print them) are masked whole. Where a text reads
// two ways, the reading that masks more is taken: "https://host:8443/a@b"
// may be a password that begins like a port ("http://user:8443/a@host"),
// so both are masked from the ":" to the "@".
package redact

import (
	"context"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// Mask replaces what is redacted, as url.URL.Redacted does.
const Mask = "xxxxx"

// minSecret is the shortest known secret that is searched for: shorter
// ones would blank out ordinary words. Patterns still find them in URLs
// and headers.
const minSecret = 4

// Redactor removes credentials from text. The zero value and nil redact
// by pattern only. A Redactor is safe for concurrent use.
type Redactor struct {
	secrets []string // longest first
}

// New returns a Redactor that also removes the given secret values, in
// their plain, URL-escaped and base64 forms. Empty secrets and secrets
// shorter than 4 bytes are ignored.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if len(s) < minSecret {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s), base64.StdEncoding.EncodeToString([]byte(s))} {
			if !slices.Contains(r.secrets, form) {
				r.secrets = append(r.secrets, form)
			}
		}
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	return r
}

// URLSecrets returns the credentials in the userinfo of the URL in s (the
// password, or the user name when there is no password, which is then
// often a token), in plain and unescaped form, and the base64 of
// "user:password" a Basic authorization header carries. It returns nil
// when s has no userinfo; s need not parse.
func URLSecrets(s string) []string {
	_, userinfo, _, ok := splitUserinfo(s)
	if !ok || userinfo == "" {
		return nil
	}
	unescape := func(v string) string {
		if u, err := url.PathUnescape(v); err == nil {
			return u
		}
		return v
	}
	user, pass, hasPass := strings.Cut(userinfo, ":")
	if !hasPass {
		return []string{user, unescape(user)}
	}
	return []string{
		pass, unescape(pass),
		base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)),
		base64.StdEncoding.EncodeToString([]byte(unescape(user) + ":" + unescape(pass))),
	}
}

// URL returns the address s with its userinfo masked ("http://user:xxxxx@host",
// "http://xxxxx@host" when there is only a user name, which is then often
// a token) and the values of credential query parameters masked. Unlike
// url.URL.Redacted it works on strings that do not parse, including ones
// without a scheme ("user:secret@host:9090"), so that an invalid address
// can be quoted in an error.
func URL(s string) string {
	if pre, userinfo, rest, ok := splitUserinfo(s); ok {
		s = pre + maskUserinfo(userinfo) + "@" + rest
	}
	return String(s)
}

// splitUserinfo splits s around the userinfo of the URL it holds: the
// text between the scheme's "//" (or the start, when there is none) and
// the last "@" before the path, query or fragment, as url.Parse reads it;
// when that finds none, the last "@" of s (a password holding a "/", "?"
// or "#", which url.Parse reads as the end of the host). ok is false when
// there is no "@".
func splitUserinfo(s string) (pre, userinfo, rest string, ok bool) {
	start := 0
	if i := strings.Index(s, "//"); i >= 0 && i < strings.LastIndex(s, "@") {
		start = i + 2
	}
	at := strings.LastIndexByte(authority(s[start:]), '@')
	if at < 0 {
		at = strings.LastIndexByte(s[start:], '@')
	}
	if at < 0 {
		return "", "", "", false
	}
	at += start
	return s[:start], s[start:at], s[at+1:], true
}

// authority returns the start of the URL tail t (what follows "scheme://")
// up to its path, query or fragment.
func authority(t string) string {
	if i := strings.IndexAny(t, "/?#"); i >= 0 {
		return t[:i]
	}
	return t
}

// maskURLs masks the userinfo of the URLs in s, each one from its
// "scheme://" to the end of its word, or to its closing quote when a
// quote opens and closes it or another URL that it opened (a quoted URL,
// as url.Error and %q print one, may hold a space or an escaped quote).
//
// The userinfo is what url.Parse reads: up to the last "@" before the
// path, query or fragment. When that finds none and the URL begins
// "user:…" (a password, or a host and a port), it is up to the last "@"
// of the URL: a password holding a "/", "?" or "#", which url.Parse reads
// as the end of the host, or a path with an "@" after a port (both are
// masked). A URL without one is masked from its port on when that port
// is not one (see isPorts: url.Parse's "invalid port", what a "#" in a
// password leaves of an address), or when url.Parse refused the URL (its
// error quotes it after "parse "): what a "#" left of a password that
// begins like a port. A user holding "[" is an IPv6 host.
func maskURLs(s string) string {
	var b strings.Builder
	done := 0  // s[:done] is written to b
	qend := -1 // the end of the last quoted URL's quotes
	// The URLs of one word (or one quoted string) end at the same place
	// and share its last "@": each is searched once, not once for each
	// URL in it, so that a long word of URLs costs its length.
	wend := -1                // the end of the last word searched
	lastEnd, lastAt := -1, -1 // a URL's end, and the last "@" before it (-1: none) from the first URL that ended there
	for i := 0; ; {
		k := strings.Index(s[i:], "://")
		if k < 0 {
			break
		}
		k += i
		start := k + 3
		i = start // a URL within this one's word or quotes is searched too
		j := k    // the scheme's start: a letter, then letters, digits, "+", "-", "."
		for j > 0 && isSchemeByte(s[j-1]) {
			j--
		}
		for j < k && !isLetter(s[j]) {
			j++
		}
		if j == k || j < done {
			continue
		}
		if start >= wend {
			wend = start + wordEnd(s[start:])
		}
		end := wend
		refused := false // quoted by url.Parse's error
		if j > 0 && (s[j-1] == '"' || s[j-1] == '\'') {
			q, n := s[j-1], 0
			for j-2-n >= 0 && s[j-2-n] == '\\' {
				n++
			}
			if e, closed := closeQuote(s, start, q, n); closed {
				qend = e
			}
			refused = strings.HasSuffix(s[:j-1-n], "parse ")
		}
		if start < qend {
			end = qend
		}
		t := s[start:end]
		auth := authority(t)
		at := strings.LastIndexByte(auth, '@')
		user, _, hasColon := strings.Cut(auth, ":")
		colon := hasColon && !strings.ContainsAny(user, "[]")
		if at < 0 && colon {
			// The last "@" of t: the one of the URL before that ended
			// at end, when it is in t.
			if end != lastEnd {
				lastEnd, lastAt = end, strings.LastIndexByte(t, '@')
				if lastAt >= 0 {
					lastAt += start
				}
			}
			at = -1
			if lastAt >= start {
				at = lastAt - start
			}
		}
		switch {
		case at >= 0:
			b.WriteString(s[done:start])
			b.WriteString(maskUserinfo(t[:at]))
			done = start + at
		case colon && (refused || !isPorts(auth[len(user)+1:])):
			b.WriteString(s[done : start+len(user)+1])
			b.WriteString(Mask)
			done = end
		}
	}
	return finish(&b, s, done)
}

// maskDSNs masks the password of Go SQL data source names without a
// scheme, as MySQL's driver reads them: "user:password@tcp(host:3306)/db",
// also @unix(…) and any other protocol. The password runs from the first
// ":" of the word to the "@" before the protocol, so that one holding a
// ":" or an "@" is masked whole, and so is one holding a quote, "<", ">"
// or "`" (dsnWordStart). A quoted value after a quoted name
// ("password":"p@ss(wd) x") keeps its opening quote, so that labelled
// finds the value quoted and masks it whole.
//
// Each search back for the word's start stops where the one of an
// earlier "@" began, taking its answer, and the ":"s are found in one
// pass forward: a word of many "@x(" without a ":" is searched once, not
// once for each.
func maskDSNs(s string) string {
	var b strings.Builder
	done := 0 // s[:done] is written to b
	word := backScan{from: -1}
	spaced := backScan{from: -1}
	var cols colons
	for i := 0; ; {
		k := strings.IndexByte(s[i:], '@')
		if k < 0 {
			break
		}
		at := i + k
		i = at + 1
		p := i // the protocol: letters and digits, then "("
		for p < len(s) && (isLetter(s[p]) || s[p] >= '0' && s[p] <= '9') {
			p++
		}
		if p == i || p == len(s) || s[p] != '(' {
			continue
		}
		start := word.find(at, done, func(i int) bool { return dsnWordStart(s, i) }) // the word's start
		colon := cols.index(s, start, at)
		if colon < 0 {
			// No ":" after the quote that seemed to open the word: it
			// may be the password's ("user:\"pw@tcp(h)/db"), so the
			// word runs back to a space.
			start = spaced.find(at, done, func(i int) bool { return isSpace(s[i]) })
			colon = cols.index(s, start, at)
		}
		if colon < 0 || colon+1 == at {
			continue // a user alone, or an empty password
		}
		from := colon + 1
		if q, _, body, ok := openQuote(s, from); ok && body < at && colon > 0 && s[colon-1] == q {
			// A quoted name and a quoted value ("password":"p@ss(wd) x"):
			// the value's quote stays, so that the label's mask reads
			// the value whole.
			from = body
		}
		b.WriteString(s[done:from])
		b.WriteString(Mask)
		done = at
	}
	return finish(&b, s, done)
}

// backScan finds the start of the word that ends at an index: just after
// the last index before it at which stop holds, or the lower bound,
// whichever is later. It remembers its last answer, so that the search
// for a later end stops at the earlier one when it gets there.
type backScan struct {
	from, start int // the last search: from its end from, the start it found
}

// find returns the start of the word that ends at end, not before lo;
// end and lo never decrease from one call to the next.
func (b *backScan) find(end, lo int, stop func(int) bool) int {
	i := end
	for i > lo && !stop(i-1) {
		if i == b.from { // no stop in s[b.from:end]: the same word
			i = max(b.start, lo)
			break
		}
		i--
	}
	b.from, b.start = end, i
	return i
}

// colons finds the first ":" of a part of a text, from the ":"s found
// so far in a search forward that each part's end extends.
type colons struct {
	at      []int // the indices of the ":"s of s[:scanned]
	scanned int
}

// index returns the index in s of the first ":" of s[start:end], or -1;
// end never decreases from one call to the next.
func (c *colons) index(s string, start, end int) int {
	for c.scanned < end {
		k := strings.IndexByte(s[c.scanned:end], ':')
		if k < 0 {
			c.scanned = end
			break
		}
		c.at = append(c.at, c.scanned+k)
		c.scanned += k + 1
	}
	if j, _ := slices.BinarySearch(c.at, start); j < len(c.at) && c.at[j] < end {
		return c.at[j]
	}
	return -1
}

// dsnWordStart reports whether s[i] ends the word of a DSN whose "@" is
// after it: a space, or a quote, "<", ">" or "`" that opens a word (at the
// start, or after a space or one of "=:,([{"). A quote inside a word is
// part of the password ("user:pa\"ss@tcp(h)/db"), which would otherwise
// show whole.
func dsnWordStart(s string, i int) bool {
	switch s[i] {
	case '"', '\'', '`', '<', '>':
		return i == 0 || isSpace(s[i-1]) || strings.IndexByte("=:,([{", s[i-1]) >= 0
	}
	return isSpace(s[i])
}

// isSpace reports whether c is ASCII white space.
func isSpace(c byte) bool { return strings.IndexByte(" \t\n\v\f\r", c) >= 0 }

// finish returns the text a masking pass built: s itself when it masked
// nothing (done 0), else b's text followed by s[done:], the part of s not
// yet written to b.
func finish(b *strings.Builder, s string, done int) string {
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// wordEnd returns the length of the word t begins with: up to a space, a
// '"', "<", ">" or "`".
func wordEnd(t string) int {
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case ' ', '\t', '\n', '\v', '\f', '\r', '"', '<', '>', '`':
			return i
		}
	}
	return len(t)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isSchemeByte(c byte) bool {
	return isLetter(c) || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'
}

// closeQuote finds the end of a quoted string whose body starts at
// s[from:], opened by the quote q after n backslashes (n > 0 when the
// string is quoted within another, as %q prints JSON: \"…\"). Its
// closing quote is q after a run of m backslashes where m mod 2n+2 is n:
// the others are escaped backslashes and quotes of the body. It returns
// the index of the closing quote's first backslash (of q when n is 0),
// or len(s) and false when s ends first.
func closeQuote(s string, from int, q byte, n int) (int, bool) {
	m := 0
	for i := from; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			m++
			continue
		case s[i] == q && m%(2*n+2) == n:
			return i - n, true
		}
		m = 0
	}
	return len(s), false
}

// openQuote reports whether s[i:] opens a quoted string: n backslashes
// and a quote q ('"' or "'"); body is where the string's body starts.
func openQuote(s string, i int) (q byte, n, body int, ok bool) {
	for i+n < len(s) && s[i+n] == '\\' {
		n++
	}
	if i+n < len(s) && (s[i+n] == '"' || s[i+n] == '\'') {
		return s[i+n], n, i + n + 1, true
	}
	return 0, 0, i, false
}

// netURLQuotes are the reasons in net/url's errors that quote part of the
// address they could not parse, which may be part of its password: the
// port it could not read, an invalid escape, a character a host cannot
// hold.
var netURLQuotes = []string{"invalid port ", "invalid URL escape ", "invalid character "}

// maskNetURLQuotes masks what net/url's errors quote from an address (see
// netURLQuotes), whatever it is.
func maskNetURLQuotes(s string) string {
	for _, reason := range netURLQuotes {
		var b strings.Builder
		done := 0 // s[:done] is written to b
		for i := 0; ; {
			k := strings.Index(s[i:], reason)
			if k < 0 {
				break
			}
			i += k + len(reason)
			q, n, body, ok := openQuote(s, i)
			if !ok || q != '"' { // strconv.Quote's; JSON's errors quote a character in "'"
				continue
			}
			end, _ := closeQuote(s, body, q, n)
			b.WriteString(s[done:body])
			b.WriteString(Mask)
			done, i = end, end
		}
		s = finish(&b, s, done)
	}
	return s
}

// maskLabelled masks the values labelled finds in s. What follows a
// plural label in prose is searched again from the word after it, which
// may be a label itself ("credentials: password: …").
func maskLabelled(s string) string {
	var b strings.Builder
	done := 0            // s[:done] is written to b
	open, opened := 0, 0 // s[:opened] leaves open "{" and "["
	for from := 0; from < len(s); {
		loc := labelled.FindStringSubmatchIndex(s[from:])
		if loc == nil {
			break
		}
		name, value := from+loc[3], from+loc[1] // the name's end, the value's start
		list := loc[4] >= 0
		_, _, _, quoted := openQuote(s, value)
		if loc[3] > loc[2] && !list && !quoted && pluralProse(s[name:value]) {
			from = value
			continue
		}
		// Go prints a struct's or a map's string as it is, spaces first.
		open += depth(s[opened : from+loc[0]])
		opened = from + loc[0]
		goValue := s[name] == ':' && open > 0
		if goValue && !list {
			value = name + 1
		}
		mfrom, mto, closer, ok := valueSpan(s, value, list, goValue)
		if goValue && list {
			// A string that begins with "[" reads as a list.
			if f := goFieldEnd(s, mto); f > mto {
				mto, closer, ok = f, "", true
			}
		}
		if !ok {
			from = value
			continue
		}
		b.WriteString(s[done:mfrom])
		b.WriteString(Mask)
		b.WriteString(closer)
		done, from = mto, mto
	}
	return finish(&b, s, done)
}

// maskFlags masks the values re (flag) finds in s.
func maskFlags(s string, re *regexp.Regexp) string {
	var b strings.Builder
	done := 0 // s[:done] is written to b
	for _, loc := range re.FindAllStringIndex(s, -1) {
		if loc[0] < done {
			continue
		}
		mfrom, mto, closer, ok := valueSpan(s, loc[1], false, false)
		if !ok {
			continue
		}
		mto = clauseEnd(s, mfrom, mto)
		b.WriteString(s[done:mfrom])
		b.WriteString(Mask)
		b.WriteString(closer)
		done = mto
	}
	return finish(&b, s, done)
}

// maskShortFlags masks the password a command line gives with -p (see
// shortFlag): the word or quoted string after "-p" and a space (mysql -u
// root -p PASSWORD, sshpass -p PASSWORD), or after "-p" as a quoted
// argument and a space or a comma (["mysql" "-p" "PASSWORD"]), unless it
// reads as a port (ssh -p 2222, docker run -p 8080:80, see portLike),
// another flag or an absolute or home path (mkdir -p /var/lib/x), or
// the command's -p takes no value (git log -p HEAD, see noValue); and
// the value written against the flag (-pPASSWORD) when the command is one
// that takes its password so (see attachedPassword).
func maskShortFlags(s string) string {
	var b strings.Builder
	done := 0 // s[:done] is written to b
	cmd := newCommand(s)
	for _, loc := range shortFlag.FindAllStringIndex(s, -1) {
		flag := loc[1] - len("-p") // where "-p" starts
		cmd.readTo(flag)
		if loc[0] < done {
			continue
		}
		q := s[loc[0]:flag] // the flag's opening quote, with its backslashes
		if q != "" && strings.IndexByte(" \t\n\v\f\r[,(", q[0]) >= 0 {
			q = q[1:]
		}
		v, sep := loc[1], false
		if q != "" && strings.HasPrefix(s[v:], q) {
			v += len(q) // "-p" is an argument of its own
		}
		for v < len(s) && (s[v] == ' ' || s[v] == '\t' || s[v] == ',' && (q != "" || sep)) {
			v, sep = v+1, true
		}
		if !sep && (v == len(s) || v != loc[1] || !cmd.password) {
			continue
		}
		if sep && cmd.noValue() {
			continue
		}
		mfrom, mto, closer, ok := valueSpan(s, v, false, false)
		if !ok {
			continue
		}
		mto = clauseEnd(s, mfrom, mto)
		if sep && (portLike(s[mfrom:mto]) || strings.IndexByte("-/~", s[mfrom]) >= 0) {
			continue
		}
		b.WriteString(s[done:mfrom])
		b.WriteString(Mask)
		b.WriteString(closer)
		done = mto
	}
	return finish(&b, s, done)
}

// clauseEnd returns where an unquoted value s[from:to] ends without the
// ":" that ends a Go error's clause ("mkdir -p build/out: permission
// denied") or the "]" that ends a printed slice ("[mysql -p x]").
func clauseEnd(s string, from, to int) int {
	if to-from > 1 && s[from] != '"' && s[from] != '\'' && (s[to-1] == ':' || s[to-1] == ']') {
		return to - 1
	}
	return to
}

// command reads a text's command words forward for maskShortFlags, in
// one pass however many flags it holds: the words of the command since
// the last ";", "|", "&" or line, as a shell, %q or JSON prints them
// (without their quotes, brackets and commas).
type command struct {
	s        string
	pos      int      // s[:pos] is read
	word     int      // where the word being read starts; -1 between words
	words    []string // the command's words so far
	arg      int      // the index in words of the last that is no flag; -1 for none
	password bool     // a word names a client that takes -pPASSWORD (see attachedPassword)
}

func newCommand(s string) *command { return &command{s: s, word: -1, arg: -1} }

// readTo reads s up to i, which ends a word.
func (c *command) readTo(i int) {
	for ; c.pos < i; c.pos++ {
		switch ch := c.s[c.pos]; ch {
		case ';', '|', '&', '\n':
			c.end(c.pos)
			c.words, c.arg, c.password = c.words[:0], -1, false
		case ',', ' ', '\t', '\v', '\f', '\r':
			c.end(c.pos)
		default:
			if c.word < 0 {
				c.word = c.pos
			}
		}
	}
	c.end(i)
}

// end ends the word being read at i.
func (c *command) end(i int) {
	if c.word < 0 {
		return
	}
	w := strings.Trim(c.s[c.word:i], `\"'[]()`)
	c.word = -1
	if w == "" {
		return
	}
	if !strings.HasPrefix(w, "-") {
		c.arg = len(c.words)
	}
	c.words = append(c.words, w)
	c.password = c.password || attachedPassword(path.Base(w))
}

// noValue reports whether the -p after the words read belongs to a
// command whose -p takes no value: git (--patch, --paginate), mkdir
// (--parents), cp, install, tar and rsync (--preserve, --perms) and ls.
// The command is the word before the flags that precede -p (or, for git,
// before its subcommand), itself not a flag's value: in "mysql -D git -p
// x", git is the value of -D.
func (c *command) noValue() bool {
	named := func(k int) bool {
		return k >= 0 && (k == 0 || !strings.HasPrefix(c.words[k-1], "-"))
	}
	k := c.arg
	if !named(k) {
		return false
	}
	switch path.Base(c.words[k]) {
	case "git", "mkdir", "cp", "install", "tar", "rsync", "ls":
		return true
	}
	return named(k-1) && path.Base(c.words[k-1]) == "git"
}

// attachedPassword reports whether the command name takes its password
// written against -p (-pPASSWORD): a MySQL or MariaDB client (mysql,
// mysqldump, mariadb, mariadb-dump, ...), 7-Zip or RAR. Elsewhere "-p"
// and a word is a flag of its own (find -print, gcc -pthread, ls -pla).
func attachedPassword(name string) bool {
	switch {
	case strings.HasPrefix(name, "mysql"), strings.HasPrefix(name, "mariadb"):
		return true
	}
	switch name {
	case "7z", "7za", "7zr", "7zz", "rar", "unrar":
		return true
	}
	return false
}

// valueSpan finds the value that starts at s[v:], a label's: s[mfrom:mto]
// is to be replaced by Mask and closer (mto is where the value ends even
// when ok is false, for an empty value).
//
// A quoted value ends at its closing quote (the end of s when there is
// none), whatever it holds, when a space, a delimiter or the end follows
// that quote (in Go's print of a struct or a map, goValue: the next field
// or the end); else ("a"b) it is masked as unquoted, and at least up to
// that quote. A list (the label's "[" before v) ends at its "]", with all
// its elements, quoted or not (an unquoted one ends at a "]" before a
// space, a "}", a "]", a delimiter or the end). An unquoted value in Go's
// print of a struct or a map ends at the next field (" Name:") or the
// last "}" or "]"; any other at a space, a quote or a delimiter
// ("&,;<>").
func valueSpan(s string, v int, list, goValue bool) (mfrom, mto int, closer string, ok bool) {
	q, n, body, quoted := openQuote(s, v)
	if !quoted {
		end := v
		switch {
		case list:
			for i := v; i < len(s); i++ {
				if s[i] == ']' && (i+1 == len(s) || strings.IndexByte(" \t\r\n}]),;\"'", s[i+1]) >= 0) {
					return v, i + 1, "]", i > v
				}
			}
			return v, len(s), "", v < len(s)
		default:
			for end < len(s) && strings.IndexByte(" \t\n\v\f\r\"'&,;<>", s[end]) < 0 {
				end++
			}
			if goValue {
				end = max(end, goFieldEnd(s, v))
			}
		}
		return v, end, "", end > v
	}
	end, closed := closeQuote(s, body, q, n)
	if !closed {
		return body, len(s), "", true
	}
	after := end + n + 1 // after the closing quote
	if list {
		for i := after; i < len(s); {
			if s[i] == ']' {
				return body, i + 1, s[end:after] + "]", true
			}
			if q, n, body, ok := openQuote(s, i); ok {
				i, _ = closeQuote(s, body, q, n)
				i += n + 1
				continue
			}
			i++
		}
		return body, len(s), "", true
	}
	var ends bool
	if goValue {
		next := goFieldEnd(s, after)
		ends = next == after || s[after:next] == ","
	} else {
		ends = after == len(s) || strings.IndexByte(" \t\n\v\f\r,;&)}]\"'\\/<>", s[after]) >= 0
	}
	if ends {
		return body, end, "", end > body
	}
	_, mto, _, _ = valueSpan(s, after, false, goValue)
	return v, max(mto, after), "", true
}

// goFieldEnd returns where a value that starts at s[v:] in Go's print of
// a struct or a map ends: at the next field (" Name:"), else at the last
// "}" or "]", else at the end of s.
func goFieldEnd(s string, v int) int {
	if loc := goField.FindStringIndex(s[v:]); loc != nil {
		return v + loc[0]
	}
	if i := strings.LastIndexAny(s[v:], "}]"); i >= 0 {
		return v + i
	}
	return len(s)
}

// depth returns how many "{" and "[" s leaves open.
func depth(s string) int {
	d := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{', '[':
			d++
		case '}', ']':
			d--
		}
	}
	return d
}

// pluralProse reports whether sep, what comes between a plural label and
// its value, is a ":" and spaces alone: an error's wrapping, not a value.
func pluralProse(sep string) bool { return strings.TrimLeft(sep, ": \t\n\f\r") == "" }

// isPorts reports whether s, what follows a URL's first host and ":", is
// a port, or a port and more hosts with their ports, as PostgreSQL and
// MongoDB take them ("5432,h2:5432,h3").
func isPorts(s string) bool {
	port, hosts, _ := strings.Cut(s, ",")
	for hosts != "" {
		var h string
		h, hosts, _ = strings.Cut(hosts, ",")
		if _, p, ok := strings.Cut(h, ":"); ok && !isPort(p) {
			return false
		}
	}
	return isPort(port)
}

// isPort reports whether s is a port: 1 to 5 digits.
func isPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func maskUserinfo(userinfo string) string {
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return user + ":" + Mask
	}
	return Mask
}

var (
	// labelled finds a credential written as name=value or name: value
	// (headers, query strings, JSON, YAML, INI files, environment dumps,
	// --name=value, Go's %v of a struct or a map), the name and the value
	// quoted or not ('"' or "'", also escaped: JSON quoted again by %q),
	// the value also a list (a header map printed by Go, [value …], or as
	// JSON). A name's words are joined by "_", "-" or nothing. A plural
	// name (credentials, tokens) counts with "=", quotes or a list only
	// (credentials=…, "tokens": …, passwords: "…", Tokens:[…]): a bare
	// "credentials: word" is how Go wraps errors ("get credentials: failed
	// to refresh cached credentials"), see pluralProse. The match ends
	// where the value starts; maskLabelled finds where it ends. The
	// names key and auth count in a URL's query only (?key=…, &auth=…),
	// as Google's and Firebase's APIs take them: elsewhere (sort key=name)
	// they name no secret.
	labelled = regexp.MustCompile(`(?i)(?:x-amz-security-token|x-amz-credential|x-amz-signature|aws_secret_access_key|aws_access_key_id|aws_session_token|secret[_-]?access[_-]?key|access[_-]?key[_-]?id|session[_-]?token|client[_-]?secret|client[_-]?key[_-]?data|refresh[_-]?token|access[_-]?token|id[_-]?token|api[_-]?key|[?&](?:key|auth)|apikey|x-api-key|private[_-]?key|passphrase|passwd|password|pwd|secret|token|credential|signature|sig|cookie|set-cookie)(s?)(?:\\*["'])?\s*[:=]\s*(\[\s*)?`)
	// goField finds the next field of a struct or map printed by Go's %v
	// or %+v (" Name:"), where a value holding a space ends.
	goField = regexp.MustCompile(`\s[A-Za-z_][A-Za-z0-9_.\-]*:`)
	// flag finds a credential given to a command line's long flag with a
	// space before it (--password VALUE, quoted or not); labelled finds
	// --password=VALUE. Whatever word or quoted string follows the flag
	// is masked (see valueSpan).
	flag = regexp.MustCompile(`(?i)--(?:password|passphrase|token|secret|api[_-]?key)\s+`)
	// shortFlag finds a command line's -p flag, as a word of its own or
	// an argument quoted as %q and JSON print them ("-p", also quoted
	// again); maskShortFlags finds its password.
	shortFlag = regexp.MustCompile(`(?:^|[\s\[,(])(?:\\*["'])?-p`)
	// vendorToken finds tokens whose prefix says what they are, with no
	// label before them: GitHub's (ghp_, gho_, ghu_, ghs_, ghr_ and 30
	// or more letters and digits; github_pat_ and 22 or more), Slack's
	// (xoxb-, xoxp-, xoxa-, xoxe-, xoxo-, xoxr-, xoxs- and 10 or more)
	// and OpenAI-style keys (sk-, sk-proj-, … and 20 or more, one of
	// whose words is a run of 16 or more letters and digits holding both:
	// see maskVendorToken; "sk-build-runner-2024-prod" is a name). Each
	// starts a word: "task-…", "myghp_…" are not tokens.
	vendorToken = regexp.MustCompile(`\b(?:gh[opusr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}|xox[abeoprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,})`)
	// authHeader finds the credentials of an authorization header or
	// scheme: Bearer, Basic, Token, Digest, Negotiate, AWS4-HMAC-SHA256
	// (quoted, or in a list, as labelled).
	authHeader = regexp.MustCompile(`(?i)((?:proxy-)?authorization["']?\s*[:=]\s*\[?["']?)((?:bearer|basic|token|digest|negotiate|aws4-hmac-sha256)\s+)?([^\s"',;<>]+)`)
	bearer     = regexp.MustCompile(`(?i)(\bbearer\s+)([A-Za-z0-9\-._~+/]{8,}=*)`)
	basic      = regexp.MustCompile(`(\bBasic\s+)([A-Za-z0-9+/]{8,}={0,2})`)
	// awsKeyID finds AWS access key IDs (and other unique IDs of the same
	// form).
	awsKeyID = regexp.MustCompile(`\b((?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16})\b`)
	// longToken finds long base64 runs: session tokens, private keys.
	longToken = regexp.MustCompile(`[A-Za-z0-9+/]{100,}={0,2}`)
	// pemKey finds the body of a PEM private key, raw or JSON-escaped (its
	// lines are shorter than a long token), up to its footer or the end
	// of a message that cut it short.
	pemKey = regexp.MustCompile(`(?s)(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)(.*?)(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`)
)

// maskVendorToken returns the token m that vendorToken found with all
// but its prefix masked ("ghp_xxxxx", "github_pat_xxxxx", "xoxb-xxxxx",
// "sk-xxxxx"); an "sk-" run none of whose words (between "-" and "_")
// is a key's long run, minKeyWord or more letters and digits holding
// both, is a name ("sk-learn-is-a-…", "sk-build-runner-2024-prod"),
// returned as it is.
func maskVendorToken(m string) string {
	switch {
	case strings.HasPrefix(m, "github_pat_"):
		return "github_pat_" + Mask
	case strings.HasPrefix(m, "sk-"):
		if !slices.ContainsFunc(strings.FieldsFunc(m[3:], func(r rune) bool { return r == '-' || r == '_' }), keyWord) {
			return m
		}
		return "sk-" + Mask
	case strings.HasPrefix(m, "xox"):
		return m[:5] + Mask
	}
	return m[:4] + Mask
}

// minKeyWord is the length of the run of letters and digits an
// OpenAI-style key holds after "sk-" (a legacy key has 48, a project's or
// an Anthropic key's runs between their dashes are longer still), which
// the words of a kebab-case name do not reach.
const minKeyWord = 16

// keyWord reports whether w, a word of an "sk-" run, is a key's run: at
// least minKeyWord long, with a letter and a digit.
func keyWord(w string) bool {
	return len(w) >= minKeyWord && strings.ContainsAny(w, "0123456789") && strings.ContainsFunc(w, func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	})
}

// prefixes reports whether s may hold a token vendorToken finds (a "_"
// after "gh" and a letter or after "github_pat", a "-" after "sk" or
// "xox" and a letter) and whether it holds "-p", which shortFlag needs.
// It looks at the "_" and "-" of s only, as most messages have few.
func prefixes(s string) (vendor, dashP bool) {
	for i := strings.IndexByte(s, '_'); i >= 0; {
		if i >= 3 && s[i-3:i-1] == "gh" || i >= 10 && s[i-10:i] == "github_pat" {
			vendor = true
			break
		}
		k := strings.IndexByte(s[i+1:], '_')
		if k < 0 {
			break
		}
		i += k + 1
	}
	for i := strings.IndexByte(s, '-'); i >= 0; {
		if i >= 2 && s[i-2:i] == "sk" || i >= 4 && s[i-4:i-1] == "xox" {
			vendor = true
		}
		if i+1 < len(s) && s[i+1] == 'p' {
			dashP = true
		}
		k := strings.IndexByte(s[i+1:], '-')
		if k < 0 || vendor && dashP {
			break
		}
		i += k + 1
	}
	return vendor, dashP
}

// portLike reports whether the word w, what follows -p, reads as a port
// or a port mapping rather than a password: digits, ":", "." and "-",
// with a protocol ("/tcp") after them or not.
func portLike(w string) bool {
	if i := strings.IndexByte(w, '/'); i > 0 {
		w = w[:i]
	}
	return w != "" && strings.Trim(w, "0123456789:.-") == ""
}

// labels are the lower-case stems of the names labelled matches.
var labels = []string{"x-amz-", "secret", "access", "key", "token", "password", "passwd", "pwd", "passphrase", "credential", "signature", "sig", "cookie", "auth="}

// keyIDPrefixes are the prefixes awsKeyID matches.
var keyIDPrefixes = []string{"AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "APKA", "AROA", "ASCA"}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// hasLongRun reports whether s holds a run of 100 base64 characters, the
// least longToken matches.
func hasLongRun(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
			if n++; n >= 100 {
				return true
			}
			continue
		}
		n = 0
	}
	return false
}

// String returns s with credentials masked by pattern only (see the
// package doc); it is the zero Redactor's String.
func String(s string) string { return (*Redactor)(nil).String(s) }

// Error is the zero Redactor's Error: it redacts by pattern only.
func Error(err error) error { return (*Redactor)(nil).Error(err) }

// Errorp is the zero Redactor's Errorp: it redacts by pattern only.
func Errorp(errp *error) { (*Redactor)(nil).Errorp(errp) }

// Handler is the zero Redactor's Handler: it redacts by pattern only.
func Handler(h slog.Handler) slog.Handler { return (*Redactor)(nil).Handler(h) }

// String returns s with every known secret and every credential found by
// pattern replaced by Mask.
func (r *Redactor) String(s string) string {
	if s == "" {
		return s
	}
	if r != nil {
		for _, secret := range r.secrets {
			s = strings.ReplaceAll(s, secret, Mask)
		}
	}
	// Each pattern runs only when a cheap test says it may match: most
	// messages hold no credential, and the patterns are slow.
	if strings.Contains(s, "PRIVATE KEY-----") {
		s = pemKey.ReplaceAllString(s, "${1}"+Mask+"${3}")
	}
	if strings.Contains(s, "://") {
		s = maskURLs(s)
	}
	if strings.Contains(s, "invalid ") {
		s = maskNetURLQuotes(s)
	}
	if strings.Contains(s, "@") && strings.Contains(s, "(") {
		s = maskDSNs(s)
	}
	lower := strings.ToLower(s)
	if strings.Contains(lower, "authorization") {
		s = authHeader.ReplaceAllString(s, "${1}${2}"+Mask)
	}
	if strings.Contains(lower, "bearer") {
		s = bearer.ReplaceAllString(s, "${1}"+Mask)
	}
	if strings.Contains(s, "Basic") {
		s = basic.ReplaceAllString(s, "${1}"+Mask)
	}
	if strings.ContainsAny(s, ":=") && containsAny(lower, labels) {
		s = maskLabelled(s)
	}
	if strings.Contains(s, "--") && containsAny(lower, labels) {
		s = maskFlags(s, flag)
	}
	vendor, dashP := prefixes(s)
	if dashP {
		s = maskShortFlags(s)
	}
	if vendor {
		s = vendorToken.ReplaceAllStringFunc(s, maskVendorToken)
	}
	if containsAny(s, keyIDPrefixes) {
		s = awsKeyID.ReplaceAllStringFunc(s, func(m string) string { return m[:4] + Mask })
	}
	if hasLongRun(s) {
		s = longToken.ReplaceAllString(s, Mask)
	}
	return s
}

// Error returns err with a message that String has redacted. The result
// unwraps to err, so errors.Is and errors.As see the same chain; a cause
// reached with errors.As keeps its own, unredacted message. Error returns
// err itself when there is nothing to redact, and nil for nil. A typed
// nil pointer whose Error panics has no message and is returned as it is
// (slog prints it as <nil>).
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg, ok := message(err)
	if !ok {
		return err
	}
	red := r.String(msg)
	if red == msg {
		return err
	}
	return &redacted{msg: red, err: err}
}

// message returns err's message; ok is false when err is a nil pointer
// whose Error panics, as slog's handlers tell it apart. Any other panic
// is the caller's.
func message(err error) (msg string, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if v := reflect.ValueOf(err); v.Kind() == reflect.Pointer && v.IsNil() {
				msg, ok = "", false
				return
			}
			panic(p)
		}
	}()
	return err.Error(), true
}

// redacted is an error whose message was redacted.
type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// Errorp redacts the error *errp in place; drivers defer it in every
// method that returns an error.
func (r *Redactor) Errorp(errp *error) { *errp = r.Error(*errp) }

// Strings returns ss with String applied to each, sharing ss when nothing
// changed.
func (r *Redactor) Strings(ss []string) []string {
	var out []string
	for i, s := range ss {
		if red := r.String(s); red != s {
			if out == nil {
				out = slices.Clone(ss)
			}
			out[i] = red
		}
	}
	if out == nil {
		return ss
	}
	return out
}

// Handler returns a slog.Handler that redacts the message and every
// attribute of a record (strings, errors, string slices, and other values
// as printed) before passing it to h. A value that holds a credential in
// any of the forms slog's handlers print (%+v, a byte slice as text,
// MarshalText, JSON) is passed on as a string: that form, redacted.
func (r *Redactor) Handler(h slog.Handler) slog.Handler {
	return &handler{h: h, r: r}
}

type handler struct {
	h slog.Handler
	r *Redactor
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.h.Handle(ctx, out)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.attr(a)
	}
	return &handler{h: h.h.WithAttrs(red), r: h.r}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{h: h.h.WithGroup(name), r: h.r}
}

func (h *handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.r.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, ga := range g {
			red[i] = h.attr(ga)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.Any(a.Key, h.r.Error(x))
		case []string:
			return slog.Any(a.Key, h.r.Strings(x))
		default:
			// The handler h wraps may print x otherwise than %+v: slog's
			// text handler a byte slice as text and a TextMarshaler
			// through MarshalText, its JSON handler as json.Marshal does
			// (a json.RawMessage as it is, a struct by its JSON tags, a
			// byte slice in base64). A credential in any of them is
			// masked in the first form that shows it, printed instead.
			for _, s := range renderings(x) {
				if red := h.r.String(s); red != s {
					return slog.String(a.Key, red)
				}
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// renderings returns the texts a handler may print for x: its %+v, the
// text of a byte slice, MarshalText's and json.Marshal's. A method that
// fails or panics gives none.
func renderings(x any) []string {
	out := make([]string, 0, 4)
	if rv := reflect.ValueOf(x); rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
		out = append(out, string(rv.Bytes()))
	}
	out = append(out, fmt.Sprintf("%+v", x))
	if tm, ok := x.(encoding.TextMarshaler); ok {
		if b, err := marshal(tm.MarshalText); err == nil {
			out = append(out, string(b))
		}
	}
	if b, err := marshal(func() ([]byte, error) { return json.Marshal(x) }); err == nil {
		out = append(out, string(b))
	}
	return out
}

// marshal returns f's result, or an error when f panics (a method of a
// nil pointer).
func marshal(f func() ([]byte, error)) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return f()
}
