package sealed_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

type sess struct {
	User string `json:"user,omitempty"`
	N    int    `json:"n,omitempty"`
	Gen  int    `json:"gen,omitempty"`
	Blob string `json:"blob,omitempty"`
}

func mwRing(t testing.TB, keys ...sealed.Key) *sealed.KeyRing {
	t.Helper()
	r, err := sealed.NewKeyRing(keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// hook records the errors passed to OnError.
type hook struct {
	mu   sync.Mutex
	errs []error
}

func (h *hook) OnError(_ context.Context, err error) {
	h.mu.Lock()
	h.errs = append(h.errs, err)
	h.mu.Unlock()
}

func (h *hook) take() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.errs
	h.errs = nil
	return e
}

// expectNone fails the test if any error was reported.
func (h *hook) expectNone(t *testing.T) {
	t.Helper()
	for _, err := range h.take() {
		t.Errorf("unexpected OnError: %v", err)
	}
}

// expect checks that exactly one error was reported, wrapping target.
func (h *hook) expect(t *testing.T, target error) {
	t.Helper()
	errs := h.take()
	if len(errs) != 1 || !errors.Is(errs[0], target) {
		t.Errorf("OnError got %v, want one error wrapping %v", errs, target)
	}
}

type fixture struct {
	m     *sealed.Manager[sess]
	clock *clock
	hook  *hook
	keys  *sealed.KeyRing
}

func newFixture(t *testing.T, opts sealed.Options, keys ...sealed.Key) *fixture {
	t.Helper()
	if len(keys) == 0 {
		keys = []sealed.Key{fixedKey(t, "k1", 1)}
	}
	f := &fixture{clock: newClock(), hook: new(hook), keys: mwRing(t, keys...)}
	if opts.Now == nil {
		opts.Now = f.clock.Now
	}
	opts.OnError = f.hook.OnError
	m, err := sealed.New(f.keys, sealed.JSON[sess](), opts)
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	return f
}

// app is a small application over the Manager, driven by query parameters.
func (f *fixture) app() http.Handler {
	m := f.m
	mux := http.NewServeMux()
	mux.HandleFunc("/noop", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		v, ok := m.Get(r.Context())
		if !ok {
			io.WriteString(w, "none")
			return
		}
		json.NewEncoder(w).Encode(v)
	})
	mux.HandleFunc("/put", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.FormValue("blob"))
		m.Put(r.Context(), sess{User: r.FormValue("user"), Blob: blob(n)})
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/update", func(w http.ResponseWriter, r *http.Request) {
		m.Update(r.Context(), func(s *sess) { s.N++ })
		v, _ := m.Get(r.Context())
		fmt.Fprint(w, v.N)
	})
	mux.HandleFunc("/destroy", func(w http.ResponseWriter, r *http.Request) { m.Destroy(r.Context()) })
	mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) { m.Renew(r.Context()) })
	mux.HandleFunc("/info", func(w http.ResponseWriter, r *http.Request) {
		info, ok := m.Info(r.Context())
		if !ok {
			io.WriteString(w, "none")
			return
		}
		fmt.Fprintf(w, "%d %d %d", info.Issued.Unix(), info.Deadline.Unix(), info.Refreshed.Unix())
	})
	return m.Handler(mux)
}

// blob returns n bytes of text that does not compress or repeat.
func blob(n int) string {
	var b strings.Builder
	x := uint32(2463534242)
	for b.Len() < n {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteByte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[x%62])
	}
	return b.String()
}

// client is a minimal cookie-keeping browser for a handler. It keeps the
// raw Set-Cookie lines of the last response for inspection.
type client struct {
	t       *testing.T
	h       http.Handler
	cookies map[string]string
	ua      string // User-Agent, if set
}

func newClient(t *testing.T, h http.Handler) *client {
	return &client{t: t, h: h, cookies: map[string]string{}}
}

func (c *client) do(method, target string) *http.Response {
	c.t.Helper()
	req := httptest.NewRequest(method, "https://example.com"+target, nil)
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	names := make([]string, 0, len(c.cookies))
	for name := range c.cookies {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		req.AddCookie(&http.Cookie{Name: name, Value: c.cookies[name]})
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	resp := rec.Result()
	if resp.StatusCode >= 500 {
		c.t.Fatalf("%s %s: status %d", method, target, resp.StatusCode)
	}
	for _, line := range resp.Header.Values("Set-Cookie") {
		if len(line) > 4096 {
			c.t.Errorf("Set-Cookie line of %d bytes: over the 4096 browsers keep", len(line))
		}
		sc, err := http.ParseSetCookie(line)
		if err != nil {
			c.t.Fatalf("bad Set-Cookie %q: %v", line, err)
		}
		if sc.MaxAge < 0 {
			delete(c.cookies, sc.Name)
		} else {
			c.cookies[sc.Name] = sc.Value
		}
	}
	return resp
}

func (c *client) body(method, target string) string {
	c.t.Helper()
	b, _ := io.ReadAll(c.do(method, target).Body)
	return strings.TrimSpace(string(b))
}

func (c *client) names() []string {
	var n []string
	for name := range c.cookies {
		n = append(n, name)
	}
	sort.Strings(n)
	return n
}

// setCookies parses a response's Set-Cookie lines by name.
func setCookies(t *testing.T, resp *http.Response) map[string]*http.Cookie {
	t.Helper()
	out := map[string]*http.Cookie{}
	for _, line := range resp.Header.Values("Set-Cookie") {
		sc, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("bad Set-Cookie %q: %v", line, err)
		}
		out[sc.Name] = sc
	}
	return out
}

