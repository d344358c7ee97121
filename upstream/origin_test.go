package upstream_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealedcookie/sealed/upstream"
)

// The tests in this file check that the Transport is bound to the upstream's
// origin: only requests to it carry the session, and only its responses can
// report the session expired.

// canary is the Authorization header that sessionLogin returns with the
// session cookie, and canaryToken its X-Service-Token header (a header that,
// unlike Authorization, net/http keeps on a redirect to another host), so
// that a leak of any kind of credential shows.
const (
	canary      = "Bearer canary-token"
	canaryToken = "canary-service-token"
)

// sessionLogin logs in with the form at loginURL, which sets the session
// cookie, and also returns the canary headers.
func sessionLogin(loginURL string) upstream.LoginFunc {
	form := upstream.FormLogin(loginURL, url.Values{"user": {"svc"}, "password": {"pw"}})
	return func(ctx context.Context, c *http.Client) (http.Header, error) {
		if _, err := form(ctx, c); err != nil {
			return nil, err
		}
		return http.Header{"Authorization": {canary}, "X-Service-Token": {canaryToken}}, nil
	}
}

// handleGoto redirects a request that carries the current session cookie to
// the URL in its "to" parameter, as an upstream that hands out links to
// another host does. Any other request gets 401.
func (b *backend) handleGoto(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	sid := b.sid
	b.mu.Unlock()
	if c, err := r.Cookie("sid"); sid == "" || err != nil || c.Value != sid {
		b.rejected.Add(1)
		http.Error(w, "session expired", http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
}

// foreign is a server on another origin than the upstream's. It records the
// requests it gets and answers 401 to all of them.
type foreign struct {
	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	url, auth, cookie, token string
}

const foreignBody = "foreign: unauthorized\n"

func (f *foreign) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	f.mu.Lock()
	f.seen = append(f.seen, seenRequest{
		url:    scheme + "://" + r.Host + r.URL.RequestURI(),
		auth:   r.Header.Get("Authorization"),
		cookie: r.Header.Get("Cookie"),
		token:  r.Header.Get("X-Service-Token"),
	})
	f.mu.Unlock()
	http.Error(w, strings.TrimSuffix(foreignBody, "\n"), http.StatusUnauthorized)
}

// take returns the requests f got since the last call.
func (f *foreign) take() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := f.seen
	f.seen = nil
	return seen
}

// checkNoCredentials fails the test unless f got exactly n requests since the
// last check, none of them with a session credential. wantAuth is the Authorization header the
// requests are expected to carry on their own ("" for none): a URL with
// userinfo gets Basic authentication from http.Client itself.
func checkNoCredentials(t *testing.T, f *foreign, n int, wantAuth string) {
	t.Helper()
	seen := f.take()
	if len(seen) != n {
		t.Errorf("the other origin got %d requests, want %d", len(seen), n)
	}
	var leaks []seenRequest
	for _, r := range seen {
		if r.auth != wantAuth || r.cookie != "" || r.token != "" {
			leaks = append(leaks, r)
		}
	}
	if len(leaks) > 0 {
		r := leaks[0]
		t.Errorf("%d of %d requests to the other origin had session credentials, such as %s with Authorization %q, Cookie %q, X-Service-Token %q; want Authorization %q and no Cookie or X-Service-Token",
			len(leaks), len(seen), r.url, r.auth, r.cookie, r.token, wantAuth)
	}
}

func getURL(ctx context.Context, c *http.Client, u string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, "", err
	}
	return do(c, req)
}

// mustGetForeign fetches u, which is on another origin, and fails the test
// unless the answer is the foreign server's 401.
func mustGetForeign(t *testing.T, c *http.Client, u string) {
	t.Helper()
	status, body, err := getURL(context.Background(), c, u)
	if err != nil || status != http.StatusUnauthorized || body != foreignBody {
		t.Fatalf("GET %s: %d %q, %v; want the other origin's 401 %q", u, status, body, err, foreignBody)
	}
}

func checkLogins(t *testing.T, b *backend, want int64, when string) {
	t.Helper()
	if n := b.logins.Load(); n != want {
		t.Errorf("%s: %d logins, want %d", when, n, want)
	}
}

