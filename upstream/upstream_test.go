package upstream_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealedcookie/sealed/upstream"
)

// safety bounds waits that only end early if the code under test is broken,
// so that a broken implementation fails the test instead of hanging it. No
// test depends on how fast anything runs.
const safety = 10 * time.Second

// backend is a legacy upstream with one service account. POST /login (form
// user=svc, password=pw) sets the session cookie "sid"; POST /token returns
// the same session id as a bearer token. /data?id=N answers "ok N" (plus
// " body=..." for a request body) to a request with the current session, and
// "session expired" as a 401, or a 302 to /login if redirect is set,
// otherwise. /goto?to=URL redirects a request with the current session to
// URL (see origin_test.go).
type backend struct {
	t        *testing.T
	srv      *httptest.Server
	redirect bool

	logins   atomic.Int64 // successful logins
	attempts atomic.Int64 // login attempts, successful or not
	loginOK  atomic.Bool
	rejected atomic.Int64 // responses reporting an expired session
	served   atomic.Int64 // /data requests answered 200

	mu     sync.Mutex
	sid    string   // current session; "" for none
	bodies []string // request bodies received by /data, in order
	hold   *hold    // if set, /data requests wait for one another
}

// hold makes n /data requests wait until all n have arrived, then expires
// the session and lets them go: every one of them was sent with the session
// that has just expired. A login waits until all n have been rejected.
type hold struct {
	n            int64
	arrived      int64 // under backend.mu
	release      chan struct{}
	rejected     atomic.Int64
	allRejected  chan struct{}
	rejectedOnce sync.Once
}

func newBackend(t *testing.T, redirect bool) *backend {
	b := &backend{t: t, redirect: redirect}
	b.loginOK.Store(true)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", b.handleLogin)
	mux.HandleFunc("POST /token", b.handleLogin)
	mux.HandleFunc("/data", b.handleData)
	mux.HandleFunc("/goto", b.handleGoto)
	b.srv = httptest.NewServer(mux)
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) handleLogin(w http.ResponseWriter, r *http.Request) {
	b.attempts.Add(1)
	if !b.loginOK.Load() {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	if r.PostFormValue("user") != "svc" || r.PostFormValue("password") != "pw" {
		http.Redirect(w, r, "/login?error=1", http.StatusSeeOther)
		return
	}
	b.mu.Lock()
	h := b.hold
	b.mu.Unlock()
	if h != nil {
		select {
		case <-h.allRejected:
		case <-time.After(safety):
			b.t.Errorf("login: only %d of %d held requests were rejected", h.rejected.Load(), h.n)
		}
	}
	n := b.logins.Add(1)
	sid := fmt.Sprintf("s%d", n)
	b.mu.Lock()
	b.sid = sid
	b.mu.Unlock()
	if r.URL.Path == "/token" {
		io.WriteString(w, sid)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, Path: "/"})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (b *backend) handleData(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	if len(body) > 0 {
		b.bodies = append(b.bodies, string(body))
	}
	h := b.hold
	if h != nil {
		h.arrived++
		if h.arrived == h.n {
			b.sid = "" // expire the session all n were sent with
			close(h.release)
		}
	}
	b.mu.Unlock()
	if h != nil {
		select {
		case <-h.release:
		case <-time.After(safety):
			b.t.Errorf("data: only %d of %d requests arrived", h.arrived, h.n)
		}
	}

	b.mu.Lock()
	sid := b.sid
	b.mu.Unlock()
	got := r.Header.Get("Authorization")
	if c, err := r.Cookie("sid"); err == nil {
		got = c.Value
	}
	if sid == "" || (got != sid && got != "Bearer "+sid) {
		b.rejected.Add(1)
		if h != nil && h.rejected.Add(1) == h.n {
			h.rejectedOnce.Do(func() { close(h.allRejected) })
		}
		if b.redirect {
			http.Redirect(w, r, "/login?next=/data", http.StatusFound)
			return
		}
		http.Error(w, "session expired", http.StatusUnauthorized)
		return
	}
	b.served.Add(1)
	fmt.Fprintf(w, "ok %s", r.URL.Query().Get("id"))
	if len(body) > 0 {
		fmt.Fprintf(w, " body=%s", body)
	}
}

// expire ends the current session now.
func (b *backend) expire() {
	b.mu.Lock()
	b.sid = ""
	b.mu.Unlock()
}

// holdNext arms a hold for the next n /data requests; see hold.
func (b *backend) holdNext(n int64) {
	b.mu.Lock()
	b.hold = &hold{n: n, release: make(chan struct{}), allRejected: make(chan struct{})}
	b.mu.Unlock()
}

func (b *backend) unhold() {
	b.mu.Lock()
	b.hold = nil
	b.mu.Unlock()
}

func (b *backend) receivedBodies() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.bodies)
}