func TestManagerDefaults(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	c := newClient(t, f.app())
	resp := c.do("POST", "/put?user=alice")
	sc := resp.Header.Values("Set-Cookie")
	if len(sc) != 1 {
		t.Fatalf("Set-Cookie = %q, want one", sc)
	}
	want := "; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax"
	if !strings.HasPrefix(sc[0], "session=") || !strings.HasSuffix(sc[0], want) {
		t.Errorf("Set-Cookie = %q, want session=...%s", sc[0], want)
	}
	if got := resp.Header.Get("Vary"); got != "Cookie" {
		t.Errorf("Vary = %q", got)
	}
	if got := resp.Header.Get("Cache-Control"); got != `no-cache="Set-Cookie"` {
		t.Errorf("Cache-Control = %q", got)
	}
	if got := c.body("GET", "/get"); got != `{"user":"alice"}` {
		t.Errorf("get = %q", got)
	}
	f.hook.expectNone(t)
}

func TestManagerOptionsAttributes(t *testing.T) {
	f := newFixture(t, sealed.Options{
		Name: "sid", Path: "/app", Domain: "example.com", SameSite: http.SameSiteStrictMode,
		DisableSecure: true, DisableHTTPOnly: true, BrowserSession: true,
	})
	resp := newClient(t, f.app()).do("POST", "/put?user=a")
	sc := resp.Header.Values("Set-Cookie")
	if len(sc) != 1 || !strings.HasPrefix(sc[0], "sid=") || !strings.HasSuffix(sc[0], "; Path=/app; Domain=example.com; SameSite=Strict") {
		t.Errorf("Set-Cookie = %q", sc)
	}
	// The browser-session cookie has no Max-Age, but the sealed lifetime
	// still ends the session.
	f2 := newFixture(t, sealed.Options{BrowserSession: true, Lifetime: time.Hour})
	c := newClient(t, f2.app())
	c.do("POST", "/put?user=a")
	f2.clock.Add(time.Hour)
	if got := c.body("GET", "/get"); got != "none" {
		t.Errorf("after the lifetime, get = %q", got)
	}
	f2.hook.expect(t, sealed.ErrExpired)
}

func TestNewValidates(t *testing.T) {
	keys := mwRing(t, fixedKey(t, "k1", 1))
	for _, tc := range []struct {
		name string
		opts sealed.Options
		ok   bool
	}{
		{"zero", sealed.Options{}, true},
		{"host prefix", sealed.Options{Name: "__Host-s"}, true},
		{"host prefix insecure", sealed.Options{Name: "__Host-s", DisableSecure: true}, false},
		{"host prefix path", sealed.Options{Name: "__Host-s", Path: "/x"}, false},
		{"host prefix domain", sealed.Options{Name: "__Host-s", Domain: "example.com"}, false},
		{"secure prefix", sealed.Options{Name: "__Secure-s", Domain: "example.com"}, true},
		{"secure prefix insecure", sealed.Options{Name: "__Secure-s", DisableSecure: true}, false},
		// Browsers match the prefixes case-insensitively, and so does New.
		{"host prefix lower insecure", sealed.Options{Name: "__host-s", DisableSecure: true}, false},
		{"host prefix upper path", sealed.Options{Name: "__HOST-s", Path: "/x"}, false},
		{"host prefix mixed domain", sealed.Options{Name: "__hOsT-s", Domain: "example.com"}, false},
		{"host prefix lower", sealed.Options{Name: "__host-s"}, true},
		{"secure prefix lower insecure", sealed.Options{Name: "__secure-s", DisableSecure: true}, false},
		{"secure prefix upper insecure", sealed.Options{Name: "__SECURE-s", DisableSecure: true}, false},
		{"bad name space", sealed.Options{Name: "my session"}, false},
		{"bad name semicolon", sealed.Options{Name: "a;b"}, false},
		{"bad name hash", sealed.Options{Name: "a#b"}, false},
		{"bad path", sealed.Options{Path: "/a;b"}, false},
		{"bad domain", sealed.Options{Domain: "exa mple.com"}, false},
		{"samesite none insecure", sealed.Options{SameSite: http.SameSiteNoneMode, DisableSecure: true}, false},
		{"samesite none", sealed.Options{SameSite: http.SameSiteNoneMode}, true},
		{"negative lifetime", sealed.Options{Lifetime: -time.Hour}, false},
		{"negative idle", sealed.Options{IdleTimeout: -time.Hour}, false},
		{"refresh over idle", sealed.Options{IdleTimeout: time.Minute, IdleRefresh: time.Hour}, false},
		{"budget 0 is default", sealed.Options{ChunkBudget: 0}, true},
		{"budget 1", sealed.Options{ChunkBudget: 1}, true},
		{"budget 17", sealed.Options{ChunkBudget: 17}, false},
		{"budget negative", sealed.Options{ChunkBudget: -1}, false},
		{"huge path", sealed.Options{Path: "/" + strings.Repeat("p", 3500)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := sealed.New(keys, sealed.JSON[sess](), tc.opts)
			if tc.ok && (err != nil || m == nil) {
				t.Errorf("New: %v", err)
			}
			if !tc.ok && err == nil {
				t.Errorf("New accepted %+v", tc.opts)
			}
		})
	}
	if _, err := sealed.New[sess](nil, nil, sealed.Options{}); err == nil {
		t.Error("New accepted a nil KeySource")
	}
	var nilRing *sealed.KeyRing
	if _, err := sealed.New[sess](nilRing, nil, sealed.Options{}); err == nil {
		t.Error("New accepted a nil *KeyRing")
	}
	if m, err := sealed.New[sess](keys, nil, sealed.Options{}); err != nil || m == nil {
		t.Errorf("New with nil codec (JSON): %v", err)
	}
}

