package sealed

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sealedcookie/sealed/internal/cacheheader"
	"github.com/sealedcookie/sealed/internal/format"
)

// Errors reported by a [Manager] besides the core sentinels. Test for them
// with [errors.Is].
var (
	// ErrHeadersWritten reports a change to the session (Put, Update,
	// Destroy, Renew, Flash, Flashes) made after the response headers were
	// written, so the Set-Cookie header could no longer be added. The change
	// is visible for the rest of the request but is not sent to the client.
	ErrHeadersWritten = errors.New("sealed: session changed after the response headers were written")

	// ErrRejected reports an authentic session that the Manager's Validate
	// hook rejected. It wraps the hook's error too.
	ErrRejected = errors.New("sealed: session rejected by Validate")

	// errNoState is returned by Save when the context carries no session.
	errNoState = errors.New("sealed: no session in context (use Manager.Handler or Manager.Load)")
)

// Defaults of zero-valued Options fields, and limits.
const (
	defaultName        = "session"
	defaultLifetime    = 24 * time.Hour
	defaultChunkBudget = 4
	maxChunkBudget     = format.MaxChunks
	cookieLimit        = 4096 // bytes per Set-Cookie line (name, value and attributes) we stay within
	minChunkSize       = 1024 // below this, Name, Path or Domain are unreasonably long
)

