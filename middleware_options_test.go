package sealed_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// CompressAbove makes compressible sessions need fewer cookies, including
// when the compressed session is still chunked, and they read back the same.
func TestManagerCompressAbove(t *testing.T) {
	repeated := strings.Repeat("the same words again and again ", 250) // ~7.7 KB, compresses well
	random := blob(7000)                                               // 62 letters: compresses to ~75%
	for _, tc := range []struct {
		text     string
		compress int
		cookies  int
	}{
		{repeated, 0, 3},
		{repeated, 512, 1},
		{random, 0, 3},
		{random, 512, 2}, // still chunked: sealed twice to bind the count
	} {
		text := tc.text
		f := newFixture(t, sealed.Options{CompressAbove: tc.compress})
		h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/put" {
				f.m.Put(r.Context(), sess{User: "ada", Blob: text})
				return
			}
			v, ok := f.m.Get(r.Context())
			if !ok || v.Blob != text {
				http.Error(w, "lost", http.StatusTeapot)
			}
		}))
		c := newClient(t, h)
		c.do("POST", "/put")
		if got := len(c.names()); got != tc.cookies {
			t.Errorf("CompressAbove %d: %d cookies %v, want %d", tc.compress, got, c.names(), tc.cookies)
		}
		if resp := c.do("GET", "/get"); resp.StatusCode != http.StatusOK {
			t.Errorf("CompressAbove %d: session did not read back", tc.compress)
		}
		f.hook.expectNone(t)
	}
}

// ClockSkew lets a session open past its absolute deadline and idle
// timeout by the allowance, and no further. Each case is a fresh session:
// a successful read would slide the idle window.
func TestManagerClockSkew(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  sealed.Options
		after time.Duration // from creation to the end of the session
	}{
		{"absolute", sealed.Options{Lifetime: time.Hour}, time.Hour},
		{"idle", sealed.Options{Lifetime: 24 * time.Hour, IdleTimeout: 10 * time.Minute}, 10 * time.Minute},
	} {
		for _, c := range []struct {
			skew, late time.Duration
			open       bool
		}{
			{0, 10 * time.Second, false},
			{30 * time.Second, 10 * time.Second, true},
			{30 * time.Second, 40 * time.Second, false},
		} {
			opts := tc.opts
			opts.ClockSkew = c.skew
			f := newFixture(t, opts)
			cl := newClient(t, f.app())
			cl.do("POST", "/put?user=ada")
			f.clock.Add(tc.after + c.late)
			got := cl.body("GET", "/get")
			if strings.Contains(got, "ada") != c.open {
				t.Errorf("%s, skew %v, %v late: got %q, want session %v", tc.name, c.skew, c.late, got, c.open)
			}
			if c.open {
				f.hook.expectNone(t)
			} else {
				f.hook.expect(t, sealed.ErrExpired)
			}
		}
	}
}

func TestNewRejectsNegativeSkewAndCompression(t *testing.T) {
	keys := mwRing(t, fixedKey(t, "k1", 1))
	for _, opts := range []sealed.Options{{ClockSkew: -time.Second}, {CompressAbove: -1}} {
		if _, err := sealed.New(keys, sealed.JSON[sess](), opts); err == nil {
			t.Errorf("New(%+v) succeeded", opts)
		}
	}
}