// countingCodec counts decodes.
type countingCodec struct {
	sealed.Codec[sess]
	decodes atomic.Int64
}

func (c *countingCodec) Decode(b []byte, v *sess) error {
	c.decodes.Add(1)
	return c.Codec.Decode(b, v)
}

// A request that does not use the session decodes nothing and
// sets no cookie, even with a valid (and stale-keyed, refresh-due) cookie.
func TestManagerLazy(t *testing.T) {
	old, cur := fixedKey(t, "old", 1), fixedKey(t, "new", 2)
	codec := &countingCodec{Codec: sealed.JSON[sess]()}
	clk := newClock()
	h := new(hook)
	opts := sealed.Options{Now: clk.Now, OnError: h.OnError, IdleTimeout: time.Hour}
	m1, _ := sealed.New(mwRing(t, old), sealed.Codec[sess](codec), opts)
	m2, _ := sealed.New(mwRing(t, cur, old), sealed.Codec[sess](codec), opts)
	put := m1.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m1.Put(r.Context(), sess{User: "a"}) }))
	c := newClient(t, put)
	c.do("POST", "/")
	clk.Add(50 * time.Minute) // refresh due, and the key is stale
	c.h = m2.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Accept-Encoding")
		io.WriteString(w, "untouched")
	}))
	resp := c.do("GET", "/")
	if sc := resp.Header.Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("untouched request got Set-Cookie %q", sc)
	}
	if got := resp.Header.Values("Vary"); !slices.Equal(got, []string{"Accept-Encoding"}) {
		t.Errorf("Vary = %q", got)
	}
	if n := codec.decodes.Load(); n != 0 {
		t.Errorf("untouched request decoded %d times", n)
	}
	if st := m2.Stats(); len(st.Opened) != 0 {
		t.Errorf("untouched request opened cookies: %+v", st.Opened)
	}
	h.expectNone(t)
}

// Set-Cookie only when needed.
func TestManagerWritesOnlyWhenNeeded(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	c := newClient(t, f.app())
	c.do("POST", "/put?user=alice")
	for _, path := range []string{"/get", "/info", "/noop"} {
		if sc := c.do("GET", path).Header.Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("GET %s: Set-Cookie %q for an unchanged session", path, sc)
		}
	}
	for _, path := range []string{"/update", "/renew", "/put?user=bob", "/destroy"} {
		if sc := c.do("POST", path).Header.Values("Set-Cookie"); len(sc) != 1 {
			t.Errorf("POST %s: Set-Cookie %q, want one", path, sc)
		}
	}
	// Without a cookie, Destroy and Renew have nothing to write.
	c = newClient(t, f.app())
	for _, path := range []string{"/destroy", "/renew", "/get"} {
		if sc := c.do("POST", path).Header.Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("POST %s without a session: Set-Cookie %q", path, sc)
		}
	}
	f.hook.expectNone(t)
}

func TestManagerStaleKeyUpgrade(t *testing.T) {
	old, cur := fixedKey(t, "old", 1), fixedKey(t, "new", 2)
	f1 := newFixture(t, sealed.Options{}, old)
	c := newClient(t, f1.app())
	c.do("POST", "/put?user=alice")

	f2 := newFixture(t, sealed.Options{}, cur, old) // rotated: "new" is primary
	c.h = f2.app()
	resp := c.do("GET", "/get")
	if sc := resp.Header.Values("Set-Cookie"); len(sc) != 1 {
		t.Fatalf("stale-key session: Set-Cookie %q, want the upgrade", sc)
	}
	if st := f2.m.Stats(); st.Sealed["new"] != 1 || st.Stale != 1 {
		t.Errorf("stats after upgrade: %+v", st)
	}
	// The upgraded cookie opens under a ring without the old key.
	f3 := newFixture(t, sealed.Options{}, cur)
	c.h = f3.app()
	if got := c.body("GET", "/get"); got != `{"user":"alice"}` {
		t.Errorf("after upgrade, get = %q", got)
	}
	if sc := c.do("GET", "/get").Header.Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("current-key session re-issued: %q", sc)
	}
	f2.hook.expectNone(t)
	f3.hook.expectNone(t)
}

func TestManagerIdleRefreshThrottle(t *testing.T) {
	for _, tc := range []struct {
		refresh time.Duration
		wait    time.Duration // first re-issue happens after this long
	}{
		{0, 5 * time.Minute}, // half of the idle timeout
		{2 * time.Minute, 2 * time.Minute},
	} {
		t.Run(tc.refresh.String(), func(t *testing.T) {
			f := newFixture(t, sealed.Options{IdleTimeout: 10 * time.Minute, IdleRefresh: tc.refresh})
			c := newClient(t, f.app())
			c.do("POST", "/put?user=a")
			f.clock.Add(tc.wait - time.Second)
			if sc := c.do("GET", "/get").Header.Values("Set-Cookie"); len(sc) != 0 {
				t.Errorf("re-issued before the refresh point: %q", sc)
			}
			f.clock.Add(time.Second)
			resp := c.do("GET", "/get")
			sc := setCookies(t, resp)["session"]
			if sc == nil || sc.MaxAge != 600 {
				t.Fatalf("at the refresh point: Set-Cookie %v, want Max-Age=600", sc)
			}
			if got := c.body("GET", "/info"); got != fmt.Sprintf("%d %d %d", f.clock.Now().Add(-tc.wait).Unix(), f.clock.Now().Add(-tc.wait).Add(24*time.Hour).Unix(), f.clock.Now().Unix()) {
				t.Errorf("info = %s: refresh must keep the issue time and deadline", got)
			}
			// The window slid: 9 more minutes is within the new window.
			f.clock.Add(9 * time.Minute)
			if got := c.body("GET", "/get"); got != `{"user":"a"}` {
				t.Errorf("after sliding, get = %q", got)
			}
			f.hook.expectNone(t)
		})
	}
}