// TestCrossOriginRedirect follows a redirect from the upstream to a second
// test server on another port of the same host. The second server must get
// neither the session's Authorization header nor its cookie (a cookie jar
// ignores ports), and its 401 must not start a login.
func TestCrossOriginRedirect(t *testing.T) {
	checkGoroutines(t)
	b := newBackend(t, false)
	f := &foreign{}
	other := httptest.NewServer(f)
	t.Cleanup(other.Close)
	c, bodies := newClient(t, b, upstream.Config{Login: sessionLogin(b.srv.URL + "/login")})

	mustGet(t, c, b, 1)
	mustGetForeign(t, c, b.srv.URL+"/goto?to="+url.QueryEscape(other.URL+"/download"))
	checkNoCredentials(t, f, 1, "")
	checkLogins(t, b, 1, "after the other origin's 401")

	mustGet(t, c, b, 2) // the session is still good
	checkLogins(t, b, 1, "at the end")
	if n := b.rejected.Load(); n != 0 {
		t.Errorf("the upstream rejected %d requests, want 0", n)
	}
	if o, c := bodies.opened.Load(), bodies.closed.Load(); o != c {
		t.Errorf("%d response bodies opened, %d closed", o, c)
	}
}

// The upstream of the tests below is at upstreamURL on a fake network (see
// fakeNet), which also has other origins that differ from it in one part.
const upstreamURL = "http://upstream.example.com"

var otherOrigins = []struct {
	name, url, wantAuth string
}{
	{"port", "http://upstream.example.com:8080", ""},
	{"scheme", "https://upstream.example.com:80", ""},
	{"scheme and port", "https://upstream.example.com", ""},
	{"host", "http://other.example.com", ""},
	{"subdomain", "http://api.upstream.example.com", ""},
	{"userinfo", "http://upstream.example.com:80@other.example.com",
		"Basic " + base64.StdEncoding.EncodeToString([]byte("upstream.example.com:80"))},
}

// fakeNet returns a base transport whose network maps the host:port of http
// URLs by plain, and that of https URLs by secure, to the addresses of test
// servers. https connections trust tlsSrv's certificate, which covers
// *.example.com.
func fakeNet(t *testing.T, plain, secure map[string]string, tlsSrv *httptest.Server) *http.Transport {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())
	var d net.Dialer
	lookup := func(m map[string]string, addr string) (string, error) {
		if a, ok := m[strings.ToLower(addr)]; ok {
			return a, nil
		}
		return "", fmt.Errorf("fakeNet: nothing listens at %s", addr)
	}
	tr := &http.Transport{
		MaxIdleConnsPerHost: 256,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			a, err := lookup(plain, addr)
			if err != nil {
				return nil, err
			}
			return d.DialContext(ctx, network, a)
		},
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			a, err := lookup(secure, addr)
			if err != nil {
				return nil, err
			}
			conn, err := d.DialContext(ctx, network, a)
			if err != nil {
				return nil, err
			}
			host, _, _ := net.SplitHostPort(addr)
			tc := tls.Client(conn, &tls.Config{RootCAs: pool, ServerName: host})
			if err := tc.HandshakeContext(ctx); err != nil {
				conn.Close()
				return nil, err
			}
			return tc, nil
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// world is an upstream and a foreign server on every origin of otherOrigins,
// and a client with a Transport for the upstream.
type world struct {
	b      *backend
	f      *foreign
	c      *http.Client
	bodies *bodyCounter
}

func newWorld(t *testing.T, cfg upstream.Config) *world {
	t.Helper()
	b := newBackend(t, false)
	f := &foreign{}
	plain := httptest.NewServer(f)
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(f)
	t.Cleanup(secure.Close)
	base := fakeNet(t, map[string]string{
		"upstream.example.com:80":     b.srv.Listener.Addr().String(),
		"upstream.example.com:8080":   plain.Listener.Addr().String(),
		"other.example.com:80":        plain.Listener.Addr().String(),
		"api.upstream.example.com:80": plain.Listener.Addr().String(),
		"login.example.com:80":        b.srv.Listener.Addr().String(), // the upstream under another name
	}, map[string]string{
		"upstream.example.com:80":  secure.Listener.Addr().String(),
		"upstream.example.com:443": secure.Listener.Addr().String(),
	}, secure)
	counter := &bodyCounter{base: base}
	cfg.Base = counter
	if cfg.Login == nil {
		cfg.Login = sessionLogin(upstreamURL + "/login")
	}
	cfg.Backoff = func(int) time.Duration { return 0 }
	tr, err := upstream.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &world{b: b, f: f, c: &http.Client{Transport: tr}, bodies: counter}
}