// Two applications that share a key ring and the cookie name refuse each
// other's sessions once they set different purposes; without one they
// accept them, as before.
func TestManagerPurpose(t *testing.T) {
	ring := mwRing(t, fixedKey(t, "k1", 1))
	app := func(purpose string) (*sealed.Manager[sess], *hook) {
		h := new(hook)
		m, err := sealed.New(ring, sealed.JSON[sess](), sealed.Options{Purpose: purpose, OnError: h.OnError})
		if err != nil {
			t.Fatal(err)
		}
		return m, h
	}
	cookie := func(m *sealed.Manager[sess]) string {
		ctx := m.LoadHeader(context.Background(), http.Header{})
		m.Put(ctx, sess{User: "admin"})
		h := http.Header{}
		if err := m.SaveHeader(ctx, h); err != nil {
			t.Fatal(err)
		}
		return strings.SplitN(h.Get("Set-Cookie"), ";", 2)[0]
	}
	opens := func(m *sealed.Manager[sess], c string) bool {
		_, ok := m.Get(m.LoadHeader(context.Background(), http.Header{"Cookie": {c}}))
		return ok
	}
	billing, bh := app("billing")
	admin, ah := app("admin")
	none, _ := app("")
	if opens(admin, cookie(billing)) || opens(billing, cookie(admin)) {
		t.Error("a session crossed between purposes")
	}
	bh.expect(t, sealed.ErrInvalid)
	ah.expect(t, sealed.ErrInvalid)
	if opens(billing, cookie(none)) || opens(none, cookie(billing)) {
		t.Error("a session crossed between a purpose and none")
	}
	if !opens(billing, cookie(billing)) || !opens(none, cookie(none)) {
		t.Error("a session did not open in its own application")
	}
	if _, err := sealed.New(ring, sealed.JSON[sess](), sealed.Options{Purpose: strings.Repeat("p", sealed.MaxPurposeLen+1)}); err == nil {
		t.Error("New accepted an overlong Purpose")
	}
}

// Partitioned (CHIPS) goes on every cookie of the session: one cookie,
// chunks, and the deletions of leftover chunks. It requires Secure.
func TestManagerPartitioned(t *testing.T) {
	f := newFixture(t, sealed.Options{Partitioned: true})
	c := newClient(t, f.app())
	check := func(resp *http.Response) {
		t.Helper()
		lines := resp.Header.Values("Set-Cookie")
		if len(lines) == 0 {
			t.Fatal("no Set-Cookie")
		}
		for _, line := range lines {
			if !strings.Contains(line, "; Partitioned") || !strings.Contains(line, "; Secure") {
				t.Errorf("Set-Cookie without Partitioned: %s", line)
			}
		}
	}
	check(c.do("POST", "/put?user=a"))
	check(c.do("POST", "/put?user=a&blob=9000")) // chunks, and the plain cookie's deletion
	check(c.do("POST", "/put?user=a"))           // the chunks' deletions
	check(c.do("POST", "/destroy"))
	if _, err := sealed.New(f.keys, sealed.JSON[sess](), sealed.Options{Partitioned: true, DisableSecure: true}); err == nil {
		t.Error("New accepted Partitioned without Secure")
	}
}

// The __Http- and __Host-Http- prefixes (Chrome 140, Firefox 142) require
// HttpOnly, and Secure (and for __Host-Http-, the __Host- rules), matched
// case-insensitively.
func TestNewHttpPrefixes(t *testing.T) {
	ring := mwRing(t, fixedKey(t, "k1", 1))
	for _, tc := range []struct {
		opts sealed.Options
		ok   bool
	}{
		{sealed.Options{Name: "__Http-s"}, true},
		{sealed.Options{Name: "__Http-s", DisableHTTPOnly: true}, false},
		{sealed.Options{Name: "__http-s", DisableHTTPOnly: true}, false},
		{sealed.Options{Name: "__HTTP-s", DisableSecure: true}, false},
		{sealed.Options{Name: "__Http-s", Domain: "example.com", Path: "/x"}, true},
		{sealed.Options{Name: "__Host-Http-s"}, true},
		{sealed.Options{Name: "__Host-Http-s", DisableHTTPOnly: true}, false},
		{sealed.Options{Name: "__host-http-s", DisableHTTPOnly: true}, false},
		{sealed.Options{Name: "__Host-Http-s", Path: "/x"}, false},
		{sealed.Options{Name: "__Host-Http-s", Domain: "example.com"}, false},
		{sealed.Options{Name: "__Host-Http-s", DisableSecure: true}, false},
	} {
		_, err := sealed.New(ring, sealed.JSON[sess](), tc.opts)
		if (err == nil) != tc.ok {
			t.Errorf("New(%+v) = %v, want ok %v", tc.opts, err, tc.ok)
		}
	}
}

