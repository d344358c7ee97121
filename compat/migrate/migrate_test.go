package migrate_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/authjs"
	"github.com/sealedcookie/sealed/compat/flask"
	"github.com/sealedcookie/sealed/compat/internal/compattest"
	"github.com/sealedcookie/sealed/compat/iron"
	"github.com/sealedcookie/sealed/compat/migrate"
	"github.com/sealedcookie/sealed/compat/starlette"
	"github.com/sealedcookie/sealed/sealedtest"
)

// user is the Go application's session type.
type user struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles,omitempty"`
}

// legacyUser is the shape of the legacy sessions in these tests.
type legacyUser struct {
	User  string   `json:"user"`
	Roles []string `json:"roles"`
}

var errNoUser = errors.New("legacy session has no user")

// convert turns a legacy payload into a user; an anonymous session is
// skipped, and a payload with "user": "reject" fails.
func convert(calls *atomic.Int32) func(*http.Request, []byte) (user, error) {
	return func(_ *http.Request, payload []byte) (user, error) {
		calls.Add(1)
		var l legacyUser
		if err := json.Unmarshal(payload, &l); err != nil {
			return user{}, err
		}
		switch l.User {
		case "":
			return user{}, migrate.ErrSkip
		case "reject":
			return user{}, errNoUser
		}
		return user{Name: l.User, Roles: l.Roles}, nil
	}
}

// app is a Go application behind migrate.Handler, served in process over
// https, with a sealedtest.Client as the browser.
type app struct {
	*sealedtest.Client
	t       *testing.T
	m       *sealed.Manager[user]
	convert atomic.Int32
	mgrErrs sealedtest.ErrorLog

	mu         sync.Mutex
	legacyErrs []error
}

// newApp serves:
//
//	GET  /me     200 with the user's name, or 401; X-Cookies lists the
//	             cookie names the request carried
//	POST /login  logs in as ?user= through Go
//	POST /logout destroys the sealed session
func newApp(t *testing.T, sealedName string, src migrate.Source, mod func(*migrate.Legacy[user])) *app {
	t.Helper()
	a := &app{t: t}
	a.m = sealedtest.NewManager(t, sealed.JSON[user](), sealed.Options{Name: sealedName, Lifetime: time.Hour, OnError: a.mgrErrs.OnError})
	legacy := migrate.Legacy[user]{
		Source:  src,
		Convert: convert(&a.convert),
		OnError: func(r *http.Request, err error) {
			if r == nil {
				t.Error("OnError: nil request")
			}
			a.mu.Lock()
			a.legacyErrs = append(a.legacyErrs, err)
			a.mu.Unlock()
		},
	}
	if mod != nil {
		mod(&legacy)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		var names []string
		for _, c := range r.Cookies() {
			names = append(names, c.Name)
		}
		w.Header().Set("X-Cookies", strings.Join(names, " "))
		u, ok := a.m.Get(r.Context())
		if !ok {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "%s %s", u.Name, strings.Join(u.Roles, ","))
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		a.m.Put(r.Context(), user{Name: r.URL.Query().Get("user")})
		a.m.Renew(r.Context())
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		a.m.Destroy(r.Context())
	})
	a.Client = sealedtest.NewClient(t, migrate.Handler(a.m, legacy, mux))
	return a
}

// setLegacy stores cookies in the browser as if the legacy app had set
// them, with Path=/.
func (a *app) setLegacy(cookies ...*http.Cookie) {
	for _, c := range cookies {
		cp := *c
		cp.Path = "/"
		a.SetCookie(&cp)
	}
}

type result struct {
	status  int
	body    string
	cookies []*http.Cookie // Set-Cookie, in order
	carried string         // cookie names the request carried
	header  http.Header
}

func (a *app) do(method, path string) result {
	a.t.Helper()
	resp, body := a.Do(method, path)
	return result{resp.StatusCode, strings.TrimSpace(body), resp.Cookies(), resp.Header.Get("X-Cookies"), resp.Header}
}