// mustGet fetches /data?id=id from the upstream at base (upstreamURL spelt
// some way) and fails the test unless it is served.
func (w *world) mustGet(t *testing.T, base string, id int) {
	t.Helper()
	u := fmt.Sprintf("%s/data?id=%d", base, id)
	status, body, err := getURL(context.Background(), w.c, u)
	if want := fmt.Sprintf("ok %d", id); err != nil || status != http.StatusOK || body != want {
		t.Fatalf("GET %s: %d %q, %v; want 200 %q", u, status, body, err, want)
	}
}

func (w *world) checkBodies(t *testing.T) {
	t.Helper()
	if o, c := w.bodies.opened.Load(), w.bodies.closed.Load(); o != c {
		t.Errorf("%d response bodies opened, %d closed", o, c)
	}
}

// TestCrossOriginRedirectVariants follows a redirect from the upstream to
// origins that differ from it in scheme, host, port, or only seem to match
// because of userinfo.
func TestCrossOriginRedirectVariants(t *testing.T) {
	for _, o := range otherOrigins {
		t.Run(o.name, func(t *testing.T) {
			checkGoroutines(t)
			w := newWorld(t, upstream.Config{})
			w.mustGet(t, upstreamURL, 1)
			mustGetForeign(t, w.c, upstreamURL+"/goto?to="+url.QueryEscape(o.url+"/download"))
			checkNoCredentials(t, w.f, 1, o.wantAuth)
			checkLogins(t, w.b, 1, "after the other origin's 401")
			w.mustGet(t, upstreamURL, 2)
			checkLogins(t, w.b, 1, "at the end")
			w.checkBodies(t)
		})
	}
}

// TestClientReusedForAnotherAPI uses the upstream's client for other origins
// directly: they get no credentials, and their 401s are not an expiry.
func TestClientReusedForAnotherAPI(t *testing.T) {
	checkGoroutines(t)
	w := newWorld(t, upstream.Config{})
	w.mustGet(t, upstreamURL, 1)
	for _, o := range otherOrigins {
		mustGetForeign(t, w.c, o.url+"/api/v2/items")
		checkNoCredentials(t, w.f, 1, o.wantAuth)

		req, err := http.NewRequest(http.MethodPost, o.url+"/api/v2/items", strings.NewReader(`{"replayable":true}`))
		if err != nil {
			t.Fatal(err)
		}
		status, body, err := do(w.c, req)
		if err != nil || status != http.StatusUnauthorized || body != foreignBody {
			t.Fatalf("POST %s: %d %q, %v; want the other origin's 401", o.url, status, body, err)
		}
		checkNoCredentials(t, w.f, 1, o.wantAuth)
	}
	checkLogins(t, w.b, 1, "after the other origins' 401s")
	w.mustGet(t, upstreamURL, 2)
	checkLogins(t, w.b, 1, "at the end")
	if n := w.b.rejected.Load(); n != 0 {
		t.Errorf("the upstream rejected %d requests, want 0", n)
	}
	w.checkBodies(t)
}

// TestOtherOriginFirst sends the first request of a Transport whose origin is
// not configured to another origin: the Transport logs in to learn its
// origin from the login, then sends the request without credentials.
func TestOtherOriginFirst(t *testing.T) {
	checkGoroutines(t)
	w := newWorld(t, upstream.Config{})
	mustGetForeign(t, w.c, "http://other.example.com/api")
	checkNoCredentials(t, w.f, 1, "")
	checkLogins(t, w.b, 1, "after the first request")
	w.mustGet(t, upstreamURL, 1)
	checkLogins(t, w.b, 1, "at the end")
	w.checkBodies(t)
}