func TestManagerPutKeepsDeadlineRenewStartsNew(t *testing.T) {
	f := newFixture(t, sealed.Options{Lifetime: time.Hour})
	c := newClient(t, f.app())
	t0 := f.clock.Now().Unix()
	c.do("POST", "/put?user=a")
	f.clock.Add(30 * time.Minute)
	c.do("POST", "/put?user=b")
	t1 := f.clock.Now().Unix()
	if got, want := c.body("GET", "/info"), fmt.Sprintf("%d %d %d", t0, t0+3600, t1); got != want {
		t.Errorf("after Put, info = %s, want %s", got, want)
	}
	c.do("POST", "/update")
	if got, want := c.body("GET", "/info"), fmt.Sprintf("%d %d %d", t0, t0+3600, t1); got != want {
		t.Errorf("after Update, info = %s, want %s", got, want)
	}
	resp := c.do("POST", "/renew")
	if got, want := c.body("GET", "/info"), fmt.Sprintf("%d %d %d", t1, t1+3600, t1); got != want {
		t.Errorf("after Renew, info = %s, want %s", got, want)
	}
	if sc := setCookies(t, resp)["session"]; sc == nil || sc.MaxAge != 3600 {
		t.Errorf("after Renew, cookie %v, want Max-Age=3600", sc)
	}
	if got := c.body("GET", "/get"); got != `{"user":"b","n":1}` {
		t.Errorf("after Renew, get = %q", got)
	}
	f.clock.Add(59 * time.Minute) // past the first deadline, within the renewed one
	if got := c.body("GET", "/get"); got != `{"user":"b","n":1}` {
		t.Errorf("renewed session, get = %q", got)
	}
	f.hook.expectNone(t)
}

func TestManagerUpdateStartsFromZero(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	c := newClient(t, f.app())
	for want := 1; want <= 3; want++ {
		if got := c.body("POST", "/update"); got != strconv.Itoa(want) {
			t.Errorf("update %d: counter %s", want, got)
		}
	}
	f.hook.expectNone(t)
}

// An invalid cookie is no session, is cleared, and is reported.
func TestManagerInvalidCookie(t *testing.T) {
	f := newFixture(t, sealed.Options{Lifetime: time.Hour})
	c := newClient(t, f.app())
	c.do("POST", "/put?user=alice")
	good := c.cookies["session"]

	other := newFixture(t, sealed.Options{}, fixedKey(t, "other", 9))
	oc := newClient(t, other.app())
	oc.do("POST", "/put?user=mallory")
	otherName := newFixture(t, sealed.Options{Name: "other"})
	onc := newClient(t, otherName.app())
	onc.do("POST", "/put?user=mallory")
	sameID := newFixture(t, sealed.Options{}, fixedKey(t, "k1", 7))
	sc := newClient(t, sameID.app())
	sc.do("POST", "/put?user=mallory")

	flip := []byte(good)
	if flip[len(flip)/2] == 'A' {
		flip[len(flip)/2] = 'B'
	} else {
		flip[len(flip)/2] = 'A'
	}
	for _, tc := range []struct {
		name   string
		value  string
		expire bool
		target error
	}{
		{"tampered", string(flip), false, sealed.ErrInvalid},
		{"other secret same key ID", sc.cookies["session"], false, sealed.ErrInvalid},
		{"sealed for another name", onc.cookies["other"], false, sealed.ErrInvalid},
		{"unknown key", oc.cookies["session"], false, sealed.ErrUnknownKey},
		{"malformed", "not a sealed value!", false, sealed.ErrMalformed},
		{"empty", "", false, sealed.ErrMalformed},
		{"too large", strings.Repeat("A", 17000), false, sealed.ErrTooLarge},
		{"expired", good, true, sealed.ErrExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.expire {
				f.clock.Add(time.Hour)
				defer f.clock.Add(-time.Hour)
			}
			c := newClient(t, f.app())
			c.cookies["session"] = tc.value
			resp := c.do("GET", "/get")
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(body) != "none" {
				t.Errorf("status %d, body %q; want 200 none", resp.StatusCode, body)
			}
			got := setCookies(t, resp)["session"]
			if got == nil || got.MaxAge != -1 || got.Value != "" {
				t.Errorf("bad cookie not cleared: %v", resp.Header.Values("Set-Cookie"))
			}
			f.hook.expect(t, tc.target)
		})
	}
}

