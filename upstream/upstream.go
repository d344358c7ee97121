// Package upstream provides an [http.RoundTripper] that keeps one logged-in
// session with a backend and shares it among all the requests of a process.
//
// Use it when an application calls a legacy backend on behalf of all its
// users through a single service account: the backend wants a login (a form
// post that sets a session cookie, or a call that returns a token), and its
// session expires now and then. Put a [Transport] in an [http.Client] and
// every request to the backend carries the shared session; expiry and
// re-login are handled below the client. It is not for per-user sessions:
// those belong in the user's own cookie (package sealed).
//
// # Origin binding
//
// A Transport is bound to one origin, the backend's scheme, host and port:
// [Config].Origin, or by default the origin of the login's first request
// (for [FormLogin], that of its loginURL). This is a security property:
//
//   - Only requests to that origin get the session's headers (such as
//     Authorization: Bearer …) and cookies. A request to any other origin
//     is passed to [Config].Base untouched: it gets no session headers or
//     cookies, is never retried, and the cookies its response sets are not
//     stored. This holds for the redirects an [http.Client] follows too:
//     when the backend redirects to another origin, net/http strips
//     Authorization and the Transport does not put it back.
//   - Only responses from that origin can report the session expired. A 401
//     from another origin never ends the shared session or starts a login.
//   - Origins are compared as browsers do: the scheme and host without
//     regard to case, a missing port as the scheme's default (http://h is
//     http://h:80, https://h is https://h:443), and nothing else. Another
//     port, the other scheme, a subdomain, or the same server under another
//     name (an IP address, say) is another origin. The userinfo of a URL is
//     not part of its origin: http://backend@evil.example/ goes to
//     evil.example. A request whose Host field names another host or port
//     than its URL's origin is treated as going to another origin.
//   - When Config.Origin is not set, the origin is not known until the
//     first successful login, so until then every request, whatever its
//     origin, waits for a login and gets its error if it fails, as a request
//     to the backend does. Set Config.Origin to avoid that. If the login
//     sent no request to take the origin from, requests fail with an error
//     wrapping [ErrNoOrigin].
//
// The guarantees below are about requests to that origin.
//
// # Guarantees
//
//   - The first request logs in; later requests reuse the session.
//   - When responses report an expired session (see [Config].IsExpired), at
//     most one login runs at a time, however many requests hit the expiry at
//     once (single flight). The others wait for it, then are retried once.
//   - Every session has a generation number, and a request remembers the
//     generation it was sent with. A request that fails with an older
//     generation than the current one just retries with the current session;
//     only a failure of the current generation starts a login. So requests
//     that straggle in after a re-login never start another one.
//   - A login is attempted at most [Config].MaxLoginAttempts times, with
//     [Config].Backoff between attempts. If all attempts fail, every request
//     waiting for it gets an error wrapping [ErrLoginFailed]; a handler
//     usually answers 503 Service Unavailable. The next request tries again.
//   - A request whose context ends while it waits for a login returns at
//     once with the context's error. The login runs with the context of the
//     request that started it; if that context ends, a request still waiting
//     starts the login again.
//   - A request with a body is retried only if it can be replayed
//     ([http.Request].GetBody is set, as [http.NewRequest] does for
//     *bytes.Buffer, *bytes.Reader and *strings.Reader bodies). Otherwise the
//     expired response itself is returned to the caller, unread, and the next
//     request logs in before it is sent.
//   - A retried request whose retry is also reported expired is not retried
//     again: that response is returned, and the next request logs in.
//   - Responses the Transport discards are drained and closed. The Transport
//     starts no goroutines.
//
// # Cookies
//
// The Transport keeps the session cookies in [Config].Jar and adds them to
// every request to its origin itself, so use it in an [http.Client] whose
// Jar is nil.
// Cookies set by a response are stored only while the session the request
// was sent with is still the current one, so a late response can never
// overwrite the cookies of a newer login.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/textproto"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrLoginFailed is wrapped by the error a request gets when every login
// attempt failed. The error also wraps the last attempt's error. Test for it
// with [errors.Is]; an [http.Client] wraps it further in a *url.Error,
// which errors.Is sees through.
var ErrLoginFailed = errors.New("upstream: login failed")