// Options configures a [Manager]. The zero value gives secure defaults: a
// persistent cookie named "session" with Path=/, HttpOnly, Secure and
// SameSite=Lax, an absolute lifetime of 24 hours and no idle timeout.
//
// Secure cookies work on http://localhost and http://127.0.0.1 in current
// browsers, which treat loopback as a secure context, so development
// normally needs no opt-out. DisableSecure is for plain http on other hosts
// only; never ship it.
type Options struct {
	// Name is the cookie name. Zero value: "session". A session too large
	// for one cookie is split into Name+".0", Name+".1", ... Name must be an
	// RFC 6265 token without '#', which the Manager reserves for chunk
	// counts. A "__Host-" prefix requires Secure, Path "/" and no Domain; a
	// "__Secure-" prefix requires Secure; "__Http-" requires Secure and
	// HttpOnly, and "__Host-Http-" the __Host- rules and HttpOnly. New
	// checks them all, matching the prefixes case-insensitively as browsers
	// do.
	Name string

	// Path is the cookie's Path attribute. Zero value: "/".
	Path string

	// Domain is the cookie's Domain attribute. Zero value: no Domain, a
	// host-only cookie, which is the safer choice; set it only to share the
	// session with subdomains.
	Domain string

	// SameSite is the cookie's SameSite attribute. Zero value:
	// http.SameSiteLaxMode. http.SameSiteDefaultMode omits the attribute;
	// http.SameSiteNoneMode requires Secure.
	SameSite http.SameSite

	// Lifetime is the absolute lifetime of a session: it ends this long
	// after it was created (Put or Update without a session) or renewed
	// (Renew), however active the user is. Zero value: 24 hours. It cannot
	// be disabled: every sealed value carries an expiry. Negative values are
	// an error.
	Lifetime time.Duration

	// IdleTimeout ends a session that has not been re-sealed for this long.
	// A request that reads the session re-seals it once IdleRefresh has
	// passed since the last seal, which slides the window. Zero value: no
	// idle timeout. Negative values are an error.
	IdleTimeout time.Duration

	// IdleRefresh is how long after the last seal a request that reads the
	// session re-issues it to slide the idle window. Re-issuing on every
	// request would send a Set-Cookie on every response. Zero value: half of
	// IdleTimeout. It must not exceed IdleTimeout and is ignored without one.
	IdleRefresh time.Duration

	// BrowserSession omits Max-Age, so the browser drops the cookie when it
	// closes, like Starlette's max_age=None. The expiry sealed inside the
	// cookie (Lifetime, IdleTimeout) is still enforced. Zero value (false):
	// a persistent cookie whose Max-Age matches its sealed expiry. It is the
	// default for sessions that do not choose with Manager.RememberMe.
	BrowserSession bool

	// DisableSecure omits the Secure attribute. Zero value (false): Secure
	// is set. Only for development over plain http on a host other than
	// localhost; it cannot be combined with a "__Host-" or "__Secure-" name
	// or SameSite=None.
	DisableSecure bool

	// Partitioned sets the Partitioned attribute (CHIPS) on every cookie of
	// the session, chunks and deletions included: browsers then keep the
	// session per top-level site, which a cross-site iframe (an embedded
	// widget) needs now that third-party cookies are blocked. It requires
	// Secure. Zero value (false): no attribute.
	Partitioned bool

	// DisableHTTPOnly omits the HttpOnly attribute, letting scripts read
	// the cookie (though not the sealed data). Zero value (false): HttpOnly
	// is set. There is rarely a reason to change it.
	DisableHTTPOnly bool

	// ChunkBudget is the maximum number of cookies one session may use.
	// Zero value: 4 (about 12 KB of encoded session data with the default
	// name and attributes; see MaxSessionLen). 1 disables chunking. At most 16; keep the total well under
	// the request header limits of your servers and proxies (often 8 KB
	// for all headers together).
	ChunkBudget int

	// OnError receives every error the Manager cannot return to a caller:
	// invalid session cookies (wrapping ErrMalformed, ErrUnknownKey,
	// ErrInvalid, ErrExpired, ErrTooLarge or ErrRejected; the request goes
	// on without a session), sessions too large to save (ErrTooLarge; the
	// previous cookie is left intact), encoding failures, and changes made
	// after the headers were written (ErrHeadersWritten). ctx is the
	// request's context. Zero value (nil): errors are logged with
	// slog.Default: cookies under an unknown key or failing authentication
	// (ErrUnknownKey, ErrInvalid) at Warn level, since they point to a
	// deployment mistake or an attack; other invalid cookies, such as
	// expired ones, at Debug; the other errors at Error. Errors never
	// contain key material or session data.
	OnError func(ctx context.Context, err error)

	// Unauthorized responds to requests rejected by Require. Zero value:
	// a plain-text 401 Unauthorized.
	Unauthorized http.Handler

	// Now returns the current time. Zero value: time.Now. Tests set it to
	// move through idle and absolute timeouts.
	Now func() time.Time

	// ClockSkew is how long past its absolute deadline or idle timeout a
	// session still opens, to absorb clock differences between the servers
	// of a fleet (one seals, another opens). Zero value: no grace, which is
	// right when clocks are synchronised. Negative values are an error.
	// It counts in whole seconds, like the payload's times: a fraction of
	// a second is dropped.
	ClockSkew time.Duration

	// Purpose names the application the sessions belong to, such as
	// "billing" or "admin", and is authenticated with every cookie (see
	// Sealer.Purpose): applications that share a key
	// ring and a cookie name (every subdomain of a site, say) but have
	// different purposes refuse each other's sessions (ErrInvalid). Zero
	// value: no purpose, which keeps cookies sealed before it existed
	// valid. Setting or changing it ends every existing session once. At
	// most MaxPurposeLen bytes.
	Purpose string

	// Revocations, if set, lets sessions be revoked before they expire:
	// Destroy then also revokes the session itself, so a copy of its cookie
	// stops working, and RevokeSubject, RevokeOthers and Revoke sign a user
	// out everywhere, from the other devices, or from one session of the
	// device list (Sessions). Every session the Manager opens is checked
	// against it, in memory. Use NewMemoryStore for one instance; a fleet
	// needs a shared store (the redisstore module). Sessions are revoked per
	// user only if the Manager's Subject says whose they are. Zero value
	// (nil): no revocation; Destroy only clears the browser's cookie. See
	// https://github.com/sealedcookie/sealed/blob/main/docs/SECURITY.md for
	// what revocation guarantees.
	Revocations RevocationStore

	// Device describes the client of a request for the device list, from
	// its header: for example the browser family and platform from the
	// User-Agent ("Firefox on Linux"). It is called when a session is
	// registered (at login, and when the session is re-sealed for its idle
	// window), and only with Revocations set. Zero value (nil): no
	// description.
	Device func(h http.Header) string

	// CompressAbove compresses sessions whose encoding is at least this
	// many bytes with raw DEFLATE, when that makes them shorter (see
	// Sealer.CompressAbove): a large session then needs fewer cookies.
	// Zero value: never compress. Compression lets the cookie's length
	// reveal how well the session compresses: leave it off if the session
	// mixes attacker-influenced data with secrets
	// (https://github.com/sealedcookie/sealed/blob/main/docs/SECURITY.md).
	// Negative values are an error.
	CompressAbove int
}

// SessionInfo describes a session: the times its payload carries, and the
// [Info] of the cookie it was opened from (zero for a session created in
// this request).
type SessionInfo struct {
	Info                // the cookie's: key ID, sealed expiry, stale
	Issued    time.Time // created (Put/Update without a session) or last renewed (Renew)
	Deadline  time.Time // absolute end: Issued + Lifetime
	Refreshed time.Time // last sealed: the start of the current idle window
	ID        SessionID // drawn at creation and at each Renew; zero for a cookie sealed before IDs existed
	Subject   string    // the Manager's Subject of the session, if any
}

