package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
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
	jar    *cookiejar.Jar
	client *http.Client
}

func newBrowser(t *testing.T, srv *httptest.Server) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, srv: srv, jar: jar, client: &http.Client{Jar: jar}}
}

// do sends a request, with form values if any, and returns the status and
// the body.
func (b *browser) do(method, path string, form url.Values) (int, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
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

// session does GET /me and decodes the session it returns.
func (b *browser) session() Session {
	b.t.Helper()
	code, body := b.do("GET", "/me", nil)
	if code != http.StatusOK {
		b.t.Fatalf("GET /me: %d %s, want 200", code, body)
	}
	var s Session
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		b.t.Fatalf("GET /me: %v in %q", err, body)
	}
	return s
}

func (b *browser) cookies() []*http.Cookie {
	u, err := url.Parse(b.srv.URL)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.jar.Cookies(u)
}

func testSessions(t *testing.T) *sealed.Manager[Session] {
	t.Helper()
	sessions, err := newSessions(testKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	return sessions
}

func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(newRouter(testSessions(t)))
	t.Cleanup(srv.Close)
	return srv
}

// TestSessionLifecycle walks through create, read, update and destroy, with
// a route parameter, Require on one route (r.With) and RequireFunc on a
// group (r.Group + r.Use).
func TestSessionLifecycle(t *testing.T) {
	b := newBrowser(t, newTestServer(t))

	for _, route := range []string{"GET /visits", "GET /me", "POST /me/notes"} {
		method, path, _ := strings.Cut(route, " ")
		if code, body := b.do(method, path, nil); code != http.StatusUnauthorized {
			t.Fatalf("%s without a session: %d %s, want 401", route, code, body)
		}
	}
	if len(b.cookies()) != 0 {
		t.Fatalf("cookies after 401s: %v", b.cookies())
	}

	// An anonymous session passes Require but not the login predicate.
	b.do("POST", "/visit", nil)
	if code, body := b.do("GET", "/visits", nil); code != http.StatusOK || body != `{"visits":1}`+"\n" {
		t.Fatalf("GET /visits with an anonymous session: %d %q, want 200 {\"visits\":1}", code, body)
	}
	if code, body := b.do("GET", "/me", nil); code != http.StatusUnauthorized {
		t.Fatalf("GET /me with an anonymous session: %d %s, want 401", code, body)
	}

	// Login keeps what the anonymous session held.
	if code, body := b.do("POST", "/login/alice", nil); code != http.StatusOK {
		t.Fatalf("POST /login/alice: %d %s", code, body)
	}
	if got, want := b.session(), (Session{User: "alice", Visits: 1}); !reflect.DeepEqual(got, want) {
		t.Fatalf("session after login: %+v, want %+v", got, want)
	}
	for _, note := range []string{"one", "two"} {
		if code, body := b.do("POST", "/me/notes", url.Values{"note": {note}}); code != http.StatusOK {
			t.Fatalf("POST /me/notes %q: %d %s", note, code, body)
		}
	}
	if code, _ := b.do("POST", "/me/notes", url.Values{"note": {""}}); code != http.StatusBadRequest {
		t.Fatalf("POST /me/notes with an empty note: %d, want 400", code)
	}
	b.do("POST", "/visit", nil)
	if got, want := b.session(), (Session{User: "alice", Visits: 2, Notes: []string{"one", "two"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("session: %+v, want %+v", got, want)
	}

	// Another browser has no session.
	if code, _ := newBrowser(t, b.srv).do("GET", "/me", nil); code != http.StatusUnauthorized {
		t.Fatalf("GET /me from another browser: %d, want 401", code)
	}

	if code, body := b.do("POST", "/logout", nil); code != http.StatusOK || body != `{"ended":true}`+"\n" {
		t.Fatalf("POST /logout: %d %q", code, body)
	}
	if code, _ := b.do("GET", "/me", nil); code != http.StatusUnauthorized {
		t.Fatalf("GET /me after logout: %d, want 401", code)
	}
	if got := b.cookies(); len(got) != 0 {
		t.Fatalf("cookies left after logout: %v", got)
	}
}

// TestLoginRejectsLongName checks the route parameter's bound.
func TestLoginRejectsLongName(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	if code, _ := b.do("POST", "/login/"+strings.Repeat("a", 65), nil); code != http.StatusBadRequest {
		t.Fatalf("POST /login with a 65-byte name: %d, want 400", code)
	}
	if got := b.cookies(); len(got) != 0 {
		t.Fatalf("cookies after a rejected login: %v", got)
	}
}

// TestTamperedCookie checks that a cookie that does not open is no session
// (401 behind RequireFunc), not an error.
func TestTamperedCookie(t *testing.T) {
	b := newBrowser(t, newTestServer(t))
	b.do("POST", "/login/alice", nil)
	cookies := b.cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies after login: %v", cookies)
	}
	c := cookies[0]
	v := []byte(c.Value)
	v[len(v)/2] ^= 1 // a character changed: the cookie no longer opens (malformed or invalid)
	req, _ := http.NewRequest("GET", b.srv.URL+"/me", nil)
	req.AddCookie(&http.Cookie{Name: c.Name, Value: string(v)})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /me with a tampered cookie: %d, want 401", resp.StatusCode)
	}
}

// TestStreaming checks that behind chi the cookie goes out with a flushed
// response's headers, while the handler is still running, and that it
// carries the session the handler set.
func TestStreaming(t *testing.T) {
	sessions := testSessions(t)
	r := newRouter(sessions)
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	// r.Use(sessions.Handler) in newRouter wraps routes added later too.
	r.Get("/stream", func(w http.ResponseWriter, r *http.Request) {
		sessions.Put(r.Context(), Session{User: "streamer"})
		io.WriteString(w, "first\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		<-release
		io.WriteString(w, "second\n")
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	defer free() // before srv.Close, which waits for the handler
	b := newBrowser(t, srv)

	resp, err := b.client.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "first\n" {
		t.Fatalf("first line: %q, %v", line, err)
	}
	// The handler is blocked until release: the cookie came with the flush.
	if got := b.cookies(); len(got) != 1 {
		t.Fatalf("cookies of the streamed response before it ended: %v (Set-Cookie %q)", got, resp.Header.Values("Set-Cookie"))
	}
	free()
	if rest, err := io.ReadAll(br); err != nil || string(rest) != "second\n" {
		t.Fatalf("rest of the stream: %q, %v", rest, err)
	}
	if got, want := b.session(), (Session{User: "streamer"}); !reflect.DeepEqual(got, want) {
		t.Fatalf("session from the streamed cookie: %+v, want %+v", got, want)
	}
}
