// Package migrate moves users from another framework's session cookie to a
// sealed session without logging them out.
//
// Wrap the handlers of the Go service that takes over with [Handler]. On a
// request that carries a legacy session cookie but no valid sealed session,
// it opens the legacy cookie with one of the compat readers (see
// [Starlette], [Flask], [Iron] and [AuthJS]), converts its payload to the
// application's session type with [Legacy.Convert], stores the result with
// [sealed.Manager.Put], so the response sets the sealed cookie, and expires
// the legacy cookie (and, for chunked formats, every chunk the request
// carried) with the Path and Domain it was set with, so the browser really
// drops it. The handler then sees the session as if the user had logged in
// through Go.
//
// A valid sealed session always wins: the legacy cookie is not converted,
// and if it is still a valid legacy session it is expired, so that logging
// out of the sealed session cannot bring the old one back. A legacy cookie
// that fails to open or to convert is expired too and reported to
// [Legacy.OnError]; the request goes on without a session, never with a
// server error.
//
// A migrated session starts a new sealed session (new issue time, full
// Options.Lifetime), and the Manager's Validate hook does not see it: check
// in Convert whatever Validate would check. Keep the wrapper for one legacy
// session lifetime (Starlette's max_age, Flask's PERMANENT_SESSION_LIFETIME,
// Auth.js's session.maxAge, iron-session's ttl), then remove it.
//
// # Cookie names
//
// The sealed cookie may have the legacy cookie's name (Starlette's and
// Flask's default "session" is also sealed's): the response then expires
// the legacy value and sets the sealed one under the same name, in that
// order, so the sealed one stays. The Manager also reports the legacy value
// it could not open to its Options.OnError once per migrated user. A
// distinct name (for example "__Host-session") avoids that noise, and the
// reports to [Legacy.OnError] of every expired sealed cookie, which the
// legacy reader then also fails to open; it also keeps the two formats
// apart while both services run.
package migrate

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/authjs"
	"github.com/sealedcookie/sealed/compat/flask"
	"github.com/sealedcookie/sealed/compat/iron"
	"github.com/sealedcookie/sealed/compat/starlette"
	"github.com/sealedcookie/sealed/internal/cacheheader"
)

// ErrSkip, returned by [Legacy.Convert], drops a legacy session that holds
// nothing worth keeping (an anonymous session, say): the request goes on
// without a session, the legacy cookie is expired, and OnError is not
// called.
var ErrSkip = errors.New("migrate: legacy session skipped")

// maxChunks bounds the chunk suffixes recognised: Name.0 to Name.63, as
// Auth.js's and sealed's readers.
const maxChunks = 64

// A Source is a legacy session cookie and the means to open it. The
// constructors [Starlette], [Flask], [Iron] and [AuthJS] return one for each
// compat reader; build one by hand for another format.
type Source struct {
	// Name is the legacy cookie's name.
	Name string

	// Chunked reports that the legacy library splits a large session over
	// cookies named Name.0, Name.1, ...; a request carrying any of them has
	// a legacy session, and all of them are expired.
	Chunked bool

	// Open verifies the legacy session the request carries and returns its
	// payload (a JSON object for every compat reader). Errors mean there is
	// no usable legacy session; the compat readers wrap sealed.ErrInvalid,
	// ErrExpired, ErrMalformed, ErrUnknownKey or ErrTooLarge. Open is
	// called only when the request carries a non-empty Name cookie (or,
	// for Chunked, a chunk).
	Open func(r *http.Request) ([]byte, error)
}

// Starlette returns the Source for the session cookie of Starlette's (or
// FastAPI's) SessionMiddleware, opened with c. name is the middleware's
// session_cookie; "" means its default, "session".
func Starlette(c *starlette.Codec, name string) Source {
	return cookieSource(name, starlette.DefaultCookieName, c.Open)
}

// Flask returns the Source for Flask's default signed session cookie,
// opened with c. name is SESSION_COOKIE_NAME; "" means its default,
// "session".
func Flask(c *flask.Codec, name string) Source {
	return cookieSource(name, flask.DefaultCookieName, c.Open)
}