// A Manager keeps sessions of type T in sealed cookies for net/http.
//
// Wrap handlers with [Manager.Handler] and use [Manager.Get], [Manager.Put],
// [Manager.Update], [Manager.Destroy] and [Manager.Renew] with the request's
// context. The cookie is read only when the handler first asks for the
// session, and written only when something changed, at the first
// WriteHeader, Write, ReadFrom, Flush or Hijack (the body is never
// buffered). Without middleware, use [Manager.Load] and [Manager.Save].
//
// An invalid cookie (tampered, expired, sealed with an unknown key, or
// rejected by Validate) is treated as no session: Get reports false, the
// cookie is cleared in the response, and the error goes to Options.OnError;
// it is never a server error.
//
// The session's expiry is sealed inside the cookie
// (https://github.com/sealedcookie/sealed/blob/main/docs/FORMAT-middleware.md),
// so neither the client nor an attacker can extend it. Being stateless, a
// session cannot be revoked on the server by deleting it: use Validate with a
// per-user generation number or deny list for that.
//
// A Manager is safe for concurrent use; set Validate before first use.
type Manager[T any] struct {
	// Validate, if set, is called with each session decoded from a cookie,
	// before Get, Update and the others see it. A non-nil error rejects the
	// session: it is treated as an invalid cookie (no session, the cookie is
	// cleared, and OnError gets an error wrapping ErrRejected and the
	// returned error). Use it for revocation, for example by comparing a
	// generation number in T with the user's current one. ctx is the
	// context passed to the Manager method that loaded the session. Validate
	// must not call the Manager's methods with the same context. It is a
	// field of the Manager rather than of [Options] because it is typed by
	// T, which Options is not; set it before the Manager serves requests.
	Validate func(ctx context.Context, v T, info SessionInfo) error

	// Subject, if set, returns the subject of a session: the user it
	// belongs to, such as a user ID, or "" for an anonymous session. It is
	// sealed into the cookie with the session's ID, and is what
	// RevokeSubject and RevokeOthers revoke by; a session without a subject
	// can only be revoked by itself (Destroy, Revoke). At most 255 bytes.
	// Like Validate, it is typed by T, so it is a field of the Manager;
	// set it before the Manager serves requests.
	Subject func(v T) string

	codec       Codec[T]
	sealer      *Sealer
	key         *contextKey
	name        string
	path        string
	domain      string
	sameSite    http.SameSite
	secure      bool
	httpOnly    bool
	browser     bool
	partitioned bool
	lifetime    int64 // seconds
	idle        int64 // seconds, 0: none
	refresh     int64 // seconds
	skew        int64 // seconds of grace past the deadline and idle timeout
	budget      int
	chunkSize   int
	onError     func(context.Context, error)
	revs        RevocationStore
	device      func(http.Header) string
	unauth      http.Handler
	now         func() time.Time
}

// contextKey identifies one Manager's session in a context.
type contextKey struct{ name string }

func (k *contextKey) String() string { return "sealed session " + k.name }

// contextKey returns the key m's session is stored under in a context, for
// internal/ctxkey.
func (m *Manager[T]) contextKey() any { return m.key }

