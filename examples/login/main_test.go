package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/sealedtest"
)

const password = "correct horse battery staple"

// newTestServer returns the application with a 1 h lifetime, a 10 min
// idle timeout and a test clock, and what its Manager reports to OnError.
func newTestServer(t *testing.T) (http.Handler, *sealedtest.Clock, *sealedtest.ErrorLog) {
	t.Helper()
	clk := sealedtest.NewClock(time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC))
	errs := &sealedtest.ErrorLog{}
	h, err := newServer(sealedtest.NewKeyRing(t), sealed.Options{
		Lifetime:    time.Hour,
		IdleTimeout: 10 * time.Minute,
		Now:         clk.Now,
		OnError:     errs.OnError,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h, clk, errs
}

// browser is one browser; redirects are left to the test.
type browser struct {
	*sealedtest.Client
	t *testing.T
}

func newBrowser(t *testing.T, h http.Handler) *browser {
	return &browser{sealedtest.NewClient(t, h), t}
}

// response is what a request returned.
type response struct {
	code     int
	location string
	body     string
}

func (b *browser) get(path string) response {
	b.t.Helper()
	resp, body := b.Do("GET", path)
	return response{resp.StatusCode, resp.Header.Get("Location"), body}
}

func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body := b.Send(req)
	return response{resp.StatusCode, resp.Header.Get("Location"), body}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token returns the CSRF token in a page.
func token(t *testing.T, page response) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no CSRF token in the page (status %d):\n%s", page.code, page.body)
	}
	return m[1]
}

// signIn opens the login form and posts it, and checks the welcome page.
func (b *browser) signIn(user, pass string) {
	b.t.Helper()
	form := b.get("/login")
	if form.code != http.StatusOK {
		b.t.Fatalf("GET /login: %d", form.code)
	}
	r := b.post("/login", url.Values{"csrf": {token(b.t, form)}, "user": {user}, "password": {pass}})
	if r.code != http.StatusSeeOther || r.location != "/" {
		b.t.Fatalf("POST /login: %d to %q, want 303 to /", r.code, r.location)
	}
	if home := b.get("/"); !strings.Contains(home.body, "Welcome, "+user+".") || !strings.Contains(home.body, `<b id="user">`+user+`</b>`) {
		b.t.Fatalf("home after login:\n%s", home.body)
	}
}

// signedIn reports whether /account serves the account page; otherwise it
// must redirect to the login form.
func (b *browser) signedIn() bool {
	b.t.Helper()
	r := b.get("/account")
	switch {
	case r.code == http.StatusOK && strings.Contains(r.body, "Signed in as"):
		return true
	case r.code == http.StatusSeeOther && r.location == "/login":
		return false
	}
	b.t.Fatalf("GET /account: %d to %q:\n%s", r.code, r.location, r.body)
	return false
}

func TestLoginLogout(t *testing.T) {
	h, _, _ := newTestServer(t)
	b := newBrowser(t, h)

	if b.signedIn() {
		t.Fatal("signed in before login")
	}
	// The redirect to the form left a flash message for it, shown once.
	form := b.get("/login")
	if !strings.Contains(form.body, "Please sign in.") {
		t.Fatalf("login form without the flash message:\n%s", form.body)
	}
	if again := b.get("/login"); strings.Contains(again.body, "Please sign in.") {
		t.Fatal("the flash message was shown twice")
	}

	// A wrong password: back to the form with a message.
	r := b.post("/login", url.Values{"csrf": {token(t, form)}, "user": {"alice"}, "password": {"guess"}})
	if r.code != http.StatusSeeOther || r.location != "/login" {
		t.Fatalf("wrong password: %d to %q, want 303 to /login", r.code, r.location)
	}
	if page := b.get("/login"); !strings.Contains(page.body, "Wrong user name or password.") {
		t.Fatalf("no error message after a wrong password:\n%s", page.body)
	}
	if b.signedIn() {
		t.Fatal("signed in with a wrong password")
	}
	if r := b.post("/login", url.Values{"csrf": {token(t, b.get("/login"))}, "user": {"mallory"}, "password": {password}}); r.location != "/login" {
		t.Fatalf("unknown user: %d to %q, want a redirect to /login", r.code, r.location)
	}

	anonymousToken := token(t, b.get("/login"))
	b.signIn("alice", password)
	if !b.signedIn() {
		t.Fatal("not signed in after login")
	}
	account := b.get("/account")
	if token(t, account) == anonymousToken {
		t.Fatal("the CSRF token did not change at login")
	}

	// Logout needs the signed-in session's token.
	if r := b.post("/logout", url.Values{"csrf": {anonymousToken}}); r.code != http.StatusForbidden {
		t.Fatalf("logout with the pre-login token: %d, want 403", r.code)
	}
	if r := b.post("/logout", url.Values{"csrf": {token(t, account)}}); r.code != http.StatusSeeOther || r.location != "/" {
		t.Fatalf("logout: %d to %q, want 303 to /", r.code, r.location)
	}
	home := b.get("/")
	if !strings.Contains(home.body, "You are signed out.") || strings.Contains(home.body, "Signed in as") {
		t.Fatalf("home after logout:\n%s", home.body)
	}
	if b.signedIn() {
		t.Fatal("still signed in after logout")
	}
}