// cookieSource returns the Source for one cookie called name (or def, when
// name is empty) whose value open reads.
func cookieSource(name, def string, open func(string) ([]byte, time.Time, error)) Source {
	if name == "" {
		name = def
	}
	return Source{Name: name, Open: func(r *http.Request) ([]byte, error) {
		ck, err := r.Cookie(name)
		if err != nil {
			return nil, err
		}
		p, _, err := open(ck.Value)
		return p, err
	}}
}

// Iron returns the Source for an iron-session cookie named name (its
// cookieName option), opened with c. It is Chunked: iron-session v9's
// chunk: true splits a seal over name.0 to name.3 (see
// [iron.Codec.OpenRequest]).
func Iron(c *iron.Codec, name string) Source {
	return Source{Name: name, Chunked: true, Open: func(r *http.Request) ([]byte, error) {
		return c.OpenRequest(r, name)
	}}
}

// AuthJS returns the Source for the Auth.js v5 or NextAuth v4 session
// cookie that c was configured for ([authjs.Codec.CookieName]), chunks
// included. The payload is the JWT claims set (the session fields plus
// "iat", "exp" and "jti").
func AuthJS(c *authjs.Codec) Source {
	return Source{Name: c.CookieName(), Chunked: true, Open: c.OpenRequest}
}

// Legacy describes the legacy session cookie to migrate and how to turn it
// into a session of type T.
type Legacy[T any] struct {
	// Source names the cookie and opens it (required).
	Source

	// Path and Domain are the attributes the legacy cookie was set with;
	// the expiring Set-Cookie repeats them, or the browser keeps the
	// cookie. Path "" means "/" (the default of every supported library);
	// Domain "" means a host-only cookie.
	Path, Domain string

	// Secure adds the Secure attribute to the expiring Set-Cookie. It is
	// added anyway when the request came over TLS or the name has a
	// "__Secure-" or "__Host-" prefix, which browsers require. Set it
	// behind a TLS-terminating proxy if the legacy cookie was Secure.
	Secure bool

	// Convert turns the legacy payload (as returned by Source.Open) into
	// the session to store (required). r is the request being served.
	// Return [ErrSkip] to drop the legacy session quietly, or another
	// error to drop it and report it to OnError.
	Convert func(r *http.Request, payload []byte) (T, error)

	// OnError receives the legacy cookies that could not be migrated:
	// Open's error (tampered, expired, wrong secret...) or Convert's, each
	// wrapped with the cookie name (test with errors.Is). The cookie has
	// been expired and the request goes on without a session. Nil logs
	// them at Debug level with slog.Default, as the Manager does invalid
	// sealed cookies.
	OnError func(r *http.Request, err error)
}

// Handler returns middleware that migrates legacy sessions described by
// legacy into m's sealed sessions before calling next (see the package
// documentation). It runs inside [sealed.Manager.Handler]: if the request
// is not already wrapped by m.Handler, the returned handler installs it
// itself. Requests without a legacy cookie pass straight to next, without
// loading the session.
//
// Handler panics if m, next, legacy.Open or legacy.Convert is nil, or if
// legacy.Name, Path or Domain cannot be used in a Set-Cookie header.
func Handler[T any](m *sealed.Manager[T], legacy Legacy[T], next http.Handler) http.Handler {
	switch {
	case m == nil:
		panic("migrate: Handler: nil Manager")
	case next == nil:
		panic("migrate: Handler: nil next handler")
	case legacy.Open == nil:
		panic("migrate: Handler: nil Legacy.Open")
	case legacy.Convert == nil:
		panic("migrate: Handler: nil Legacy.Convert")
	}
	if legacy.Path == "" {
		legacy.Path = "/"
	}
	if legacy.Chunked {
		if err := legacy.expiry(legacy.Name+".63", false).Valid(); err != nil {
			panic(fmt.Sprintf("migrate: Handler: legacy cookie %q: %v", legacy.Name, err))
		}
	} else if err := legacy.expiry(legacy.Name, false).Valid(); err != nil {
		panic(fmt.Sprintf("migrate: Handler: legacy cookie %q: %v", legacy.Name, err))
	}
	return m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		names, present := legacy.carried(r)
		if present {
			legacy.migrate(m, w, r, names)
		}
		next.ServeHTTP(w, r)
	}))
}