// bodyCounter wraps a RoundTripper and counts the response bodies it hands
// out and the ones closed.
type bodyCounter struct {
	base           http.RoundTripper
	opened, closed atomic.Int64
}

func (c *bodyCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err == nil {
		c.opened.Add(1)
		resp.Body = &countedBody{ReadCloser: resp.Body, c: c}
	}
	return resp, err
}

type countedBody struct {
	io.ReadCloser
	c    *bodyCounter
	once sync.Once
}

func (b *countedBody) Close() error {
	b.once.Do(func() { b.c.closed.Add(1) })
	return b.ReadCloser.Close()
}

// checkGoroutines fails the test if, once the test and its cleanups are done,
// more goroutines run than when it was called. Call it first, so that its
// cleanup runs last, after the servers and transports are closed.
func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(safety)
		for {
			now := runtime.NumGoroutine()
			if now <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d before, %d after\n%s", before, now, buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// newClient returns a client whose Transport shares one session with b,
// logging in with a form, and the body counter under it.
func newClient(t *testing.T, b *backend, cfg upstream.Config) (*http.Client, *bodyCounter) {
	t.Helper()
	base := &http.Transport{MaxIdleConnsPerHost: 256}
	t.Cleanup(base.CloseIdleConnections)
	counter := &bodyCounter{base: base}
	cfg.Base = counter
	if cfg.Login == nil {
		cfg.Login = upstream.FormLogin(b.srv.URL+"/login", url.Values{"user": {"svc"}, "password": {"pw"}})
	}
	if cfg.LoginPath == "" {
		cfg.LoginPath = "/login"
	}
	if cfg.Backoff == nil {
		cfg.Backoff = func(int) time.Duration { return 0 }
	}
	tr, err := upstream.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: tr}, counter
}

// get fetches /data?id=id and returns the status and body.
func get(ctx context.Context, c *http.Client, b *backend, id int) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/data?id=%d", b.srv.URL, id), nil)
	if err != nil {
		return 0, "", err
	}
	return do(c, req)
}

func do(c *http.Client, req *http.Request) (int, string, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

func mustGet(t *testing.T, c *http.Client, b *backend, id int) {
	t.Helper()
	status, body, err := get(context.Background(), c, b, id)
	if want := fmt.Sprintf("ok %d", id); err != nil || status != http.StatusOK || body != want {
		t.Fatalf("GET id=%d: %d %q, %v; want 200 %q", id, status, body, err, want)
	}
}

func TestNewValidates(t *testing.T) {
	login := func(context.Context, *http.Client) (http.Header, error) { return nil, nil }
	for name, cfg := range map[string]upstream.Config{
		"no Login":          {},
		"negative attempts": {Login: login, MaxLoginAttempts: -1},
	} {
		if _, err := upstream.New(cfg); err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
		}
	}
	if _, err := upstream.New(upstream.Config{Login: login}); err != nil {
		t.Errorf("New with only Login: %v", err)
	}
}

// TestConcurrentExpiry sends 200 concurrent requests, all with the session
// that the upstream expires as they arrive, for several rounds, with the
// expiry reported both as 401 and as a redirect to the login page.
func TestConcurrentExpiry(t *testing.T) {
	const (
		concurrent = 200
		rounds     = 3
	)
	for _, redirect := range []bool{false, true} {
		t.Run(fmt.Sprintf("redirect=%v", redirect), func(t *testing.T) {
			checkGoroutines(t)
			b := newBackend(t, redirect)
			c, bodies := newClient(t, b, upstream.Config{})

			mustGet(t, c, b, -1) // the first request logs in
			if n := b.logins.Load(); n != 1 {
				t.Fatalf("logins after the first request = %d, want 1", n)
			}

			for round := 1; round <= rounds; round++ {
				b.holdNext(concurrent)
				rejectedBefore := b.rejected.Load()
				var wg sync.WaitGroup
				errs := make(chan error, concurrent)
				for i := range concurrent {
					wg.Go(func() {
						status, body, err := get(context.Background(), c, b, i)
						if want := fmt.Sprintf("ok %d", i); err != nil || status != http.StatusOK || body != want {
							errs <- fmt.Errorf("request %d: %d %q, %v; want 200 %q", i, status, body, err, want)
						}
					})
				}
				wg.Wait()
				b.unhold()
				close(errs)
				for err := range errs {
					t.Error(err)
				}
				if n := b.rejected.Load() - rejectedBefore; n != concurrent {
					t.Errorf("round %d: %d requests hit the expiry, want all %d", round, n, concurrent)
				}
				if n := b.logins.Load(); n != int64(1+round) {
					t.Fatalf("round %d: %d logins in all, want %d (one per expiry)", round, n, 1+round)
				}
			}
			if n := b.served.Load(); n != 1+rounds*concurrent {
				t.Errorf("upstream served %d requests, want %d", n, 1+rounds*concurrent)
			}
			if o, c := bodies.opened.Load(), bodies.closed.Load(); o != c {
				t.Errorf("%d response bodies opened, %d closed", o, c)
			}
		})
	}
}