// New returns a Manager that seals sessions of type T with keys (a *KeyRing,
// or a KeySource that reloads rings) and encodes them with codec (nil means
// JSON). It validates opts and returns an error for a bad cookie name, a
// prefix whose requirements are not met, or out-of-range durations.
func New[T any](keys KeySource, codec Codec[T], opts Options) (*Manager[T], error) {
	if keys == nil {
		return nil, errors.New("sealed: New: nil KeySource")
	}
	if r, ok := keys.(*KeyRing); ok && r == nil {
		return nil, errors.New("sealed: New: nil *KeyRing")
	}
	if codec == nil {
		codec = JSON[T]()
	}
	m := &Manager[T]{
		codec:       codec,
		name:        opts.Name,
		path:        opts.Path,
		domain:      opts.Domain,
		sameSite:    opts.SameSite,
		secure:      !opts.DisableSecure,
		httpOnly:    !opts.DisableHTTPOnly,
		browser:     opts.BrowserSession,
		partitioned: opts.Partitioned,
		budget:      opts.ChunkBudget,
		onError:     opts.OnError,
		revs:        opts.Revocations,
		device:      opts.Device,
		unauth:      opts.Unauthorized,
		now:         opts.Now,
	}
	if m.name == "" {
		m.name = defaultName
	}
	if m.path == "" {
		m.path = "/"
	}
	if m.sameSite == 0 {
		m.sameSite = http.SameSiteLaxMode
	}
	if m.budget == 0 {
		m.budget = defaultChunkBudget
	}
	if m.now == nil {
		m.now = time.Now
	}
	lifetime, idle, refresh := opts.Lifetime, opts.IdleTimeout, opts.IdleRefresh
	if lifetime == 0 {
		lifetime = defaultLifetime
	}
	if refresh == 0 {
		refresh = idle / 2
	}
	switch {
	case lifetime < time.Second:
		return nil, fmt.Errorf("sealed: New: Lifetime %v: must be at least 1s", lifetime)
	case idle < 0 || (idle > 0 && idle < time.Second):
		return nil, fmt.Errorf("sealed: New: IdleTimeout %v: must be zero or at least 1s", idle)
	case refresh < 0 || (idle > 0 && refresh > idle):
		return nil, fmt.Errorf("sealed: New: IdleRefresh %v: must be between 0 and IdleTimeout", refresh)
	case opts.ClockSkew < 0:
		return nil, fmt.Errorf("sealed: New: ClockSkew %v: must not be negative", opts.ClockSkew)
	case len(opts.Purpose) > MaxPurposeLen:
		return nil, fmt.Errorf("sealed: New: Purpose is %d bytes, limit %d", len(opts.Purpose), MaxPurposeLen)
	case opts.CompressAbove < 0:
		return nil, fmt.Errorf("sealed: New: CompressAbove %d: must not be negative", opts.CompressAbove)
	case m.budget < 1 || m.budget > maxChunkBudget:
		return nil, fmt.Errorf("sealed: New: ChunkBudget %d: must be 1 to %d", m.budget, maxChunkBudget)
	case hasPrefixFold(m.name, "__Host-") && (!m.secure || m.path != "/" || m.domain != ""):
		return nil, fmt.Errorf("sealed: New: cookie name %q: the __Host- prefix requires Secure, Path \"/\" and no Domain", m.name)
	case hasPrefixFold(m.name, "__Secure-") && !m.secure:
		return nil, fmt.Errorf("sealed: New: cookie name %q: the __Secure- prefix requires Secure", m.name)
	case hasPrefixFold(m.name, "__Host-Http-") && !m.httpOnly:
		return nil, fmt.Errorf("sealed: New: cookie name %q: the __Host-Http- prefix requires HttpOnly (and Secure, Path \"/\", no Domain)", m.name)
	case hasPrefixFold(m.name, "__Http-") && (!m.secure || !m.httpOnly):
		return nil, fmt.Errorf("sealed: New: cookie name %q: the __Http- prefix requires Secure and HttpOnly", m.name)
	case m.partitioned && !m.secure:
		return nil, errors.New("sealed: New: Partitioned requires Secure (browsers reject it otherwise)")
	case m.sameSite == http.SameSiteNoneMode && !m.secure:
		return nil, errors.New("sealed: New: SameSite=None requires Secure (browsers reject it otherwise)")
	case m.sameSite < http.SameSiteDefaultMode || m.sameSite > http.SameSiteNoneMode:
		return nil, fmt.Errorf("sealed: New: unknown SameSite value %d", m.sameSite)
	}
	m.lifetime = int64(lifetime / time.Second)
	m.idle = int64(idle / time.Second)
	m.refresh = int64(refresh / time.Second)
	m.skew = int64(opts.ClockSkew / time.Second)

	// The longest Set-Cookie line we write: the longest chunk name, the
	// largest Max-Age, every attribute. What is left of 4096 is the chunk.
	longest := m.cookie(format.ChunkName(m.name, m.budget-1), "", int(m.lifetime))
	if err := longest.Valid(); err != nil {
		return nil, fmt.Errorf("sealed: New: invalid cookie settings (Name %q, Path %q, Domain %q): %w", m.name, m.path, m.domain, err)
	}
	if strings.ContainsAny(m.name, "#") {
		// '#' separates the name from the chunk count in the sealed name.
		return nil, fmt.Errorf("sealed: New: cookie name %q must not contain '#'", m.name)
	}
	m.chunkSize = cookieLimit - len(longest.String())
	if m.chunkSize < minChunkSize {
		return nil, fmt.Errorf("sealed: New: Name, Path and Domain leave only %d bytes per cookie", m.chunkSize)
	}
	m.sealer = NewSealer(keys)
	m.sealer.MaxLen = m.budget * m.chunkSize
	m.sealer.Now = m.now
	m.sealer.ClockSkew = time.Duration(m.skew) * time.Second // the payload's precision
	m.sealer.CompressAbove = opts.CompressAbove
	m.sealer.Purpose = opts.Purpose
	m.key = &contextKey{name: m.name}
	return m, nil
}