// jarNames returns the names of the cookies the browser would send.
func (a *app) jarNames() []string { return slices.Sorted(maps.Keys(a.Cookies())) }

func (a *app) errs() (legacy, manager []error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.legacyErrs), a.mgrErrs.Take()
}

// newStarlette returns a Starlette codec, failing t if it cannot.
func newStarlette(t *testing.T, secret string, opts starlette.Options) *starlette.Codec {
	t.Helper()
	c, err := starlette.New(secret, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// find returns the last Set-Cookie named name.
func find(cs []*http.Cookie, name string) *http.Cookie {
	var found *http.Cookie
	for _, c := range cs {
		if c.Name == name {
			found = c
		}
	}
	return found
}

// expired checks that the response expires cookie name with Path=/.
func expired(t *testing.T, cs []*http.Cookie, name string) {
	t.Helper()
	for _, c := range cs {
		if c.Name == name {
			if c.MaxAge >= 0 || c.Value != "" || c.Path != "/" || !c.Secure || !c.HttpOnly {
				t.Errorf("legacy cookie %s not expired right: %s", name, c)
			}
			return
		}
	}
	t.Errorf("response does not expire legacy cookie %s (Set-Cookie: %v)", name, cs)
}

const session = `{"user":"alice","roles":["admin","dev"]}`

// legacyCase is a compat reader and a legacy cookie sealed by its codec.
type legacyCase struct {
	name    string
	src     migrate.Source
	cookies []*http.Cookie
}

func readers(t *testing.T) []legacyCase {
	t.Helper()
	st, errSt := starlette.New("starlette-secret", starlette.Options{MaxAge: time.Hour})
	fl, errFl := flask.New("flask-secret", flask.Options{}, "old-flask-secret")
	flOld, errOld := flask.New("old-flask-secret", flask.Options{})
	ir, errIr := iron.New(map[string]string{"2": strings.Repeat("p", 32), "1": strings.Repeat("o", 32)}, iron.Options{})
	aj, errAj := authjs.New([]string{"authjs-secret"}, authjs.Options{})
	v4, errV4 := authjs.NewV4([]string{"nextauth-secret"}, authjs.Options{})
	if err := errors.Join(errSt, errFl, errOld, errIr, errAj, errV4); err != nil {
		t.Fatal(err)
	}
	flValue := compattest.MustSeal(t, flOld, `{"_permanent":true,"roles":["admin","dev"],"user":"alice"}`) // a fallback key opens
	return []legacyCase{
		{"starlette", migrate.Starlette(st, ""), []*http.Cookie{{Name: "session", Value: compattest.MustSeal(t, st, session)}}},
		{"flask", migrate.Flask(fl, "flask_session"), []*http.Cookie{{Name: "flask_session", Value: flValue}}},
		{"iron", migrate.Iron(ir, "iron_session"), []*http.Cookie{{Name: "iron_session", Value: compattest.MustSeal(t, ir, session)}}},
		{"authjs", migrate.AuthJS(aj), aj.Cookies(compattest.MustSeal(t, aj, session), nil)},
		{"nextauth-v4", migrate.AuthJS(v4), v4.Cookies(compattest.MustSeal(t, v4, session), nil)},
	}
}

// takeOver serves an app with the sealed cookie "sid" that takes over
// tc's sessions, and makes the first request, with tc's cookies: it must
// see the user.
func takeOver(t *testing.T, tc legacyCase) (*app, result) {
	t.Helper()
	a := newApp(t, "sid", tc.src, nil)
	a.setLegacy(tc.cookies...)
	r := a.do("GET", "/me")
	if r.status != 200 || r.body != "alice admin,dev" {
		t.Fatalf("first request: %d %q, want the migrated user", r.status, r.body)
	}
	return a, r
}

// TestMigrate takes over a session sealed by each compat codec: the first
// request sees the user, sets the sealed cookie and expires the legacy one;
// the browser then holds only the sealed cookie, which keeps working.
func TestMigrate(t *testing.T) {
	for _, tc := range readers(t) {
		t.Run(tc.name, func(t *testing.T) {
			a, r := takeOver(t, tc)
			if c := find(r.cookies, "sid"); c == nil || c.Value == "" || c.MaxAge <= 0 {
				t.Errorf("no sealed cookie set: %v", r.cookies)
			}
			expired(t, r.cookies, tc.src.Name)
			if got := a.jarNames(); !slices.Equal(got, []string{"sid"}) {
				t.Errorf("browser holds %v after migration, want only sid", got)
			}

			r = a.do("GET", "/me")
			if r.status != 200 || r.body != "alice admin,dev" || r.carried != "sid" {
				t.Errorf("second request: %d %q carrying %q, want alice with only sid", r.status, r.body, r.carried)
			}
			if len(r.cookies) != 0 {
				t.Errorf("second request set cookies: %v", r.cookies)
			}
			if n := a.convert.Load(); n != 1 {
				t.Errorf("Convert called %d times, want 1", n)
			}
			if le, me := a.errs(); len(le)+len(me) != 0 {
				t.Errorf("errors: legacy %v, manager %v", le, me)
			}
		})
	}
}

// TestMigrateChunks takes over Auth.js and iron-session sessions split over
// several cookies: all chunks are read, and all are expired.
func TestMigrateChunks(t *testing.T) {
	big := `{"user":"alice","roles":["admin","dev"],"pad":"` + strings.Repeat("x", 6000) + `"}`

	aj, errAj := authjs.New([]string{"authjs-secret"}, authjs.Options{})
	ir, errIr := iron.New(map[string]string{"1": strings.Repeat("p", 32)}, iron.Options{MaxLen: 16 << 10})
	if err := errors.Join(errAj, errIr); err != nil {
		t.Fatal(err)
	}
	ajCookies := aj.Cookies(compattest.MustSeal(t, aj, big), nil)
	if len(ajCookies) < 2 {
		t.Fatalf("Auth.js value not chunked: %d cookies", len(ajCookies))
	}
	irValue := compattest.MustSeal(t, ir, big)
	var irCookies []*http.Cookie
	for i := 0; len(irValue) > 0; i++ { // iron-session v9's chunk: true
		n := min(len(irValue), 3000)
		irCookies = append(irCookies, &http.Cookie{Name: fmt.Sprintf("iron_session.%d", i), Value: irValue[:n]})
		irValue = irValue[n:]
	}

	for _, tc := range []legacyCase{
		{"authjs", migrate.AuthJS(aj), ajCookies},
		{"iron", migrate.Iron(ir, "iron_session"), irCookies},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, r := takeOver(t, tc)
			for _, c := range tc.cookies {
				expired(t, r.cookies, c.Name)
			}
			if got := a.jarNames(); !slices.Equal(got, []string{"sid"}) {
				t.Errorf("browser holds %v after migration, want only sid", got)
			}
			if r := a.do("GET", "/me"); r.status != 200 || r.carried != "sid" {
				t.Errorf("second request: %d carrying %q", r.status, r.carried)
			}
		})
	}
}