func TestLoginFailsAfterBoundedAttempts(t *testing.T) {
	checkGoroutines(t)
	b := newBackend(t, false)
	var mu sync.Mutex
	var waits []int
	c, bodies := newClient(t, b, upstream.Config{
		MaxLoginAttempts: 4,
		Backoff: func(attempt int) time.Duration {
			mu.Lock()
			waits = append(waits, attempt)
			mu.Unlock()
			return time.Millisecond
		},
	})
	b.loginOK.Store(false)

	_, _, err := get(context.Background(), c, b, 1)
	if !errors.Is(err, upstream.ErrLoginFailed) {
		t.Fatalf("error = %v, want ErrLoginFailed", err)
	}
	if n := b.attempts.Load(); n != 4 {
		t.Errorf("login attempts = %d, want MaxLoginAttempts = 4", n)
	}
	if want := []int{1, 2, 3}; !slices.Equal(waits, want) {
		t.Errorf("backoff called for attempts %v, want %v (between attempts only)", waits, want)
	}
	if n := b.rejected.Load() + b.served.Load(); n != 0 {
		t.Errorf("%d requests reached /data without a session", n)
	}

	// The upstream recovers: the next request logs in again and succeeds.
	b.loginOK.Store(true)
	mustGet(t, c, b, 2)
	if n := b.attempts.Load(); n != 5 {
		t.Errorf("login attempts = %d, want 5", n)
	}
	if o, c := bodies.opened.Load(), bodies.closed.Load(); o != c {
		t.Errorf("%d response bodies opened, %d closed", o, c)
	}
}

func TestBadCredentials(t *testing.T) {
	b := newBackend(t, false)
	c, _ := newClient(t, b, upstream.Config{
		MaxLoginAttempts: 2,
		Login:            upstream.FormLogin(b.srv.URL+"/login", url.Values{"user": {"svc"}, "password": {"wrong"}}),
	})
	_, _, err := get(context.Background(), c, b, 1)
	if !errors.Is(err, upstream.ErrLoginFailed) {
		t.Fatalf("error = %v, want ErrLoginFailed", err)
	}
	if n := b.attempts.Load(); n != 2 {
		t.Errorf("login attempts = %d, want 2", n)
	}
}

func TestBackoffHonoursContext(t *testing.T) {
	checkGoroutines(t)
	b := newBackend(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, _ := newClient(t, b, upstream.Config{
		Backoff: func(int) time.Duration {
			cancel() // the request gives up during the first wait
			return time.Hour
		},
	})
	b.loginOK.Store(false)

	errc := make(chan error, 1)
	go func() {
		_, _, err := get(ctx, c, b, 1)
		errc <- err
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) || errors.Is(err, upstream.ErrLoginFailed) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
	case <-time.After(safety):
		t.Fatal("request still waiting for the backoff after its context was cancelled")
	}
	if n := b.attempts.Load(); n != 1 {
		t.Errorf("login attempts = %d, want 1", n)
	}
}