// hasPrefixFold reports whether s starts with prefix, ignoring case, as
// browsers match cookie-name prefixes ("__host-" is "__Host-").
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// cookie returns a cookie with the Manager's attributes. maxAge follows
// http.Cookie: 0 omits the attribute, negative deletes.
func (m *Manager[T]) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     m.path,
		Domain:   m.domain,
		MaxAge:   maxAge,
		Secure:   m.secure,
		HttpOnly: m.httpOnly,
		SameSite: m.sameSite,

		Partitioned: m.partitioned,
	}
}

// Stats returns a snapshot of the counters of the Manager's cookies: sealed
// and opened per key, and invalid ones by reason (see [Stats]).
func (m *Manager[T]) Stats() Stats { return m.sealer.Stats() }

// MaxSessionLen returns the longest session the Manager can store: the
// codec's encoding of T plus the flash messages and the session's subject,
// within ChunkBudget cookies. Saving a larger session fails with
// ErrTooLarge.
func (m *Manager[T]) MaxSessionLen() int {
	longest := m.chunkSize // one cookie
	if m.budget > 1 {
		longest = m.budget*m.chunkSize - 1 // the last chunk is never full (format.Layout)
	}
	return longest*6/8 - m.sealer.keys.Current().keys[0].k.overhead() - format.MinPayloadLen - identityLen
}

// identityLen is what a session's ID, mint time and (empty) subject add to
// the payload.
const identityLen = format.SessionIDLen + 8 + 1

// Handler returns middleware that makes the session available to next
// through the request's context and writes the cookie, if it changed, just
// before the response headers go out. It does not buffer the body: the
// ResponseWriter passed to next commits the cookie at the first final
// WriteHeader (not at 1xx such as 103 Early Hints), Write, ReadFrom, Flush or
// Hijack, and unwraps for http.ResponseController.
func (m *Manager[T]) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.serve(next, w, r) })
}

// serve serves r with next, within the session. It is a method rather than
// Handler's closure so that it is compiled on its own, where WithContext is
// inlined and the request copy it makes does not escape: the copy then
// lives in the state, one allocation for both (a closure inlined into its
// caller may not inline WithContext, and allocates it separately).
func (m *Manager[T]) serve(next http.Handler, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if _, ok := ctx.Value(m.key).(*state[T]); ok { // already wrapped
		next.ServeHTTP(w, r)
		return
	}
	s := &state[T]{Context: ctx, m: m, hdr: r.Header}
	s.w = writer[T]{rw: w, s: s}
	s.req = *r.WithContext(s)
	next.ServeHTTP(&s.w, &s.req)
	s.w.commit()
}

// Load returns a context derived from r's that carries r's session, for
// code that cannot use [Manager.Handler]: serverless adapters (an AWS Lambda
// proxy event converted to an *http.Request), other routers, tests. Nothing
// is read until the session is first used. Call [Manager.Save] before the
// response headers are written.
func (m *Manager[T]) Load(r *http.Request) context.Context {
	return m.LoadHeader(r.Context(), r.Header)
}

// LoadHeader is like Load for a request given as its header: only the
// "Cookie" lines of h are read, when the session is first used. It suits
// servers without *http.Request, such as fasthttp (copy the Cookie header
// into an http.Header) or a Lambda event's Cookies list (one Cookie line per
// element). h must not change while the context is in use.
func (m *Manager[T]) LoadHeader(ctx context.Context, h http.Header) context.Context {
	return &state[T]{Context: ctx, m: m, hdr: h}
}

// Save writes the session carried by ctx (from Load or LoadHeader) to w's
// header, if it changed: Set-Cookie lines, plus Vary and Cache-Control as
// described on SaveHeader. Call it once, before the response headers are
// written. Errors are returned, not passed to OnError; a session too large
// to save (ErrTooLarge) leaves the header untouched, so the client keeps its
// previous cookie. Later changes to the session are reported to OnError
// with ErrHeadersWritten.
func (m *Manager[T]) Save(ctx context.Context, w http.ResponseWriter) error {
	return m.SaveHeader(ctx, w.Header())
}