// migrate handles a request that carries the legacy cookie: names are the
// legacy cookie names it carries.
func (l *Legacy[T]) migrate(m *sealed.Manager[T], w http.ResponseWriter, r *http.Request, names []string) {
	ctx := r.Context()
	if _, ok := m.Get(ctx); ok {
		// The sealed session wins. Expire a legacy cookie that still opens,
		// so that it cannot come back once the sealed session ends. One that
		// does not open may be the sealed cookie itself (same name) and is
		// harmless anyway: leave it.
		if _, err := l.Open(r); err == nil {
			l.expire(w, r, names)
		}
		return
	}
	l.expire(w, r, names)
	payload, err := l.Open(r)
	if err != nil {
		if errors.Is(err, http.ErrNoCookie) {
			return // only empty or stray cookies: nothing to report
		}
		l.report(r, fmt.Errorf("migrate: opening legacy cookie %q: %w", l.Name, err))
		return
	}
	v, err := l.Convert(r, payload)
	switch {
	case errors.Is(err, ErrSkip):
		return
	case err != nil:
		l.report(r, fmt.Errorf("migrate: converting legacy cookie %q: %w", l.Name, err))
		return
	}
	m.Put(ctx, v)
}

// carried returns the names of the legacy cookies r carries (the plain
// cookie and, if Chunked, chunks), and whether any has a value.
func (l *Legacy[T]) carried(r *http.Request) (names []string, present bool) {
	for _, ck := range r.Cookies() {
		if !strings.HasPrefix(ck.Name, l.Name) {
			continue
		}
		if ck.Name != l.Name && !(l.Chunked && isChunk(ck.Name[len(l.Name):])) {
			continue
		}
		dup := false
		for _, n := range names {
			dup = dup || n == ck.Name
		}
		if !dup {
			names = append(names, ck.Name)
		}
		present = present || ck.Value != ""
	}
	return names, present
}

// isChunk reports whether suffix is a chunk suffix ".N": canonical decimal,
// N < maxChunks.
func isChunk(suffix string) bool {
	d, ok := strings.CutPrefix(suffix, ".")
	if !ok || d == "" || len(d) > 2 || (len(d) > 1 && d[0] == '0') {
		return false
	}
	n := 0
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
		n = n*10 + int(d[i]-'0')
	}
	return n < maxChunks
}

// expiry returns the Set-Cookie that deletes the legacy cookie called name.
func (l *Legacy[T]) expiry(name string, tls bool) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Path:     l.Path,
		Domain:   l.Domain,
		MaxAge:   -1,              // Max-Age=0
		Expires:  time.Unix(0, 0), // for clients without Max-Age
		Secure:   l.Secure || tls || hasPrefixFold(name, "__Secure-") || hasPrefixFold(name, "__Host-"),
		HttpOnly: true,
	}
}

// hasPrefixFold reports whether s starts with prefix, ignoring case, as
// browsers match cookie-name prefixes.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// expire adds to w's header the Set-Cookie lines that delete the legacy
// cookies called names, and keeps shared caches from storing them, as the
// Manager does for its own cookies.
func (l *Legacy[T]) expire(w http.ResponseWriter, r *http.Request, names []string) {
	h := w.Header()
	for _, n := range names {
		h.Add("Set-Cookie", l.expiry(n, r.TLS != nil).String())
	}
	cacheheader.ForSetCookie(h, nil)
}

// report passes err to OnError or logs it.
func (l *Legacy[T]) report(r *http.Request, err error) {
	if l.OnError != nil {
		l.OnError(r, err)
		return
	}
	slog.Default().Log(r.Context(), slog.LevelDebug, "sealed legacy session", "cookie", l.Name, "err", err)
}