func TestCSRF(t *testing.T) {
	h, _, _ := newTestServer(t)
	alice, mallory := newBrowser(t, h), newBrowser(t, h)
	aliceToken := token(t, alice.get("/login"))
	malloryToken := token(t, mallory.get("/login"))
	if aliceToken == malloryToken {
		t.Fatal("two sessions got the same CSRF token")
	}
	creds := func(tok string) url.Values {
		v := url.Values{"user": {"alice"}, "password": {password}}
		if tok != "" {
			v.Set("csrf", tok)
		}
		return v
	}
	for name, form := range map[string]url.Values{
		"no token":                creds(""),
		"empty token":             creds(" "),
		"another session's token": creds(malloryToken),
		"truncated token":         creds(aliceToken[:len(aliceToken)-1]),
	} {
		if r := alice.post("/login", form); r.code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, r.code)
		}
	}
	// A POST without any session (a cross-site form: SameSite=Lax keeps the
	// browser from sending the cookie) is refused even with a token.
	stranger := newBrowser(t, h)
	if r := stranger.post("/login", creds(aliceToken)); r.code != http.StatusForbidden {
		t.Errorf("token without its session: %d, want 403", r.code)
	}
	if alice.signedIn() {
		t.Fatal("a forged login went through")
	}
	if r := alice.post("/login", creds(aliceToken)); r.code != http.StatusSeeOther || r.location != "/" {
		t.Fatalf("login with the right token: %d to %q", r.code, r.location)
	}
	if !alice.signedIn() {
		t.Fatal("not signed in")
	}
}

func TestCookieIsLaxAndHttpOnly(t *testing.T) {
	h, _, _ := newTestServer(t)
	resp, _ := sealedtest.NewClient(t, h).Do("GET", "/login")
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("Set-Cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	if c := cookies[0]; c.SameSite != http.SameSiteLaxMode || !c.HttpOnly || !c.Secure {
		t.Fatalf("cookie attributes: %s", resp.Header.Get("Set-Cookie"))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control of a page with a token: %q", cc)
	}
}

// TestIdleTimeout: a session ends after 10 minutes without a request, but
// requests keep it alive.
func TestIdleTimeout(t *testing.T) {
	h, clk, errs := newTestServer(t)
	b := newBrowser(t, h)
	b.signIn("alice", password)
	// A request every 6 minutes for half an hour: each one slides the
	// 10-minute window (it is re-sealed once 5 minutes have passed).
	for range 5 {
		clk.Add(6 * time.Minute)
		if !b.signedIn() {
			t.Fatalf("signed out while active, at %s", clk.Now().Format("15:04"))
		}
	}
	clk.Add(9*time.Minute + 59*time.Second)
	if !b.signedIn() {
		t.Fatal("signed out before the idle timeout")
	}
	clk.Add(10 * time.Minute)
	if b.signedIn() {
		t.Fatal("still signed in after 10 idle minutes")
	}
	if !errors.Is(errors.Join(errs.Take()...), sealed.ErrExpired) {
		t.Fatal("the expired session was not reported as ErrExpired")
	}
}

// TestAbsoluteLifetime: a session ends an hour after login however active
// it is, and the hour starts at login (Renew), not when the anonymous
// session began.
func TestAbsoluteLifetime(t *testing.T) {
	h, clk, _ := newTestServer(t)
	b := newBrowser(t, h)
	first := token(t, b.get("/login")) // the anonymous session starts at 09:00
	for range 10 {                     // stays active until 09:50
		clk.Add(5 * time.Minute)
		if got := token(t, b.get("/login")); got != first {
			t.Fatalf("the anonymous session was lost at %s", clk.Now().Format("15:04"))
		}
	}
	b.signIn("alice", password) // 09:50: Renew starts a new hour
	loggedIn := clk.Now()
	for clk.Now().Sub(loggedIn) < 55*time.Minute {
		clk.Add(5 * time.Minute)
		if !b.signedIn() {
			t.Fatalf("signed out %v after login, before the lifetime ended", clk.Now().Sub(loggedIn))
		}
	}
	clk.Add(5 * time.Minute) // 1 h after login, active all along
	if b.signedIn() {
		t.Fatalf("still signed in %v after login, past the 1 h lifetime", clk.Now().Sub(loggedIn))
	}
}