// SaveHeader is like Save for a response given as its header: it adds
// "Set-Cookie" lines to h (for a Lambda response, copy h.Values("Set-Cookie")
// to its Cookies or MultiValueHeaders), and, when it adds any, a
// Cache-Control directive that keeps shared caches from storing the cookie:
// `no-cache="Set-Cookie"` if h has no Cache-Control, the same appended if
// h's directives do not already do it (no-store, or private or no-cache
// either unqualified or naming Set-Cookie), and nothing otherwise. When the
// session was read, it adds "Cookie" to Vary, whether or not a cookie is
// set, so that a shared cache never serves one user's page to another.
func (m *Manager[T]) SaveHeader(ctx context.Context, h http.Header) error {
	s, ok := ctx.Value(m.key).(*state[T])
	if !ok {
		return errNoState
	}
	return s.commit(h)
}

// Get returns the session. It reports false when there is none: no cookie,
// an invalid one, or a session destroyed in this request. It also reports
// false (without panicking) when ctx carries no session from this Manager.
// The value is a shallow copy: change maps or slices in it through Update.
func (m *Manager[T]) Get(ctx context.Context) (v T, has bool) {
	if s, err := m.lock(ctx); s != nil {
		v, has = s.val, s.has
		m.unlock(ctx, s, err)
	}
	return v, has
}

// Info describes the session, reporting false when there is none (as Get).
func (m *Manager[T]) Info(ctx context.Context) (info SessionInfo, has bool) {
	if s, err := m.lock(ctx); s != nil {
		info, has = s.info(), s.has
		m.unlock(ctx, s, err)
	}
	return info, has
}

// lock returns ctx's session locked and loaded, or nil when ctx carries no
// session from m. The caller passes the error to unlock, which reports an
// invalid cookie found while loading once the lock is released.
func (m *Manager[T]) lock(ctx context.Context) (*state[T], error) {
	s, ok := ctx.Value(m.key).(*state[T])
	if !ok {
		return nil, nil
	}
	s.mu.Lock()
	return s, s.load(ctx)
}

// unlock releases a session locked by lock and reports err, if any.
func (m *Manager[T]) unlock(ctx context.Context, s *state[T], err error) {
	s.mu.Unlock()
	if err != nil {
		m.report(ctx, err, false)
	}
}

// Put stores v as the session and marks it to be written. An existing
// session keeps its absolute deadline (use Renew at login to start a new
// one); without one, a new session starts now.
//
// Put, like Update, Destroy, Renew and Flash, panics if ctx carries no
// session from this Manager: the handler is not wrapped by Handler and the
// context did not come from Load.
func (m *Manager[T]) Put(ctx context.Context, v T) {
	m.modify(ctx, "Put", func(s *state[T]) {
		s.start()
		s.val = v
	})
}

// Update calls f with a pointer to the session (the zero T if there is
// none, which starts a new session) and marks the result to be written.
// The session is locked while f runs, so concurrent Updates of one
// request's session do not lose changes; f must not call the Manager.
func (m *Manager[T]) Update(ctx context.Context, f func(*T)) {
	m.modify(ctx, "Update", func(s *state[T]) {
		s.start()
		f(&s.val)
	})
}

// Destroy ends the session: Get reports false for the rest of the request,
// and the response expires every session cookie the request carried (all
// chunks), so the browser deletes them. Pending flash messages go too. With
// Options.Revocations set, it also revokes the session, so that a copy of
// its cookie kept elsewhere stops working too; without it, such a copy
// works until its sealed expiry. A store that fails to record the
// revocation is reported to OnError; the cookie is cleared anyway.
func (m *Manager[T]) Destroy(ctx context.Context) {
	var gone Revocation
	m.modify(ctx, "Destroy", func(s *state[T]) {
		if s.has && s.id != (SessionID{}) {
			gone = Revocation{Subject: s.subject, Session: s.id, Expires: time.Unix(s.deadline+s.m.skew, 0)}
		}
		s.drop()
	})
	if m.revs != nil && gone.Session != (SessionID{}) {
		if err := m.revs.Revoke(ctx, gone); err != nil {
			m.report(ctx, fmt.Errorf("sealed: revoking the destroyed session: %w", err), true)
		}
	}
}

// Renew re-issues the session as new: a new issue time and absolute
// deadline, sealed with the current primary key. Call it at login and on
// privilege changes. Without a session it does nothing.
func (m *Manager[T]) Renew(ctx context.Context) {
	m.modify(ctx, "Renew", func(s *state[T]) {
		if s.has {
			s.renew()
		}
	})
}