// TestBoundOriginSpellings sends requests to the upstream's origin spelt in
// several ways: they all carry the session, and a 401 from it still starts
// exactly one login.
func TestBoundOriginSpellings(t *testing.T) {
	checkGoroutines(t)
	w := newWorld(t, upstream.Config{})
	spellings := []string{
		upstreamURL,
		"http://upstream.example.com:80",
		"http://UPSTREAM.Example.COM",
		"HTTP://upstream.example.com:80",
		"http://svc:secret@upstream.example.com",
		"http://other.example.com@upstream.example.com:80",
	}
	for i, base := range spellings {
		w.mustGet(t, base, i)
	}
	checkLogins(t, w.b, 1, "after a request per spelling")
	for i, base := range spellings {
		w.b.expire()
		w.mustGet(t, base, 100+i)
		checkLogins(t, w.b, int64(2+i), fmt.Sprintf("after expiry %d", i+1))
	}
	if n := w.b.rejected.Load(); n != int64(len(spellings)) {
		t.Errorf("the upstream rejected %d requests, want %d (one per expiry)", n, len(spellings))
	}
	checkNoCredentials(t, w.f, 0, "")
	w.checkBodies(t)
}

// TestConcurrentExpiryWithOtherOrigins expires the session under 100
// concurrent upstream requests while 100 requests to other origins get 401s:
// exactly one login follows, and the other origins get no credentials.
func TestConcurrentExpiryWithOtherOrigins(t *testing.T) {
	const concurrent = 100
	checkGoroutines(t)
	w := newWorld(t, upstream.Config{})
	w.mustGet(t, upstreamURL, -1)

	w.b.holdNext(concurrent)
	var wg sync.WaitGroup
	errs := make(chan error, 2*concurrent)
	for i := range concurrent {
		wg.Go(func() {
			u := fmt.Sprintf("%s/data?id=%d", upstreamURL, i)
			status, body, err := getURL(context.Background(), w.c, u)
			if want := fmt.Sprintf("ok %d", i); err != nil || status != http.StatusOK || body != want {
				errs <- fmt.Errorf("GET %s: %d %q, %v; want 200 %q", u, status, body, err, want)
			}
		})
		wg.Go(func() {
			u := fmt.Sprintf("http://other.example.com/api?id=%d", i)
			status, body, err := getURL(context.Background(), w.c, u)
			if err != nil || status != http.StatusUnauthorized || body != foreignBody {
				errs <- fmt.Errorf("GET %s: %d %q, %v; want the other origin's 401", u, status, body, err)
			}
		})
	}
	wg.Wait()
	w.b.unhold()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkLogins(t, w.b, 2, "after the expiry")
	checkNoCredentials(t, w.f, concurrent, "")
	w.checkBodies(t)
}

func TestNewValidatesOrigin(t *testing.T) {
	login := func(context.Context, *http.Client) (http.Header, error) { return nil, nil }
	for _, origin := range []string{
		"upstream.example.com",
		"upstream.example.com:80",
		"//upstream.example.com",
		"ftp://upstream.example.com",
		"ws://upstream.example.com",
		"http://",
		"http:upstream.example.com",
		"http:///path",
		"http://user@upstream.example.com",
		"http://user:pw@upstream.example.com",
		"http://upstream.example.com/api",
		"http://upstream.example.com//",
		"http://upstream.example.com?",
		"http://upstream.example.com/?q=1",
		"http://upstream.example.com#top",
		"http://upstream.example.com:0",
		"http://upstream.example.com:65536",
		"http://upstream.example.com:http",
		"http://[::1",
		" http://upstream.example.com",
	} {
		if _, err := upstream.New(upstream.Config{Login: login, Origin: origin}); err == nil {
			t.Errorf("Origin %q: New succeeded, want an error", origin)
		} else if !strings.Contains(err.Error(), "Config.Origin") {
			t.Errorf("Origin %q: error %q does not name Config.Origin", origin, err)
		}
	}
	for _, origin := range []string{
		"http://upstream.example.com",
		"http://upstream.example.com/",
		"HTTPS://Upstream.Example.COM:8443",
		"https://upstream.example.com:",
		"http://127.0.0.1:8080",
		"http://[::1]:8080",
	} {
		if _, err := upstream.New(upstream.Config{Login: login, Origin: origin}); err != nil {
			t.Errorf("Origin %q: %v", origin, err)
		}
	}
}