func TestExponentialBackoff(t *testing.T) {
	backoff := upstream.ExponentialBackoff(10*time.Millisecond, 80*time.Millisecond)
	for attempt, ceil := range map[int]time.Duration{
		0: 10 * time.Millisecond, 1: 10 * time.Millisecond, 2: 20 * time.Millisecond,
		3: 40 * time.Millisecond, 4: 80 * time.Millisecond, 5: 80 * time.Millisecond,
		64: 80 * time.Millisecond, 1 << 30: 80 * time.Millisecond,
	} {
		seen := map[time.Duration]bool{}
		for range 1000 {
			d := backoff(attempt)
			if d < ceil/2 || d > ceil {
				t.Fatalf("attempt %d: %v, want within [%v, %v]", attempt, d, ceil/2, ceil)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("attempt %d: 1000 waits all equal %v, want jitter", attempt, seen)
		}
	}
	huge := upstream.ExponentialBackoff(time.Nanosecond, time.Duration(1<<63-1))
	for _, attempt := range []int{62, 63, 64, 1000} {
		if d := huge(attempt); d <= 0 {
			t.Errorf("attempt %d with no practical limit: %v, want positive (overflow?)", attempt, d)
		}
	}
	for _, args := range [][2]time.Duration{{0, time.Second}, {-1, time.Second}, {time.Second, time.Millisecond}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ExponentialBackoff(%v, %v) did not panic", args[0], args[1])
				}
			}()
			upstream.ExponentialBackoff(args[0], args[1])
		}()
	}
}

// blockingLogin wraps a LoginFunc: each call signals entered, then waits for
// release (or its context) before logging in.
type blockingLogin struct {
	login   upstream.LoginFunc
	calls   atomic.Int64
	entered chan struct{}
	release chan struct{}
}