// TestSealedWins: with a valid sealed session, a valid legacy cookie is not
// converted but expired, so logging out cannot bring it back.
func TestSealedWins(t *testing.T) {
	tc := readers(t)[0] // starlette
	a := newApp(t, "sid", tc.src, nil)
	if r := a.do("POST", "/login?user=bob"); r.status != 200 {
		t.Fatalf("login: %d", r.status)
	}
	a.setLegacy(tc.cookies...)

	r := a.do("GET", "/me")
	if r.status != 200 || r.body != "bob" {
		t.Fatalf("got %d %q, want the sealed session (bob)", r.status, r.body)
	}
	if a.convert.Load() != 0 {
		t.Error("Convert called although a sealed session was present")
	}
	if find(r.cookies, "sid") != nil {
		t.Errorf("sealed cookie rewritten: %v", r.cookies)
	}
	expired(t, r.cookies, "session")

	a.do("POST", "/logout")
	if r := a.do("GET", "/me"); r.status != 401 {
		t.Errorf("after logout: %d %q, want 401 (legacy session must not come back)", r.status, r.body)
	}
	if a.convert.Load() != 0 {
		t.Error("Convert called after logout")
	}
}

// TestBadLegacy: a legacy cookie that does not open or convert gives no
// session (not a 500), is expired, and is reported to OnError.
func TestBadLegacy(t *testing.T) {
	st := newStarlette(t, "starlette-secret", starlette.Options{MaxAge: time.Hour})
	seal := func(c *starlette.Codec, s string) string { return compattest.MustSeal(t, c, s) }
	good := seal(st, session)
	wrong := newStarlette(t, "another-secret", starlette.Options{})
	old := newStarlette(t, "starlette-secret", starlette.Options{Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }})

	for _, tc := range []struct {
		name  string
		value string
		want  error // nil: no OnError
	}{
		{"tampered", "x" + good[1:], sealed.ErrInvalid},
		{"wrong secret", seal(wrong, session), sealed.ErrInvalid},
		{"expired", seal(old, session), sealed.ErrExpired},
		{"garbage", "not-a-cookie", sealed.ErrMalformed},
		{"starlette cleared", "null", sealed.ErrMalformed},
		{"convert fails", seal(st, `{"user":"reject"}`), errNoUser},
		{"anonymous (ErrSkip)", seal(st, `{"csrf":"x"}`), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newApp(t, "sid", migrate.Starlette(st, ""), nil)
			a.setLegacy(&http.Cookie{Name: "session", Value: tc.value})
			r := a.do("GET", "/me")
			if r.status != 401 {
				t.Errorf("got %d %q, want 401 (no session)", r.status, r.body)
			}
			if find(r.cookies, "sid") != nil {
				t.Errorf("sealed cookie set: %v", r.cookies)
			}
			expired(t, r.cookies, "session")
			if !strings.Contains(r.header.Get("Vary"), "Cookie") || r.header.Get("Cache-Control") == "" {
				t.Errorf("expiring response is cacheable: Vary %q, Cache-Control %q", r.header.Get("Vary"), r.header.Get("Cache-Control"))
			}
			if got := a.jarNames(); len(got) != 0 {
				t.Errorf("browser still holds %v", got)
			}
			legacyErrs, _ := a.errs()
			switch {
			case tc.want == nil && len(legacyErrs) != 0:
				t.Errorf("OnError got %v, want nothing", legacyErrs)
			case tc.want != nil && (len(legacyErrs) != 1 || !errors.Is(legacyErrs[0], tc.want)):
				t.Errorf("OnError got %v, want one error wrapping %v", legacyErrs, tc.want)
			case tc.want != nil && !strings.Contains(legacyErrs[0].Error(), `"session"`):
				t.Errorf("error %q does not name the cookie", legacyErrs[0])
			}
		})
	}
}