// Defaults used by [New] for zero [Config] fields.
const (
	defaultMaxLoginAttempts = 3
	defaultBackoffBase      = 100 * time.Millisecond
	defaultBackoffMax       = 5 * time.Second
)

// LoginFunc logs in to the upstream. It must use client for its requests:
// client sends them through [Config].Base and keeps the cookies they set in
// [Config].Jar, so a cookie (form) login needs nothing more; see [FormLogin].
// A token login returns the headers to add to every request of the new
// session, for example Authorization: Bearer <token>; a cookie login returns
// nil. LoginFunc must honour ctx and return an error if the login did not
// succeed. It is never called concurrently with itself.
//
// Unless [Config].Origin is set, the origin of the first request the first
// successful login sends through client becomes the Transport's origin, the
// only one that gets the session; see "Origin binding" in the package
// documentation. A login whose first request goes elsewhere (an identity
// provider's token endpoint, say) needs Config.Origin.
type LoginFunc func(ctx context.Context, client *http.Client) (http.Header, error)

// Config configures a [Transport]. Only Login is required; [New] gives every
// zero field its documented default.
type Config struct {
	// Base sends the requests, including the login's.
	// Default: http.DefaultTransport.
	Base http.RoundTripper

	// Jar holds the session cookies.
	// Default: a new, empty net/http/cookiejar Jar with no public suffix list.
	Jar http.CookieJar

	// Login logs in. Required.
	Login LoginFunc

	// Origin is the backend's origin, "http://host", "https://host" or
	// either with ":port", for example "https://legacy.example.com:8443".
	// The Transport is bound to it: only requests to it get the session's
	// headers and cookies, and only its responses can report the session
	// expired (see "Origin binding" in the package documentation). The
	// scheme and host are case-insensitive and a missing port is the
	// scheme's default. A trailing "/" is allowed; a path, query, fragment
	// or userinfo is an error rather than ignored, since the session is
	// bound to the whole origin and not to part of it.
	// Default: the origin of the first request that the first successful
	// login sends through its client; for [FormLogin], that of loginURL.
	Origin string

	// IsExpired reports whether a response means the session has expired.
	// Default: the status is 401 Unauthorized, or LoginPath is set and the
	// response is a redirect (3xx) whose Location has the path LoginPath.
	IsExpired func(*http.Response) bool

	// LoginPath is the path of the upstream's login page, used by the
	// default IsExpired. Default: "" (redirects are never an expiry).
	LoginPath string

	// MaxLoginAttempts bounds the login attempts of one re-login; after that
	// many failures the waiting requests get [ErrLoginFailed]. Negative is
	// invalid. Default (0): 3.
	MaxLoginAttempts int

	// Backoff returns how long to wait after failed attempt number attempt
	// (1, 2, ...) before the next one. The wait ends early, with the
	// request's context error, if the context of the request running the
	// login ends. Default: ExponentialBackoff(100*time.Millisecond,
	// 5*time.Second), that is about 100ms, 200ms, 400ms, ... up to 5s.
	Backoff func(attempt int) time.Duration
}

// Transport is an [http.RoundTripper] that shares one logged-in upstream
// session among all its requests to one origin, and passes requests to any
// other origin through untouched (see "Origin binding" in the package
// documentation). Create it with [New]; it is safe for concurrent use.
type Transport struct {
	origin      atomic.Pointer[origin] // nil until known; then never changes
	base        http.RoundTripper
	jar         http.CookieJar
	login       LoginFunc
	isExpired   func(*http.Response) bool
	maxAttempts int
	backoff     func(int) time.Duration
	client      *http.Client // for Login: base and jar

	mu     sync.Mutex
	cur    session // the latest session; valid only if ok
	ok     bool    // cur is believed to be logged in
	flight *flight // the login in progress, or nil
}

var _ http.RoundTripper = (*Transport)(nil)

// session is one logged-in session. Its header is never modified.
type session struct {
	gen    uint64 // 1 for the first login, then +1 per login; 0 is no session
	header http.Header
}