// tokenLoginAt returns a LoginFunc that gets a bearer token from the
// backend's /token at tokenURL.
func tokenLoginAt(tokenURL string) upstream.LoginFunc {
	return func(ctx context.Context, c *http.Client) (http.Header, error) {
		form := url.Values{"user": {"svc"}, "password": {"pw"}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		tok, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("token: %s, %v", resp.Status, err)
		}
		return http.Header{"Authorization": {"Bearer " + string(tok)}}, nil
	}
}

// TestConfiguredOrigin logs in at one origin (a token endpoint) for requests
// to another, which needs Config.Origin.
func TestConfiguredOrigin(t *testing.T) {
	const tokenURL = "http://login.example.com/token" // the same server as upstreamURL
	t.Run("set", func(t *testing.T) {
		checkGoroutines(t)
		w := newWorld(t, upstream.Config{
			Login:  tokenLoginAt(tokenURL),
			Origin: "HTTP://Upstream.Example.COM:80/",
		})
		// With the origin known, a request to another origin needs no login.
		mustGetForeign(t, w.c, "http://other.example.com/api")
		checkNoCredentials(t, w.f, 1, "")
		if n := w.b.attempts.Load(); n != 0 {
			t.Errorf("%d login attempts for a request to another origin, want 0", n)
		}

		w.mustGet(t, upstreamURL, 1)
		checkLogins(t, w.b, 1, "after the first upstream request")

		// The token endpoint's origin is not the Transport's: a request
		// there gets no token, and its 401 is not an expiry.
		status, _, err := getURL(context.Background(), w.c, "http://login.example.com/data?id=2")
		if err != nil || status != http.StatusUnauthorized {
			t.Fatalf("GET from the token endpoint's origin: %d, %v; want 401", status, err)
		}
		checkLogins(t, w.b, 1, "after a 401 from the token endpoint's origin")

		w.b.expire()
		w.mustGet(t, upstreamURL, 3)
		checkLogins(t, w.b, 2, "after an expiry")
		w.checkBodies(t)
	})
	t.Run("not set", func(t *testing.T) {
		// The Transport is bound to the token endpoint's origin, so the
		// upstream gets no token: it fails closed.
		checkGoroutines(t)
		w := newWorld(t, upstream.Config{Login: tokenLoginAt(tokenURL)})
		status, _, err := getURL(context.Background(), w.c, upstreamURL+"/data?id=1")
		if err != nil || status != http.StatusUnauthorized {
			t.Fatalf("GET: %d, %v; want the upstream's 401 to a request without a session", status, err)
		}
		checkLogins(t, w.b, 1, "after a 401 from an origin the Transport is not bound to")
		w.checkBodies(t)
	})
}

// TestNoOrigin uses a login that sends no request, with no Config.Origin:
// no request gets the session, whatever its origin.
func TestNoOrigin(t *testing.T) {
	checkGoroutines(t)
	var calls atomic.Int64
	w := newWorld(t, upstream.Config{
		Login: func(context.Context, *http.Client) (http.Header, error) {
			calls.Add(1)
			return http.Header{"Authorization": {canary}}, nil
		},
	})
	for _, u := range []string{upstreamURL + "/data?id=1", "http://other.example.com/api", upstreamURL + "/data?id=2"} {
		_, _, err := getURL(context.Background(), w.c, u)
		if !errors.Is(err, upstream.ErrNoOrigin) {
			t.Errorf("GET %s: %v, want ErrNoOrigin", u, err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d logins, want 1", n)
	}
	checkNoCredentials(t, w.f, 0, "")
	if n := w.b.rejected.Load() + w.b.served.Load(); n != 0 {
		t.Errorf("the upstream got %d data requests, want 0", n)
	}
}
