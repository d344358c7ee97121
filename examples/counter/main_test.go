package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/sealedtest"
)

// newTestServer serves the application, sealing with keys, until the test
// ends.
func newTestServer(t *testing.T, keys sealed.KeySource) *httptest.Server {
	t.Helper()
	h, err := newServer(keys)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// count requests /session_test from target, a server's URL, and returns
// the counter.
func count(t *testing.T, c *sealedtest.Client, target string) int {
	t.Helper()
	resp, body := c.Do("GET", target+"/session_test")
	var s Session
	if err := json.Unmarshal([]byte(body), &s); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("GET %s/session_test: %d %s", target, resp.StatusCode, body)
	}
	return s.TestCounter
}

func TestCounterPerSession(t *testing.T) {
	srv := newTestServer(t, sealedtest.NewKeyRing(t))
	alice, bob := sealedtest.NewServerClient(t, srv), sealedtest.NewServerClient(t, srv)
	for want := 1; want <= 5; want++ {
		if got := count(t, alice, srv.URL); got != want {
			t.Fatalf("alice's request %d: counter %d", want, got)
		}
	}
	// Bob's counter is his own.
	for want := 1; want <= 2; want++ {
		if got := count(t, bob, srv.URL); got != want {
			t.Fatalf("bob's request %d: counter %d", want, got)
		}
	}
	if got := count(t, alice, srv.URL); got != 6 {
		t.Fatalf("alice after bob: counter %d, want 6", got)
	}
	// Without cookies every request starts at 1.
	for range 3 {
		if got := count(t, sealedtest.NewServerClient(t, srv), srv.URL); got != 1 {
			t.Fatalf("cookieless request: counter %d, want 1", got)
		}
	}
}

// TestStatelessAcrossInstances shows that any instance with the keys can
// continue a session, and an instance with other keys starts a new one.
func TestStatelessAcrossInstances(t *testing.T) {
	keys := sealedtest.NewKeyRing(t, "shared")
	a, b := newTestServer(t, keys), newTestServer(t, keys)
	other := newTestServer(t, sealedtest.NewKeyRing(t, "other"))
	c := sealedtest.NewServerClient(t, a)
	count(t, c, a.URL)
	count(t, c, a.URL)
	// The Client sends the 127.0.0.1 cookie to every port: the second
	// instance opens it and continues the count.
	if got := count(t, c, b.URL); got != 3 {
		t.Fatalf("second instance: counter %d, want 3", got)
	}
	// A server with different keys cannot open it: a new session.
	if got := count(t, c, other.URL); got != 1 {
		t.Fatalf("instance with other keys: counter %d, want 1", got)
	}
	// That instance replaced the cookie with one only it can open, so the
	// first instance starts over too.
	if got := count(t, c, a.URL); got != 1 {
		t.Fatalf("back on the first instance: counter %d, want 1", got)
	}
}

// TestConcurrentBrowsers checks that sessions of parallel clients do not mix.
func TestConcurrentBrowsers(t *testing.T) {
	srv := newTestServer(t, sealedtest.NewKeyRing(t))
	for i := range 8 {
		t.Run(fmt.Sprint("browser ", i), func(t *testing.T) {
			t.Parallel()
			c := sealedtest.NewServerClient(t, srv)
			for want := 1; want <= 10; want++ {
				if got := count(t, c, srv.URL); got != want {
					t.Fatalf("request %d: counter %d", want, got)
				}
			}
		})
	}
}