// flight is a login in progress. Its fields other than done are written
// before done is closed and read only after.
type flight struct {
	done      chan struct{}
	waiters   int // requests waiting for it, besides the one running it; under Transport.mu
	s         session
	err       error
	abandoned bool    // the leader's context ended: a waiter should log in itself
	origin    *origin // of the successful login's first request, if the Transport's was unknown
}

// New validates cfg and returns a Transport. It returns an error if
// cfg.Login is nil, cfg.MaxLoginAttempts is negative, or cfg.Origin is set
// but is not an http or https origin.
func New(cfg Config) (*Transport, error) {
	if cfg.Login == nil {
		return nil, errors.New("upstream: Config.Login is nil")
	}
	if cfg.MaxLoginAttempts < 0 {
		return nil, fmt.Errorf("upstream: Config.MaxLoginAttempts is negative (%d)", cfg.MaxLoginAttempts)
	}
	var o *origin
	if cfg.Origin != "" {
		parsed, err := parseOrigin(cfg.Origin)
		if err != nil {
			return nil, err
		}
		o = &parsed
	}
	t := &Transport{
		base:        cfg.Base,
		jar:         cfg.Jar,
		login:       cfg.Login,
		isExpired:   cfg.IsExpired,
		maxAttempts: cfg.MaxLoginAttempts,
		backoff:     cfg.Backoff,
	}
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	if t.jar == nil {
		jar, err := cookiejar.New(nil)
		if err != nil {
			return nil, fmt.Errorf("upstream: cookie jar: %w", err)
		}
		t.jar = jar
	}
	if t.isExpired == nil {
		loginPath := cfg.LoginPath
		t.isExpired = func(resp *http.Response) bool { return defaultIsExpired(resp, loginPath) }
	}
	if t.maxAttempts == 0 {
		t.maxAttempts = defaultMaxLoginAttempts
	}
	if t.backoff == nil {
		t.backoff = ExponentialBackoff(defaultBackoffBase, defaultBackoffMax)
	}
	t.client = &http.Client{Transport: t.base, Jar: t.jar}
	t.origin.Store(o)
	return t, nil
}

func defaultIsExpired(resp *http.Response, loginPath string) bool {
	if resp.StatusCode == http.StatusUnauthorized {
		return true
	}
	if loginPath == "" || resp.StatusCode < 300 || resp.StatusCode > 399 {
		return false
	}
	loc, err := resp.Location()
	return err == nil && loc.Path == loginPath
}

// RoundTrip sends req. A request to the Transport's origin is sent with
// the shared session, logging in first if there is none, and retried once
// after a re-login if the response reports the session expired. A request
// to any other origin is sent through [Config].Base as it is. See the
// package documentation for the guarantees.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if o := t.origin.Load(); o != nil && !o.serves(req) {
		return t.base.RoundTrip(req)
	}
	ctx := req.Context()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil

	s, err := t.session(ctx)
	if err == nil && t.origin.Load() == nil {
		err = fmt.Errorf("%w: Config.Origin is not set and the login sent no http or https request through its client", ErrNoOrigin)
	}
	if err != nil {
		if req.Body != nil {
			req.Body.Close() // RoundTrip must always close the body
		}
		return nil, err
	}
	if !t.origin.Load().serves(req) {
		// The origin was not known before the login, and is not req's.
		return t.base.RoundTrip(req)
	}
	resp, expired, err := t.send(req, req.Body, s)
	if err != nil || !expired {
		return resp, err
	}
	t.expire(s.gen)
	if !replayable {
		return resp, nil
	}
	body := req.Body
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return resp, nil // not retried: the caller gets the expired response
		}
	}
	discard(resp)

	if s, err = t.session(ctx); err != nil {
		if body != nil {
			body.Close()
		}
		return nil, err
	}
	resp, expired, err = t.send(req, body, s)
	if expired {
		t.expire(s.gen) // retried once already: the caller gets this response
	}
	return resp, err
}