func TestManagerValidateRejects(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	revoked := errors.New("generation revoked")
	var seen sealed.SessionInfo
	f.m.Validate = func(ctx context.Context, v sess, info sealed.SessionInfo) error {
		seen = info
		if v.Gen < 2 {
			return revoked
		}
		return nil
	}
	c := newClient(t, f.app())
	c.do("POST", "/put?user=alice") // Gen 0
	if got := c.body("GET", "/get"); got != "none" {
		t.Errorf("revoked session: get = %q", got)
	}
	errs := f.hook.take()
	if len(errs) != 1 || !errors.Is(errs[0], sealed.ErrRejected) || !errors.Is(errs[0], revoked) {
		t.Errorf("OnError = %v, want ErrRejected wrapping the hook's error", errs)
	}
	if seen.KeyID != "k1" || seen.Issued.Unix() != f.clock.Now().Unix() {
		t.Errorf("Validate saw info %+v", seen)
	}
	if _, ok := c.cookies["session"]; ok {
		t.Error("rejected cookie not cleared")
	}
}

// Idle and absolute timeouts come from inside the cookie.
func TestManagerTimeouts(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		f := newFixture(t, sealed.Options{IdleTimeout: 10 * time.Minute})
		c := newClient(t, f.app())
		c.do("POST", "/put?user=a")
		saved := c.cookies["session"]
		f.clock.Add(10 * time.Minute)
		if got := c.body("GET", "/get"); got != "none" {
			t.Errorf("idle session: get = %q", got)
		}
		f.hook.expect(t, sealed.ErrExpired)
		// Replaying the cookie (as a client ignoring Max-Age would) fails too.
		c.cookies["session"] = saved
		if got := c.body("GET", "/get"); got != "none" {
			t.Errorf("replayed idle session: get = %q", got)
		}
		f.hook.expect(t, sealed.ErrExpired)
	})
	t.Run("absolute", func(t *testing.T) {
		f := newFixture(t, sealed.Options{Lifetime: time.Hour, IdleTimeout: 30 * time.Minute})
		c := newClient(t, f.app())
		c.do("POST", "/put?user=a")
		for range 5 { // active every 20 minutes: the idle window keeps sliding
			f.clock.Add(11 * time.Minute)
			if got := c.body("GET", "/get"); got != `{"user":"a"}` {
				t.Fatalf("active session at %v: get = %q", f.clock.Now(), got)
			}
		}
		// Max-Age never reaches past the absolute deadline.
		f.clock.Add(4 * time.Minute) // 59 minutes in
		resp := c.do("POST", "/update")
		if sc := setCookies(t, resp)["session"]; sc == nil || sc.MaxAge != 60 {
			t.Errorf("cookie near the deadline: %v, want Max-Age=60", sc)
		}
		f.clock.Add(time.Minute)
		if got := c.body("GET", "/get"); got != "none" {
			t.Errorf("past the absolute deadline: get = %q", got)
		}
		f.hook.expect(t, sealed.ErrExpired)
	})
	t.Run("shorter idle after deploy", func(t *testing.T) {
		f := newFixture(t, sealed.Options{IdleTimeout: time.Hour})
		c := newClient(t, f.app())
		c.do("POST", "/put?user=a")
		g, err := sealed.New(f.keys, sealed.JSON[sess](), sealed.Options{IdleTimeout: 10 * time.Minute, Now: f.clock.Now, OnError: f.hook.OnError})
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Add(20 * time.Minute)
		f2 := &fixture{m: g, clock: f.clock, hook: f.hook}
		c.h = f2.app()
		if got := c.body("GET", "/get"); got != "none" {
			t.Errorf("idle by the new setting: get = %q", got)
		}
		f.hook.expect(t, sealed.ErrExpired)
	})
}

