package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/sealedcookie/sealed"
)

func testKeys(t *testing.T, id string) *sealed.KeyRing {
	t.Helper()
	key, err := sealed.GenerateKey(id)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := sealed.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

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

func newClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

// count requests /session_test and returns the counter.
func count(t *testing.T, c *http.Client, base string) int {
	t.Helper()
	n, err := tryCount(c, base)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// tryCount is count for goroutines other than the test's.
func tryCount(c *http.Client, base string) (int, error) {
	resp, err := c.Get(base + "/session_test")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	var s Session
	err = json.NewDecoder(resp.Body).Decode(&s)
	return s.TestCounter, err
}

func TestCounterPerSession(t *testing.T) {
	srv := newTestServer(t, testKeys(t, "k1"))
	alice, bob := newClient(t), newClient(t)
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
		if got := count(t, http.DefaultClient, srv.URL); got != 1 {
			t.Fatalf("cookieless request: counter %d, want 1", got)
		}
	}
}

// TestStatelessAcrossInstances shows that any instance with the keys can
// continue a session, and an instance with other keys starts a new one.
func TestStatelessAcrossInstances(t *testing.T) {
	keys := testKeys(t, "shared")
	a, b := newTestServer(t, keys), newTestServer(t, keys)
	other := newTestServer(t, testKeys(t, "other"))
	c := newClient(t)
	count(t, c, a.URL)
	count(t, c, a.URL)
	// The jar sends the 127.0.0.1 cookie to every port: the second
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
	srv := newTestServer(t, testKeys(t, "k1"))
	var wg sync.WaitGroup
	for range 8 {
		c := newClient(t)
		wg.Go(func() {
			for want := 1; want <= 10; want++ {
				if got, err := tryCount(c, srv.URL); err != nil || got != want {
					t.Errorf("request %d: counter %d (%v), want %d", want, got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