// TestSameName migrates a legacy cookie that has the sealed cookie's name:
// the response expires it and then sets the sealed value, and the browser
// keeps the sealed one.
func TestSameName(t *testing.T) {
	tc := readers(t)[0] // starlette, "session"
	a := newApp(t, "session", tc.src, nil)
	a.setLegacy(tc.cookies...)
	legacyValue := tc.cookies[0].Value

	r := a.do("GET", "/me")
	if r.status != 200 || r.body != "alice admin,dev" {
		t.Fatalf("first request: %d %q", r.status, r.body)
	}
	var lines []string
	for _, c := range r.cookies {
		lines = append(lines, c.Name+"="+c.Value)
	}
	if len(r.cookies) != 2 || r.cookies[0].MaxAge >= 0 || r.cookies[1].Value == "" || r.cookies[1].MaxAge <= 0 {
		t.Errorf("Set-Cookie %q, want the legacy expiry then the sealed value", lines)
	}
	if cookies := a.Cookies(); len(cookies) != 1 || cookies["session"] == legacyValue {
		t.Fatalf("browser holds %v, want only the sealed session cookie", cookies)
	}
	r = a.do("GET", "/me")
	if r.status != 200 || r.body != "alice admin,dev" || len(r.cookies) != 0 {
		t.Errorf("second request: %d %q, Set-Cookie %v", r.status, r.body, r.cookies)
	}
	if a.convert.Load() != 1 {
		t.Errorf("Convert called %d times, want 1", a.convert.Load())
	}
	if le, _ := a.errs(); len(le) != 0 {
		t.Errorf("OnError: %v", le)
	}
	a.do("POST", "/logout")
	if r := a.do("GET", "/me"); r.status != 401 {
		t.Errorf("after logout: %d", r.status)
	}
}