// Sessions too large for one cookie are split into chunks, and read back.
func TestManagerChunking(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	c := newClient(t, f.app())
	big := f.m.MaxSessionLen()*2/3 - 100 // three chunks
	c.do("POST", "/put?user=a&blob="+strconv.Itoa(big))
	if got := c.names(); !slices.Equal(got, []string{"session.0", "session.1", "session.2"}) {
		t.Fatalf("cookies after a big Put: %q", got)
	}
	want, _ := json.Marshal(sess{User: "a", Blob: blob(big)})
	if got := c.body("GET", "/get"); got != string(want) {
		t.Fatalf("reassembled session differs (%d bytes, want %d)", len(got), len(want))
	}
	f.hook.expectNone(t)

	// Tampering with the chunks: the count and order are authenticated.
	for _, tc := range []struct {
		name string
		edit func(map[string]string)
	}{
		{"last chunk dropped", func(m map[string]string) { delete(m, "session.2") }},
		{"chunks swapped", func(m map[string]string) { m["session.0"], m["session.1"] = m["session.1"], m["session.0"] }},
		{"chunk 0 dropped", func(m map[string]string) { delete(m, "session.0") }},
		{"chunk renamed plain", func(m map[string]string) { m["session"] = m["session.0"]; delete(m, "session.0") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc2 := newClient(t, f.app())
			for k, v := range c.cookies {
				tc2.cookies[k] = v
			}
			tc.edit(tc2.cookies)
			resp := tc2.do("GET", "/get")
			if b, _ := io.ReadAll(resp.Body); string(b) != "none" {
				t.Errorf("get = %.40q", b)
			}
			if errs := f.hook.take(); len(errs) != 1 || !(errors.Is(errs[0], sealed.ErrInvalid) || errors.Is(errs[0], sealed.ErrMalformed)) {
				t.Errorf("OnError = %v", errs)
			}
			if len(tc2.cookies) != 0 {
				t.Errorf("bad chunks not all cleared: %q", tc2.names())
			}
		})
	}

	// A stale chunk after the last (short) chunk is ignored, then expired.
	c.cookies["session.3"] = strings.Repeat("x", 100)
	if got := c.body("GET", "/get"); got != string(want) {
		t.Errorf("with a stale extra chunk, get = %.40q", got)
	}
	f.hook.expectNone(t)

	// Shrinking: one plain cookie, every carried chunk expired.
	resp := c.do("POST", "/put?user=b")
	set := setCookies(t, resp)
	for _, name := range []string{"session.0", "session.1", "session.2", "session.3"} {
		if sc := set[name]; sc == nil || sc.MaxAge != -1 {
			t.Errorf("after shrinking, %s not expired: %v", name, sc)
		}
	}
	if got := c.names(); !slices.Equal(got, []string{"session"}) {
		t.Errorf("cookies after shrinking: %q", got)
	}
	// Growing again: the plain cookie is expired, only it (no chunk was carried).
	resp = c.do("POST", "/put?user=a&blob="+strconv.Itoa(big/2))
	if got := c.names(); !slices.Equal(got, []string{"session.0", "session.1"}) {
		t.Errorf("cookies after growing: %q", got)
	}
	if n := len(resp.Header.Values("Set-Cookie")); n != 3 {
		t.Errorf("growing wrote %d Set-Cookie lines, want 2 chunks + 1 expiry", n)
	}
	// Over the budget: an error, and the previous cookies stay.
	before := c.names()
	resp = c.do("POST", "/put?user=a&blob="+strconv.Itoa(f.m.MaxSessionLen()))
	if sc := resp.Header.Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("over budget: Set-Cookie %q", sc)
	}
	f.hook.expect(t, sealed.ErrTooLarge)
	if got := c.names(); !slices.Equal(got, before) {
		t.Errorf("over budget changed cookies: %q", got)
	}
	if got := c.body("GET", "/get"); !strings.HasPrefix(got, `{"user":"a","blob":"`) {
		t.Errorf("previous session lost: %.40q", got)
	}
	// Destroy: every carried chunk goes, and only those.
	resp = c.do("POST", "/destroy")
	set = setCookies(t, resp)
	if len(set) != 2 || set["session.0"] == nil || set["session.1"] == nil {
		t.Errorf("Destroy expired %v", resp.Header.Values("Set-Cookie"))
	}
	if len(c.cookies) != 0 {
		t.Errorf("after Destroy: %q", c.names())
	}
	f.hook.expectNone(t)
}

func TestManagerChunkBudgetOne(t *testing.T) {
	f := newFixture(t, sealed.Options{ChunkBudget: 1})
	c := newClient(t, f.app())
	c.do("POST", "/put?user=a&blob=2000")
	c.do("POST", "/put?user=a&blob=4000")
	f.hook.expect(t, sealed.ErrTooLarge)
	if got := c.names(); !slices.Equal(got, []string{"session"}) {
		t.Errorf("cookies: %q", got)
	}
	// A chunked cookie is over this budget on read too.
	c.cookies = map[string]string{"session.0": strings.Repeat("A", 3000), "session.1": "A"}
	if got := c.body("GET", "/get"); got != "none" {
		t.Errorf("get = %q", got)
	}
	f.hook.expect(t, sealed.ErrTooLarge)
}

// Caching headers, only with a cookie, without clobbering.
func TestManagerCacheHeaders(t *testing.T) {
	for _, tc := range []struct {
		name             string
		vary, cc         []string
		wantVary, wantCC []string
		put              bool
	}{
		{"none set", nil, nil, []string{"Cookie"}, []string{`no-cache="Set-Cookie"`}, true},
		{"no cookie, no headers", nil, nil, nil, nil, false},
		{"no cookie, headers kept", []string{"Accept"}, []string{"public, max-age=60"}, []string{"Accept"}, []string{"public, max-age=60"}, false},
		{"vary kept", []string{"Accept-Encoding"}, nil, []string{"Accept-Encoding", "Cookie"}, []string{`no-cache="Set-Cookie"`}, true},
		{"vary has cookie", []string{"accept, cookie"}, nil, []string{"accept, cookie"}, []string{`no-cache="Set-Cookie"`}, true},
		{"vary star", []string{"*"}, nil, []string{"*"}, []string{`no-cache="Set-Cookie"`}, true},
		{"public gets no-cache", nil, []string{"public, max-age=60"}, []string{"Cookie"}, []string{`public, max-age=60, no-cache="Set-Cookie"`}, true},
		{"private kept", nil, []string{"private, max-age=60"}, []string{"Cookie"}, []string{"private, max-age=60"}, true},
		{"no-store kept", nil, []string{"no-store"}, []string{"Cookie"}, []string{"no-store"}, true},
		{"no-cache kept", nil, []string{"No-Cache"}, []string{"Cookie"}, []string{"No-Cache"}, true},
		{"qualified no-cache other", nil, []string{`max-age=5, no-cache="Authorization"`}, []string{"Cookie"}, []string{`max-age=5, no-cache="Authorization", no-cache="Set-Cookie"`}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, sealed.Options{})
			h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.vary != nil {
					w.Header()["Vary"] = slices.Clone(tc.vary)
				}
				if tc.cc != nil {
					w.Header()["Cache-Control"] = slices.Clone(tc.cc)
				}
				if tc.put {
					f.m.Put(r.Context(), sess{User: "a"})
				}
				io.WriteString(w, "body")
			}))
			resp := newClient(t, h).do("GET", "/")
			if got := resp.Header.Values("Vary"); !slices.Equal(got, tc.wantVary) {
				t.Errorf("Vary = %q, want %q", got, tc.wantVary)
			}
			if got := resp.Header.Values("Cache-Control"); !slices.Equal(got, tc.wantCC) {
				t.Errorf("Cache-Control = %q, want %q", got, tc.wantCC)
			}
			f.hook.expectNone(t)
		})
	}
}