// RememberMe chooses per session whether the cookie persists, and the
// choice survives refreshes and re-seals; other sessions follow
// BrowserSession.
func TestManagerRememberMe(t *testing.T) {
	for _, browser := range []bool{false, true} {
		f := newFixture(t, sealed.Options{BrowserSession: browser, IdleTimeout: time.Hour, IdleRefresh: time.Minute})
		mux := http.NewServeMux()
		mux.Handle("/", f.app())
		mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
			f.m.Put(r.Context(), sess{User: "a"})
			if v := r.FormValue("remember"); v != "" {
				f.m.RememberMe(r.Context(), v == "1")
			}
		})
		h := f.m.Handler(mux)
		maxAge := func(resp *http.Response) (int, bool) {
			t.Helper()
			sc := setCookies(t, resp)["session"]
			if sc == nil {
				t.Fatalf("no session cookie: %q", resp.Header.Values("Set-Cookie"))
			}
			return sc.MaxAge, strings.Contains(resp.Header.Get("Set-Cookie"), "Max-Age")
		}
		for _, remember := range []string{"", "1", "0"} {
			c := newClient(t, h)
			_, persistent := maxAge(c.do("POST", "/login?remember="+remember))
			want := !browser
			if remember != "" {
				want = remember == "1"
			}
			if persistent != want {
				t.Errorf("BrowserSession %v, remember %q: persistent %v, want %v", browser, remember, persistent, want)
			}
			f.clock.Add(2 * time.Minute) // the next read refreshes the cookie
			if _, again := maxAge(c.do("GET", "/get")); again != want {
				t.Errorf("BrowserSession %v, remember %q: after a refresh, persistent %v", browser, remember, again)
			}
			if _, again := maxAge(c.do("GET", "/update")); again != want {
				t.Errorf("BrowserSession %v, remember %q: after an update, persistent %v", browser, remember, again)
			}
		}
	}
}

// A session that ends during a request (Destroy, or a cookie that Validate
// rejects) leaves nothing to the one a later Put starts in that request:
// not its RememberMe choice, its subject, its ID nor the Info of the cookie
// it came from.
func TestManagerNewSessionInheritsNothing(t *testing.T) {
	for _, end := range []string{"destroy", "rejected"} {
		t.Run(end, func(t *testing.T) {
			f := newFixture(t, sealed.Options{})
			f.m.Subject = func(v sess) string { return v.User }
			f.m.Validate = func(ctx context.Context, v sess, info sealed.SessionInfo) error {
				if end == "rejected" && v.User == "old" {
					return errors.New("no longer allowed")
				}
				return nil
			}
			var old, fresh sealed.SessionInfo
			mux := http.NewServeMux()
			mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
				f.m.Put(r.Context(), sess{User: "old"})
				f.m.RememberMe(r.Context(), false)
			})
			mux.HandleFunc("/again", func(w http.ResponseWriter, r *http.Request) {
				if end == "destroy" {
					old, _ = f.m.Info(r.Context())
					f.m.Destroy(r.Context())
				} else if _, ok := f.m.Get(r.Context()); ok {
					t.Error("Validate's rejection did not end the session")
				}
				f.m.Put(r.Context(), sess{User: "new"})
				fresh, _ = f.m.Info(r.Context())
			})
			c := newClient(t, f.m.Handler(mux))
			if sc := setCookies(t, c.do("POST", "/login"))["session"]; sc == nil || sc.MaxAge != 0 {
				t.Fatalf("login: want a browser-session cookie, got %+v", sc)
			}
			resp := c.do("POST", "/again")
			if sc := setCookies(t, resp)["session"]; sc == nil || sc.MaxAge <= 0 {
				t.Errorf("the new session's cookie: want a Max-Age (Options.BrowserSession is false), got %+v", sc)
			}
			if fresh.KeyID != "" || fresh.Stale || !fresh.Expires.IsZero() {
				t.Errorf("the new session's Info describes the old cookie: %+v", fresh.Info)
			}
			if fresh.Subject != "" {
				t.Errorf("the new session has the old subject %q before it is written", fresh.Subject)
			}
			if end == "destroy" && (old.ID == (sealed.SessionID{}) || fresh.ID == old.ID) {
				t.Errorf("session IDs: old %v, new %v", old.ID, fresh.ID)
			}
		})
	}
}