// TestAttributes checks the expiring Set-Cookie repeats the legacy Path and
// Domain (else the browser keeps the cookie) and is Secure when asked, and
// that requests without a legacy cookie are left alone.
func TestAttributes(t *testing.T) {
	st := newStarlette(t, "starlette-secret", starlette.Options{})
	value, err := st.Seal([]byte(`{"user":"reject"}`))
	if err != nil {
		t.Fatal(err)
	}
	m := sealedtest.NewManager(t, sealed.JSON[user](), sealed.Options{})
	var calls atomic.Int32
	var nextCalls int
	h := migrate.Handler(m, migrate.Legacy[user]{
		Source:  migrate.Starlette(st, "legacy"),
		Path:    "/app",
		Domain:  "example.com",
		Secure:  true,
		Convert: convert(&calls),
		OnError: func(*http.Request, error) {},
	}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nextCalls++
		w.Header().Set("Cache-Control", "private")
	}))

	req := httptest.NewRequest("GET", "http://example.com/app/", nil)
	req.Header.Set("Cookie", "legacy="+value+"; other=1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	got := rec.Result().Header.Values("Set-Cookie")
	want := "legacy=; Path=/app; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure"
	if len(got) != 1 || got[0] != want {
		t.Errorf("Set-Cookie %q\nwant %q", got, want)
	}
	if nextCalls != 1 || calls.Load() != 1 {
		t.Errorf("next called %d times, Convert %d", nextCalls, calls.Load())
	}

	// No legacy cookie (or an empty one): nothing happens.
	for _, cookie := range []string{"", "other=1", "legacy=", "legacyx=1; legacy.0=1"} {
		req := httptest.NewRequest("GET", "http://example.com/app/", nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if sc := rec.Result().Header.Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("Cookie %q: Set-Cookie %q", cookie, sc)
		}
	}
	if nextCalls != 5 || calls.Load() != 1 {
		t.Errorf("next called %d times, Convert %d", nextCalls, calls.Load())
	}
}

// TestHandlerPanics checks that a misconfigured Handler fails at once.
func TestHandlerPanics(t *testing.T) {
	m := sealedtest.NewManager(t, sealed.JSON[user](), sealed.Options{})
	st := newStarlette(t, "s", starlette.Options{})
	ok := migrate.Legacy[user]{Source: migrate.Starlette(st, ""), Convert: func(*http.Request, []byte) (user, error) { return user{}, nil }}
	next := http.NotFoundHandler()
	for name, f := range map[string]func(){
		"nil manager": func() { migrate.Handler(nil, ok, next) },
		"nil next":    func() { migrate.Handler(m, ok, nil) },
		"nil open":    func() { l := ok; l.Open = nil; migrate.Handler(m, l, next) },
		"nil convert": func() { l := ok; l.Convert = nil; migrate.Handler(m, l, next) },
		"bad name":    func() { l := ok; l.Name = "a b"; migrate.Handler(m, l, next) },
		"empty name":  func() { l := ok; l.Name = ""; migrate.Handler(m, l, next) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
	migrate.Handler(m, ok, next) // and the good one does not panic
}
