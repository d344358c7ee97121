// Package cacheheader writes the response headers that keep shared caches
// from storing a Set-Cookie, or from serving a page that depends on the
// Cookie header to another client (docs/FORMAT-middleware.md, "Writing").
// The Manager and compat/migrate use it.
package cacheheader

import (
	"net/http"
	"strings"
)

// ForSetCookie keeps caches from storing or sharing a response that sets
// a cookie, without clobbering the handler's headers: "Cookie" joins Vary
// (see VaryCookie for buf), and no-cache="Set-Cookie" is set, or appended
// to a Cache-Control that does not already keep the response out of shared
// caches.
func ForSetCookie(h http.Header, buf *[1]string) {
	VaryCookie(h, buf)
	const directive = `no-cache="Set-Cookie"`
	cc := h["Cache-Control"]
	switch {
	case len(cc) == 0:
		h["Cache-Control"] = []string{directive}
	case keepsCookieFromCaches(cc):
	default:
		cc[len(cc)-1] += ", " + directive
	}
}

// VaryCookie adds "Cookie" to Vary, unless Vary already has it or "*".
// Every response whose request read a cookie depends on the Cookie header,
// whether or not it sets one. When the response has no Vary yet, buf (if
// not nil) holds the new value, so that a caller with per-request storage
// does not allocate.
func VaryCookie(h http.Header, buf *[1]string) {
	vary := h["Vary"]
	switch {
	case hasToken(vary, "cookie") || hasToken(vary, "*"):
	case len(vary) == 0 && buf != nil:
		buf[0] = "Cookie"
		h["Vary"] = buf[:1:1] // an append by a later writer copies it
	default:
		h["Vary"] = append(vary, "Cookie")
	}
}

// keepsCookieFromCaches reports whether the Cache-Control directives
// already keep a Set-Cookie header out of shared caches: no-store, or
// private or no-cache either unqualified or with a field list that names
// Set-Cookie. A qualified private="X-Debug" covers only the fields it names,
// so it does not count.
func keepsCookieFromCaches(values []string) bool {
	for _, v := range values {
		for d, rest, ok := nextDirective(v); ok; d, rest, ok = nextDirective(rest) {
			switch {
			case strings.EqualFold(d.name, "no-store"):
				return true
			case strings.EqualFold(d.name, "private") || strings.EqualFold(d.name, "no-cache"):
				if !d.qualified {
					return true
				}
				for field := range strings.SplitSeq(d.arg, ",") {
					if strings.EqualFold(strings.TrimSpace(field), "Set-Cookie") {
						return true
					}
				}
			}
		}
	}
	return false
}

// A cacheDirective is one directive of a Cache-Control value: its name, its
// argument unquoted, and whether it had one.
type cacheDirective struct {
	name, arg string
	qualified bool
}

// nextDirective parses the first directive of a Cache-Control value (RFC
// 9111 section 5.2) and returns the rest of the value. A quoted argument may
// contain commas. It reports false at the end of the value or at a
// malformed part.
func nextDirective(v string) (d cacheDirective, rest string, ok bool) {
	v = strings.TrimLeft(v, " \t,")
	if v == "" {
		return d, "", false
	}
	end := strings.IndexAny(v, "=,")
	if end < 0 {
		return cacheDirective{name: strings.TrimSpace(v)}, "", true
	}
	d.name = strings.TrimSpace(v[:end])
	if v[end] == ',' {
		return d, v[end+1:], true
	}
	d.qualified = true
	v = strings.TrimLeft(v[end+1:], " \t")
	if !strings.HasPrefix(v, `"`) {
		stop := strings.IndexByte(v, ',')
		if stop < 0 {
			stop = len(v)
		}
		d.arg = strings.TrimSpace(v[:stop])
		return d, v[stop:], true
	}
	var b strings.Builder
	i := 1
	for ; i < len(v) && v[i] != '"'; i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	if i >= len(v) {
		return d, "", false // unterminated quoted string
	}
	d.arg = b.String()
	return d, v[i+1:], true
}

// hasToken reports whether the comma-separated header values contain the
// token, case-insensitively.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