// send sends a copy of req with body and the cookies and headers of s, and
// reports whether the response says s has expired. It stores the cookies of
// the response if s is still current and has not expired.
func (t *Transport) send(req *http.Request, body io.ReadCloser, s session) (resp *http.Response, expired bool, err error) {
	r := req.Clone(req.Context())
	r.Body = body
	for k, v := range s.header {
		r.Header[textproto.CanonicalMIMEHeaderKey(k)] = slices.Clone(v)
	}
	for _, c := range t.jar.Cookies(r.URL) {
		r.AddCookie(c)
	}
	resp, err = t.base.RoundTrip(r)
	if err != nil {
		return nil, false, err
	}
	expired = t.isExpired(resp)
	if cookies := resp.Cookies(); len(cookies) > 0 && !expired {
		// Under mu, so that a login cannot start between the check and
		// the store and then see its cookies overwritten.
		t.mu.Lock()
		if t.ok && t.cur.gen == s.gen {
			t.jar.SetCookies(r.URL, cookies)
		}
		t.mu.Unlock()
	}
	return resp, expired, nil
}

// expire records that session generation gen has expired. It does nothing
// if a newer session has replaced gen already.
func (t *Transport) expire(gen uint64) {
	t.mu.Lock()
	if t.ok && t.cur.gen == gen {
		t.ok = false
	}
	t.mu.Unlock()
}

// session returns the current session, logging in first if there is none.
// Concurrent callers share one login: the first runs it, the others wait.
func (t *Transport) session(ctx context.Context) (session, error) {
	for {
		t.mu.Lock()
		if t.ok {
			s := t.cur
			t.mu.Unlock()
			return s, nil
		}
		f := t.flight
		if f == nil {
			f = &flight{done: make(chan struct{})}
			t.flight = f
			t.mu.Unlock()
			t.lead(ctx, f)
			return f.s, f.err
		}
		f.waiters++
		t.mu.Unlock()

		select {
		case <-f.done:
		case <-ctx.Done():
			t.mu.Lock()
			f.waiters--
			t.mu.Unlock()
			return session{}, ctx.Err()
		}
		if !f.abandoned {
			return f.s, f.err
		}
		// The leader gave up because its context ended; take over.
	}
}

// lead runs the login of flight f with up to maxAttempts attempts and
// publishes the result.
func (t *Transport) lead(ctx context.Context, f *flight) {
	finished := false
	defer func() {
		// Runs on panic too, so that waiters never wait for nothing.
		t.mu.Lock()
		if !finished {
			f.abandoned = true
			f.err = errors.New("upstream: login panicked")
		} else if f.err == nil {
			f.s.gen = t.cur.gen + 1
			t.cur, t.ok = f.s, true
			if f.origin != nil {
				t.origin.CompareAndSwap(nil, f.origin)
			}
		}
		t.flight = nil
		t.mu.Unlock()
		close(f.done)
	}()

	for attempt := 1; ; attempt++ {
		client := t.client
		var first *firstRequest
		if t.origin.Load() == nil {
			// Learn the origin from this attempt's first request.
			first = &firstRequest{base: t.base}
			client = &http.Client{Transport: first, Jar: t.jar}
		}
		h, err := t.login(ctx, client)
		if err == nil {
			f.s.header = h.Clone()
			if first != nil {
				if o, ok := first.origin(); ok {
					f.origin = &o
				}
			}
			break
		}
		if ctx.Err() != nil {
			f.err, f.abandoned = ctx.Err(), true
			break
		}
		if attempt >= t.maxAttempts {
			f.err = fmt.Errorf("%w after %d attempts: %w", ErrLoginFailed, attempt, err)
			break
		}
		if !sleep(ctx, t.backoff(attempt)) {
			f.err, f.abandoned = ctx.Err(), true
			break
		}
	}
	finished = true
}

// sleep waits for d or until ctx ends, and reports whether it waited for d.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// maxDrain bounds how much of a discarded body is read so that its
// connection can be reused; a longer body is just closed.
const maxDrain = 64 << 10

// discard drains and closes the body of a response that is not returned.
func discard(resp *http.Response) {
	io.CopyN(io.Discard, resp.Body, maxDrain)
	resp.Body.Close()
}
