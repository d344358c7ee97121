package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sealedcookie/sealed/sealedtest"
)

// newBrowser returns a browser for a fresh instance of the application.
func newBrowser(t *testing.T) *sealedtest.Client {
	t.Helper()
	h, err := newServer(sealedtest.NewKeyRing(t))
	if err != nil {
		t.Fatal(err)
	}
	return sealedtest.NewClient(t, h)
}

func TestFlows(t *testing.T) {
	h, err := newServer(sealedtest.NewKeyRing(t))
	if err != nil {
		t.Fatal(err)
	}
	b := sealedtest.NewClient(t, h)

	if resp, _ := b.Do("GET", "/whoami"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("whoami without a session: status %d, want 401", resp.StatusCode)
	}
	if resp, body := b.Do("POST", "/create_session/alice"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"created":"alice"`) {
		t.Fatalf("create_session: %d %s", resp.StatusCode, body)
	}
	cookie := b.Cookies()["session"]
	if cookie == "" {
		t.Fatal("create_session set no session cookie")
	}
	if strings.Contains(cookie, "alice") {
		t.Fatalf("the cookie shows the session in clear: %q", cookie)
	}
	resp, body := b.Do("GET", "/whoami")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("whoami with a session: status %d, want 200", resp.StatusCode)
	}
	var s Session
	if err := json.Unmarshal([]byte(body), &s); err != nil || s.Name != "alice" {
		t.Fatalf("whoami: %s (%v), want name alice", body, err)
	}

	// Another browser has its own session, or none.
	other := sealedtest.NewClient(t, h)
	if resp, _ := other.Do("GET", "/whoami"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("whoami from another browser: status %d, want 401", resp.StatusCode)
	}
	other.Do("POST", "/create_session/bob")
	if _, body := other.Do("GET", "/whoami"); !strings.Contains(body, `"name":"bob"`) {
		t.Fatalf("whoami as bob: %s", body)
	}
	if _, body := b.Do("GET", "/whoami"); !strings.Contains(body, `"name":"alice"`) {
		t.Fatalf("alice's session changed after bob's login: %s", body)
	}

	if resp, body := b.Do("POST", "/delete_session"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"deleted":true`) {
		t.Fatalf("delete_session: %d %s", resp.StatusCode, body)
	}
	if c, ok := b.Cookies()["session"]; ok {
		t.Fatalf("the session cookie survived delete_session: %q", c)
	}
	if resp, _ := b.Do("GET", "/whoami"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("whoami after delete_session: status %d, want 401", resp.StatusCode)
	}
	if _, body := b.Do("POST", "/delete_session"); !strings.Contains(body, `"deleted":false`) {
		t.Fatalf("second delete_session: %s", body)
	}
}

func TestTamperedCookieIsNoSession(t *testing.T) {
	b := newBrowser(t)
	b.Do("POST", "/create_session/alice")
	v := []byte(b.Cookies()["session"])
	if len(v) < 10 {
		t.Fatalf("session cookie %q", v)
	}
	// Change one character in the middle of the sealed value.
	if v[len(v)/2] == 'A' {
		v[len(v)/2] = 'B'
	} else {
		v[len(v)/2] = 'A'
	}
	b.SetCookie(&http.Cookie{Name: "session", Value: string(v)})
	resp, _ := b.Do("GET", "/whoami")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("whoami with a tampered cookie: status %d, want 401", resp.StatusCode)
	}
	// The bad cookie is cleared.
	if c, ok := b.Cookies()["session"]; ok {
		t.Fatalf("the tampered cookie was not expired: %q (Set-Cookie %q)", c, resp.Header.Values("Set-Cookie"))
	}
}

func TestCookieAttributes(t *testing.T) {
	resp, _ := newBrowser(t).Do("POST", "/create_session/alice")
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("got %d cookies, want 1: %q", len(cookies), resp.Header.Values("Set-Cookie"))
	}
	c := cookies[0]
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge <= 0 {
		t.Fatalf("cookie attributes: %s", resp.Header.Get("Set-Cookie"))
	}
}
