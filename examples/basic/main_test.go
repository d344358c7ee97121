package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sealedcookie/sealed"
)

// testKeys returns a fresh key ring.
func testKeys(t *testing.T) *sealed.KeyRing {
	t.Helper()
	key, err := sealed.GenerateKey("test")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := sealed.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

// browser is an HTTP client with its own cookie jar, like one browser.
type browser struct {
	t      *testing.T
	srv    *httptest.Server
	client *http.Client
}

func newBrowser(t *testing.T, srv *httptest.Server) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, srv: srv, client: &http.Client{Jar: jar}}
}

// do sends a request and returns the status and the body.
func (b *browser) do(method, path string) (int, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// cookie returns the value of the session cookie in the jar, or "".
func (b *browser) cookie() string {
	u, _ := url.Parse(b.srv.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "session" {
			return c.Value
		}
	}
	return ""
}

func newTestServer(t *testing.T) *httptest.Server {
	h, err := newServer(testKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestFlows(t *testing.T) {
	srv := newTestServer(t)
	b := newBrowser(t, srv)

	if code, _ := b.do("GET", "/whoami"); code != http.StatusUnauthorized {
		t.Fatalf("whoami without a session: status %d, want 401", code)
	}
	if code, body := b.do("POST", "/create_session/alice"); code != http.StatusOK || !strings.Contains(body, `"created":"alice"`) {
		t.Fatalf("create_session: %d %s", code, body)
	}
	cookie := b.cookie()
	if cookie == "" {
		t.Fatal("create_session set no session cookie")
	}
	if strings.Contains(cookie, "alice") {
		t.Fatalf("the cookie shows the session in clear: %q", cookie)
	}
	code, body := b.do("GET", "/whoami")
	if code != http.StatusOK {
		t.Fatalf("whoami with a session: status %d, want 200", code)
	}
	var s Session
	if err := json.Unmarshal([]byte(body), &s); err != nil || s.Name != "alice" {
		t.Fatalf("whoami: %s (%v), want name alice", body, err)
	}

	// Another browser has its own session, or none.
	other := newBrowser(t, srv)
	if code, _ := other.do("GET", "/whoami"); code != http.StatusUnauthorized {
		t.Fatalf("whoami from another browser: status %d, want 401", code)
	}
	other.do("POST", "/create_session/bob")
	if _, body := other.do("GET", "/whoami"); !strings.Contains(body, `"name":"bob"`) {
		t.Fatalf("whoami as bob: %s", body)
	}
	if _, body := b.do("GET", "/whoami"); !strings.Contains(body, `"name":"alice"`) {
		t.Fatalf("alice's session changed after bob's login: %s", body)
	}

	if code, body := b.do("POST", "/delete_session"); code != http.StatusOK || !strings.Contains(body, `"deleted":true`) {
		t.Fatalf("delete_session: %d %s", code, body)
	}
	if c := b.cookie(); c != "" {
		t.Fatalf("the session cookie survived delete_session: %q", c)
	}
	if code, _ := b.do("GET", "/whoami"); code != http.StatusUnauthorized {
		t.Fatalf("whoami after delete_session: status %d, want 401", code)
	}
	if _, body := b.do("POST", "/delete_session"); !strings.Contains(body, `"deleted":false`) {
		t.Fatalf("second delete_session: %s", body)
	}
}

func TestTamperedCookieIsNoSession(t *testing.T) {
	srv := newTestServer(t)
	b := newBrowser(t, srv)
	b.do("POST", "/create_session/alice")
	v := []byte(b.cookie())
	if len(v) < 10 {
		t.Fatalf("session cookie %q", v)
	}
	// Change one character in the middle of the sealed value.
	if v[len(v)/2] == 'A' {
		v[len(v)/2] = 'B'
	} else {
		v[len(v)/2] = 'A'
	}
	req, _ := http.NewRequest("GET", srv.URL+"/whoami", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: string(v)})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("whoami with a tampered cookie: status %d, want 401", resp.StatusCode)
	}
	// The bad cookie is cleared.
	cleared := false
	for _, c := range resp.Cookies() {
		if c.Name == "session" && c.MaxAge < 0 {
			cleared = true
		}
	}
	if !cleared {
		t.Fatalf("the tampered cookie was not expired: %q", resp.Header.Values("Set-Cookie"))
	}
}

func TestCookieAttributes(t *testing.T) {
	srv := newTestServer(t)
	resp, err := http.Post(srv.URL+"/create_session/alice", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("got %d cookies, want 1: %q", len(cookies), resp.Header.Values("Set-Cookie"))
	}
	c := cookies[0]
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge <= 0 {
		t.Fatalf("cookie attributes: %s", resp.Header.Get("Set-Cookie"))
	}
}