func (l *blockingLogin) Login(ctx context.Context, c *http.Client) (http.Header, error) {
	l.calls.Add(1)
	l.entered <- struct{}{}
	select {
	case <-l.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return l.login(ctx, c)
}

func newBlockingLogin(b *backend) *blockingLogin {
	return &blockingLogin{
		login:   upstream.FormLogin(b.srv.URL+"/login", url.Values{"user": {"svc"}, "password": {"pw"}}),
		entered: make(chan struct{}, 10),
		release: make(chan struct{}),
	}
}

type result struct {
	status int
	body   string
	err    error
}

func goGet(ctx context.Context, c *http.Client, b *backend, id int) <-chan result {
	ch := make(chan result, 1)
	go func() {
		status, body, err := get(ctx, c, b, id)
		ch <- result{status, body, err}
	}()
	return ch
}

func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(safety):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// TestWaiterCancelled cancels a request waiting for another request's login:
// it returns its context's error at once, while the login goes on.
func TestWaiterCancelled(t *testing.T) {
	checkGoroutines(t)
	b := newBackend(t, false)
	login := newBlockingLogin(b)
	c, _ := newClient(t, b, upstream.Config{Login: login.Login})

	leader := goGet(context.Background(), c, b, 1)
	wait(t, login.entered, "the login to start")

	ctx, cancel := context.WithCancel(context.Background())
	waiter := goGet(ctx, c, b, 2)
	cancel()
	if r := wait(t, waiter, "the cancelled request"); !errors.Is(r.err, context.Canceled) {
		t.Errorf("cancelled request: %d %q, %v; want context.Canceled", r.status, r.body, r.err)
	}

	close(login.release)
	if r := wait(t, leader, "the leader"); r.err != nil || r.body != "ok 1" {
		t.Errorf("leader: %d %q, %v; want 200 \"ok 1\"", r.status, r.body, r.err)
	}
	if n := login.calls.Load(); n != 1 {
		t.Errorf("login calls = %d, want 1", n)
	}
	if n := b.served.Load() + b.rejected.Load(); n != 1 {
		t.Errorf("upstream saw %d data requests, want 1 (the cancelled one is never sent)", n)
	}
}

// TestLeaderCancelled cancels the request running the login: it returns its
// context's error, and a request waiting for that login runs it instead.
func TestLeaderCancelled(t *testing.T) {
	checkGoroutines(t)
	b := newBackend(t, false)
	login := newBlockingLogin(b)
	c, _ := newClient(t, b, upstream.Config{Login: login.Login})

	ctx, cancel := context.WithCancel(context.Background())
	leader := goGet(ctx, c, b, 1)
	wait(t, login.entered, "the login to start")
	waiter := goGet(context.Background(), c, b, 2)
	cancel()
	if r := wait(t, leader, "the cancelled leader"); !errors.Is(r.err, context.Canceled) {
		t.Errorf("cancelled leader: %d %q, %v; want context.Canceled", r.status, r.body, r.err)
	}

	wait(t, login.entered, "the waiter to take over the login")
	close(login.release)
	if r := wait(t, waiter, "the waiter"); r.err != nil || r.body != "ok 2" {
		t.Errorf("waiter: %d %q, %v; want 200 \"ok 2\"", r.status, r.body, r.err)
	}
	if n := login.calls.Load(); n != 2 {
		t.Errorf("login calls = %d, want 2 (the abandoned one and the waiter's)", n)
	}
	if n := b.logins.Load(); n != 1 {
		t.Errorf("upstream logins = %d, want 1", n)
	}
}

func TestReplayableBodyRetried(t *testing.T) {
	b := newBackend(t, false)
	c, bodies := newClient(t, b, upstream.Config{})
	mustGet(t, c, b, 0)
	b.expire()

	req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/data?id=1", strings.NewReader("payload-123"))
	if err != nil {
		t.Fatal(err)
	}
	if req.GetBody == nil {
		t.Fatal("http.NewRequest did not set GetBody for a strings.Reader")
	}
	status, body, err := do(c, req)
	if err != nil || status != http.StatusOK || body != "ok 1 body=payload-123" {
		t.Fatalf("POST: %d %q, %v; want 200 \"ok 1 body=payload-123\"", status, body, err)
	}
	if got, want := b.receivedBodies(), []string{"payload-123", "payload-123"}; !slices.Equal(got, want) {
		t.Errorf("upstream received bodies %q, want %q (the original, then the identical replay)", got, want)
	}
	if n := b.logins.Load(); n != 2 {
		t.Errorf("logins = %d, want 2", n)
	}
	if o, c := bodies.opened.Load(), bodies.closed.Load(); o != c {
		t.Errorf("%d response bodies opened, %d closed", o, c)
	}
}

func TestNonReplayableBodyNotRetried(t *testing.T) {
	b := newBackend(t, false)
	c, _ := newClient(t, b, upstream.Config{})
	mustGet(t, c, b, 0)
	b.expire()

	// io.NopCloser hides the reader's type, so GetBody stays nil.
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/data?id=1", io.NopCloser(strings.NewReader("once")))
	if err != nil {
		t.Fatal(err)
	}
	if req.GetBody != nil {
		t.Fatal("GetBody is set")
	}
	status, body, err := do(c, req)
	if err != nil || status != http.StatusUnauthorized || body != "session expired\n" {
		t.Fatalf("POST: %d %q, %v; want the upstream's own 401 \"session expired\\n\"", status, body, err)
	}
	if got, want := b.receivedBodies(), []string{"once"}; !slices.Equal(got, want) {
		t.Errorf("upstream received bodies %q, want %q (sent once, not retried)", got, want)
	}
	if n := b.logins.Load(); n != 1 {
		t.Errorf("logins after the 401 = %d, want 1 (no login for a request that is not retried)", n)
	}

	// The session is known to be expired: the next request logs in first,
	// so it is not rejected.
	rejected := b.rejected.Load()
	mustGet(t, c, b, 2)
	if n := b.logins.Load(); n != 2 {
		t.Errorf("logins = %d, want 2", n)
	}
	if n := b.rejected.Load() - rejected; n != 0 {
		t.Errorf("the next request was rejected %d times, want 0", n)
	}
}

func TestRetryAlsoExpiredIsReturned(t *testing.T) {
	b := newBackend(t, false)
	// A session that is rejected however fresh it is. The login sends no
	// request to take the origin from, so it is configured.
	c, _ := newClient(t, b, upstream.Config{
		Origin: b.srv.URL,
		Login: func(ctx context.Context, c *http.Client) (http.Header, error) {
			b.logins.Add(1)
			return http.Header{"Authorization": {"Bearer nonsense"}}, nil
		},
	})
	status, _, err := get(context.Background(), c, b, 1)
	if err != nil || status != http.StatusUnauthorized {
		t.Fatalf("GET: %d, %v; want the upstream's 401", status, err)
	}
	if n := b.logins.Load(); n != 2 {
		t.Errorf("logins = %d, want 2 (the first, and one re-login for the one retry)", n)
	}
	if n := b.rejected.Load(); n != 2 {
		t.Errorf("upstream rejected %d requests, want 2 (the request and its one retry)", n)
	}
}

func TestTokenLogin(t *testing.T) {
	b := newBackend(t, false)
	tokenLogin := func(ctx context.Context, c *http.Client) (http.Header, error) {
		form := url.Values{"user": {"svc"}, "password": {"pw"}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.srv.URL+"/token", strings.NewReader(form.Encode()))
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
	c, _ := newClient(t, b, upstream.Config{Login: tokenLogin})
	mustGet(t, c, b, 1)
	b.expire()
	mustGet(t, c, b, 2)
	if n := b.logins.Load(); n != 2 {
		t.Errorf("logins = %d, want 2", n)
	}
	if n := b.rejected.Load(); n != 1 {
		t.Errorf("rejected = %d, want 1", n)
	}
}