// One request's session from many goroutines (run with -race).
func TestManagerConcurrentUse(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	const n = 50
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				switch i % 4 {
				case 0, 1:
					f.m.Update(r.Context(), func(s *sess) { s.N++ })
				case 2:
					f.m.Get(r.Context())
				case 3:
					f.m.Flash(r.Context(), "m")
					f.m.Update(r.Context(), func(s *sess) { s.N++ })
				}
			})
		}
		wg.Wait()
		v, _ := f.m.Get(r.Context())
		fmt.Fprint(w, v.N)
	}))
	c := newClient(t, h)
	// Goroutines with i%4 in {0, 1, 3} update: 13+13+12 of 50.
	if got := c.body("GET", "/"); got != "38" {
		t.Errorf("counter %s, want 38", got)
	}
	c.h = f.app()
	if got := c.body("GET", "/get"); got != `{"n":38}` {
		t.Errorf("saved session %q", got)
	}
	f.hook.expectNone(t)
}

// Flash messages.
func TestManagerFlash(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	m := f.m
	mux := http.NewServeMux()
	mux.HandleFunc("/flash", func(w http.ResponseWriter, r *http.Request) {
		for _, msg := range r.URL.Query()["m"] {
			m.Flash(r.Context(), msg)
		}
	})
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(m.Flashes(r.Context()))
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		m.Destroy(r.Context())
		m.Flash(r.Context(), "bye")
	})
	mux.Handle("/", f.app())
	c := newClient(t, m.Handler(mux))
	c.do("POST", "/put?user=a")
	c.do("POST", "/flash?m=saved&m=again")
	if got := c.body("GET", "/read"); got != `["saved","again"]` {
		t.Errorf("flashes = %s", got)
	}
	if got := c.body("GET", "/read"); got != "null" {
		t.Errorf("flashes read twice: %s", got)
	}
	if got := c.body("GET", "/get"); got != `{"user":"a"}` {
		t.Errorf("session after flashes: %s", got)
	}
	// A flash survives logout without a session, then the cookie goes.
	c.do("POST", "/logout")
	if got := c.body("GET", "/get"); got != "none" {
		t.Errorf("after logout get = %s", got)
	}
	if got := c.body("GET", "/read"); got != `["bye"]` {
		t.Errorf("flash after logout = %s", got)
	}
	if len(c.cookies) != 0 {
		t.Errorf("cookies after reading the last flash: %q", c.names())
	}
	f.hook.expectNone(t)
}

func TestManagerRequire(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	secret := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := f.m.Get(r.Context())
		io.WriteString(w, "hello "+v.User)
	})
	mux := http.NewServeMux()
	mux.Handle("/", f.app())
	mux.Handle("/secret", f.m.Require(secret))
	inside := f.m.Handler(mux)
	standalone := http.NewServeMux()
	standalone.Handle("/", f.app())
	standalone.Handle("/secret", f.m.Require(secret)) // Require installs Handler
	for name, h := range map[string]http.Handler{"inside Handler": inside, "standalone": standalone} {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, h)
			if resp := c.do("GET", "/secret"); resp.StatusCode != 401 {
				t.Errorf("without session: %d", resp.StatusCode)
			}
			c.do("POST", "/put?user=alice")
			if got := c.body("GET", "/secret"); got != "hello alice" {
				t.Errorf("with session: %q", got)
			}
			c.cookies["session"] = "garbage"
			if resp := c.do("GET", "/secret"); resp.StatusCode != 401 {
				t.Errorf("with a bad cookie: %d", resp.StatusCode)
			}
			f.hook.expect(t, sealed.ErrMalformed)
		})
	}
	g := newFixture(t, sealed.Options{Unauthorized: http.RedirectHandler("/login", http.StatusSeeOther)})
	resp := newClient(t, g.m.Require(secret)).do("GET", "/secret")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/login" {
		t.Errorf("custom Unauthorized: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// Require admits any session; RequireFunc admits only sessions its
// predicate accepts, so an anonymous visitor holding just a CSRF token does
// not reach a signed-in route.
func TestManagerRequireFunc(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	signedIn := f.m.RequireFunc(func(s sess) bool { return s.User != "" })
	secret := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := f.m.Get(r.Context())
		io.WriteString(w, "hello "+v.User)
	})
	mux := http.NewServeMux()
	mux.Handle("/", f.app())
	mux.Handle("/any", f.m.Require(secret))
	mux.Handle("/user", signedIn(secret))
	for name, h := range map[string]http.Handler{"inside Handler": f.m.Handler(mux), "standalone": mux} {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, h)
			if resp := c.do("GET", "/user"); resp.StatusCode != 401 {
				t.Errorf("without a session: %d", resp.StatusCode)
			}
			c.do("POST", "/put?user=") // an anonymous session, as for a CSRF token
			if _, ok := c.cookies["session"]; !ok {
				t.Fatal("no anonymous session")
			}
			if resp := c.do("GET", "/any"); resp.StatusCode != 200 {
				t.Errorf("Require with an anonymous session: %d", resp.StatusCode)
			}
			if resp := c.do("GET", "/user"); resp.StatusCode != 401 {
				t.Errorf("RequireFunc with an anonymous session: %d, want 401", resp.StatusCode)
			}
			c.do("POST", "/put?user=alice")
			if got := c.body("GET", "/user"); got != "hello alice" {
				t.Errorf("RequireFunc signed in: %q", got)
			}
			f.hook.expectNone(t)
		})
	}
}