// RememberMe chooses, for this session only, whether its cookie persists
// (remember is true: it has a Max-Age, as the session's expiry) or lasts
// until the browser closes (false: no Max-Age). Call it at login, from the
// "remember me" box; the choice is sealed into the session, so it holds
// through refreshes and re-seals until the session ends or RememberMe is
// called again. Sessions that never call it follow Options.BrowserSession.
// The expiry sealed inside the cookie is enforced either way. Like Put, it
// panics if ctx carries no session from this Manager; without a session it
// does nothing.
func (m *Manager[T]) RememberMe(ctx context.Context, remember bool) {
	m.modify(ctx, "RememberMe", func(s *state[T]) {
		if s.has {
			s.chosen, s.persist = true, remember
		}
	})
}

// persistent reports whether s's cookie gets a Max-Age.
func (m *Manager[T]) persistent(s *state[T]) bool {
	if s.chosen {
		return s.persist
	}
	return !m.browser
}

// Require returns middleware that serves next only for requests with a
// valid session, and Options.Unauthorized (by default a plain 401) for the
// others. Used outside Handler, it installs Handler itself.
//
// Require admits any session, and a session is not a login: an anonymous
// visitor who was given a session for a CSRF token, a cart or a flash
// message passes it. To guard what only signed-in users may see, use
// [Manager.RequireFunc] with a predicate that says what "signed in" means
// for T.
func (m *Manager[T]) Require(next http.Handler) http.Handler {
	return m.require(nil, next)
}

// RequireFunc returns middleware like [Manager.Require] that serves next
// only for requests whose session satisfies allow, for example
//
//	signedIn := sessions.RequireFunc(func(s Session) bool { return s.UserID != 0 })
//	mux.Handle("GET /account", signedIn(account))
//
// allow is called with the session of each request that has one, outside
// any lock; it must not call the Manager. Requests without a session, or
// whose session allow rejects, get Options.Unauthorized.
func (m *Manager[T]) RequireFunc(allow func(T) bool) func(http.Handler) http.Handler {
	if allow == nil {
		panic("sealed: Manager.RequireFunc: nil predicate")
	}
	return func(next http.Handler) http.Handler { return m.require(allow, next) }
}

// require serves next for requests with a session that allow (nil: any)
// accepts, and Options.Unauthorized for the others, installing Handler
// when the request is not already inside it.
func (m *Manager[T]) require(allow func(T) bool, next http.Handler) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !m.admits(r.Context(), allow) {
			if m.unauth != nil {
				m.unauth.ServeHTTP(w, r)
			} else {
				http.Error(w, "Unauthorized: no valid session", http.StatusUnauthorized)
			}
			return
		}
		next.ServeHTTP(w, r)
	})
	wrapped := m.Handler(inner)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Context().Value(m.key).(*state[T]); ok {
			inner.ServeHTTP(w, r)
			return
		}
		wrapped.ServeHTTP(w, r)
	})
}

// admits reports whether ctx carries a valid session that allow (nil: any)
// accepts.
func (m *Manager[T]) admits(ctx context.Context, allow func(T) bool) bool {
	if allow == nil {
		_, has := m.Info(ctx)
		return has
	}
	v, has := m.Get(ctx)
	return has && allow(v)
}

// modify loads the session, applies f and marks the session to be written.
func (m *Manager[T]) modify(ctx context.Context, op string, f func(*state[T])) {
	s, err := m.lock(ctx)
	if s == nil {
		panic("sealed: Manager." + op + ": no session in this context. Wrap the handler with Manager.Handler (or use Manager.Load); " +
			"if it is wrapped, the context passed is not the request's: with Gin pass c.Request.Context() " +
			"(a *gin.Context finds the session only with Engine.ContextWithFallback), with Echo c.Request().Context(), " +
			"or use the adapter's helpers (sealedgin.Put(c, m, v), ...)")
	}
	f(s)
	s.dirty = true
	late := s.committed
	m.unlock(ctx, s, err)
	if late {
		m.report(ctx, fmt.Errorf("%w: %s of cookie %q", ErrHeadersWritten, op, m.name), true)
	}
}

// report passes err to OnError or, without one, logs it: server-side faults
// at Error level; cookies under an unknown key or failing authentication at
// Warn, because a fleet that logs everyone out (a key missing from one
// instance, another application's cookie) must show up in the logs; other
// invalid cookies, which are routine (every expired session), at Debug.
func (m *Manager[T]) report(ctx context.Context, err error, fault bool) {
	if m.onError != nil {
		m.onError(ctx, err)
		return
	}
	level := slog.LevelDebug
	switch {
	case fault:
		level = slog.LevelError
	case errors.Is(err, ErrUnknownKey) || errors.Is(err, ErrInvalid):
		level = slog.LevelWarn
	}
	slog.Default().Log(ctx, level, "sealed session", "cookie", m.name, "err", err)
}

// state is one request's session. It is also the context handed to the
// handler (it embeds the request's context and answers Value for the
// Manager's key), and it holds the response writer wrapper and, under
// Handler, the request handed to the handler, so the middleware allocates
// it and nothing else.
type state[T any] struct {
	context.Context
	m   *Manager[T]
	hdr http.Header // request header; its Cookie lines are read on first use

	mu        sync.Mutex
	loaded    bool   // cookies read
	has       bool   // a valid session value is present
	dirty     bool   // the response must set or expire cookies
	committed bool   // cookies were written to the response header
	plain     bool   // the request carried the unchunked cookie
	chunks    uint64 // bit i: the request carried chunk i
	val       T
	issued    int64 // Unix seconds; 0 until a session or flash exists
	deadline  int64
	refreshed int64
	opened    Info      // of the cookie the session came from
	id        SessionID // zero for a cookie sealed before IDs existed
	minted    int64     // when id was drawn, Unix milliseconds
	subject   string
	replaces  SessionID // the ID before Renew drew a new one, until registered
	register  bool      // the response registers the session (RevocationStore.Register)
	chosen    bool      // the session chose its cookie's persistence (RememberMe)
	persist   bool      // with chosen: a persistent cookie (Max-Age), else a browser-session one
	flashes   []string
	vary      [1]string // the response's Vary, when the Manager sets it

	w   writer[T]
	req http.Request // under Handler: the request with this state as its context
}

// Value returns the state for the Manager's key and defers to the request's
// context for other keys.
func (s *state[T]) Value(key any) any {
	if key == any(s.m.key) {
		return s
	}
	return s.Context.Value(key)
}

// String describes the context without its contents.
func (s *state[T]) String() string { return "sealed.session(" + s.m.name + ")" }

// start begins a new session (new issue time and deadline) if there is none.
func (s *state[T]) start() {
	if !s.has {
		s.renew()
		s.has = true
	}
}

// drop forgets the session and everything that came with it (its cookie's
// Info, ID, subject, persistence, flashes), so that a session a later Put
// starts in the same request is new in every respect.
func (s *state[T]) drop() {
	var zero T
	s.val, s.has, s.flashes = zero, false, nil
	s.issued, s.deadline, s.refreshed, s.opened = 0, 0, 0, Info{}
	s.id, s.minted, s.subject = SessionID{}, 0, ""
	s.chosen, s.persist = false, false
}

// renew starts a new issue time, absolute deadline and session ID.
func (s *state[T]) renew() {
	s.mint(s.restart())
}

// restart starts a new issue time and absolute deadline, and returns now.
func (s *state[T]) restart() time.Time {
	now := s.m.now()
	s.issued, s.deadline = now.Unix(), now.Unix()+s.m.lifetime
	return now
}

// mint draws a new session ID, minted at now, to be registered in place of
// the previous one.
func (s *state[T]) mint(now time.Time) {
	if s.replaces == (SessionID{}) {
		s.replaces = s.id
	}
	rand.Read(s.id[:]) // never fails: crypto/rand crashes the program rather than return an error
	s.minted, s.register = now.UnixMilli(), true
}

func (s *state[T]) info() SessionInfo {
	if !s.has {
		return SessionInfo{}
	}
	return SessionInfo{
		Info:      s.opened,
		Issued:    time.Unix(s.issued, 0),
		Deadline:  time.Unix(s.deadline, 0),
		Refreshed: time.Unix(s.refreshed, 0),
		ID:        s.id,
		Subject:   s.subject,
	}
}

// commit writes the session's cookies into h once. Later calls do nothing.
func (s *state[T]) commit(h http.Header) error {
	reg, register, err := s.commitLocked(h)
	if register { // after unlocking: the store may do I/O
		if err := s.m.revs.Register(s.Context, reg); err != nil {
			s.m.report(s.Context, fmt.Errorf("sealed: registering the session for the device list: %w", err), true)
		}
	}
	return err
}

// commitLocked writes the cookies into h under s.mu, returning the record
// to register, if any.
func (s *state[T]) commitLocked(h http.Header) (reg SessionRecord, register bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.committed {
		return reg, false, nil
	}
	s.committed = true
	if s.dirty {
		if reg, register, err = s.m.write(h, s); err != nil {
			return reg, false, err // h untouched: the client keeps its cookies
		}
	}
	if s.loaded {
		cacheheader.VaryCookie(h, &s.vary) // the response depends on the Cookie header
	}
	return reg, register, nil
}