func TestManagerLoadSave(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	// A serverless-style handler: build the context from the request's
	// header, write cookies into a plain header.
	ctx := f.m.LoadHeader(context.Background(), http.Header{})
	f.m.Put(ctx, sess{User: "lambda"})
	out := http.Header{}
	if err := f.m.SaveHeader(ctx, out); err != nil {
		t.Fatal(err)
	}
	lines := out.Values("Set-Cookie")
	if len(lines) != 1 || out.Get("Vary") != "Cookie" {
		t.Fatalf("SaveHeader wrote %v", out)
	}
	if err := f.m.SaveHeader(ctx, out); err != nil || len(out.Values("Set-Cookie")) != 1 {
		t.Errorf("second SaveHeader: %v, %v", err, out)
	}
	f.hook.expectNone(t)
	f.m.Put(ctx, sess{User: "late"})
	f.hook.expect(t, sealed.ErrHeadersWritten)

	sc, _ := http.ParseSetCookie(lines[0])
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: sc.Name, Value: sc.Value})
	ctx = f.m.Load(req)
	if v, ok := f.m.Get(ctx); !ok || v.User != "lambda" {
		t.Errorf("Load: %+v %v", v, ok)
	}
	rec := httptest.NewRecorder()
	if err := f.m.Save(ctx, rec); err != nil || len(rec.Header().Values("Set-Cookie")) != 0 {
		t.Errorf("Save of an unchanged session: %v %v", err, rec.Header())
	}
	if err := f.m.Save(context.Background(), rec); err == nil {
		t.Error("Save without Load returned nil")
	}
	// Over budget: the error is returned and the header untouched.
	ctx = f.m.LoadHeader(context.Background(), req.Header)
	f.m.Put(ctx, sess{Blob: blob(f.m.MaxSessionLen() + 1)})
	h := http.Header{}
	if err := f.m.SaveHeader(ctx, h); !errors.Is(err, sealed.ErrTooLarge) || len(h) != 0 {
		t.Errorf("SaveHeader over budget: %v, %v", err, h)
	}
	f.hook.expectNone(t)
}

func TestManagerWithoutMiddleware(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	if _, ok := f.m.Get(context.Background()); ok {
		t.Error("Get without middleware reported a session")
	}
	if got := f.m.Flashes(context.Background()); got != nil {
		t.Errorf("Flashes without middleware: %q", got)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "Manager.Put") {
			t.Errorf("Put without middleware: recovered %v, want a panic naming Put", r)
		}
	}()
	f.m.Put(context.Background(), sess{})
}

// Two Managers (for example a session and a preferences cookie) coexist, and
// nesting Handler twice is harmless.
func TestManagerTwoManagers(t *testing.T) {
	a := newFixture(t, sealed.Options{Name: "a"})
	b, err := sealed.New(a.keys, sealed.JSON[string](), sealed.Options{Name: "b", Now: a.clock.Now, OnError: a.hook.OnError})
	if err != nil {
		t.Fatal(err)
	}
	h := a.m.Handler(b.Handler(a.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.m.Update(r.Context(), func(s *sess) { s.N++ })
		b.Put(r.Context(), "prefs")
		v, _ := b.Get(r.Context())
		io.WriteString(w, v)
	}))))
	c := newClient(t, h)
	c.do("GET", "/")
	if got := c.body("GET", "/"); got != "prefs" {
		t.Errorf("b = %q", got)
	}
	if got := c.names(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("cookies %q", got)
	}
	a.hook.expectNone(t)
}

// End to end over TLS with net/http/cookiejar.
func TestManagerCookieJar(t *testing.T) {
	f := newFixture(t, sealed.Options{Now: time.Now})
	srv := httptest.NewTLSServer(f.app())
	defer srv.Close()
	cl := srv.Client()
	jar, _ := cookiejar.New(nil)
	cl.Jar = jar
	get := func(method, path string) string {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(b))
	}
	get("POST", "/put?user=jar")
	for i := 1; i <= 3; i++ {
		if got := get("POST", "/update"); got != strconv.Itoa(i) {
			t.Errorf("update %d: %s", i, got)
		}
	}
	if got := get("GET", "/get"); got != `{"user":"jar","n":3}` {
		t.Errorf("get = %s", got)
	}
	get("POST", "/destroy")
	u, _ := url.Parse(srv.URL)
	if cs := jar.Cookies(u); len(cs) != 0 {
		t.Errorf("jar after destroy: %v", cs)
	}
	if got := get("GET", "/get"); got != "none" {
		t.Errorf("after destroy: %s", got)
	}
	f.hook.expectNone(t)
}

// With two cookies of the same name (different Paths), the first sent, the
// most specific, is the session.
func TestManagerDuplicateCookieName(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	c := newClient(t, f.app())
	c.do("POST", "/put?user=first")
	good := c.cookies["session"]
	req := httptest.NewRequest("GET", "/get", nil)
	req.Header.Set("Cookie", "session="+good+"; session=stale-from-another-path")
	rec := httptest.NewRecorder()
	f.app().ServeHTTP(rec, req)
	if got := strings.TrimSpace(rec.Body.String()); got != `{"user":"first"}` {
		t.Errorf("get = %q", got)
	}
	f.hook.expectNone(t)
}
