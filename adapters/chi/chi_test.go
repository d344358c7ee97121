package sealedchi_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/sealedcookie/sealed"
	sealedchi "github.com/sealedcookie/sealed/adapters/chi"
)

type session struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func newManager(t *testing.T) *sealed.Manager[session] {
	t.Helper()
	key, err := sealed.GenerateKey("test")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := sealed.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sealed.New(ring, sealed.JSON[session](), sealed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newRouter is the application: r.Use(m.Handler) and m.Require on a route
// and on a group.
func newRouter(m *sealed.Manager[session], streamed chan struct{}) http.Handler {
	r := chi.NewRouter()
	r.Use(m.Handler)
	r.Post("/login/{name}", func(w http.ResponseWriter, r *http.Request) {
		m.Put(r.Context(), session{Name: chi.URLParam(r, "name")})
		m.Renew(r.Context())
	})
	r.With(m.Require).Get("/me", func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Get(r.Context())
		io.WriteString(w, s.Name)
	})
	r.Group(func(r chi.Router) {
		r.Use(sealedchi.Require(m))
		r.Post("/count", func(w http.ResponseWriter, r *http.Request) {
			m.Update(r.Context(), func(s *session) { s.Count++ })
			s, _ := m.Get(r.Context())
			io.WriteString(w, s.Name+" "+strconv.Itoa(s.Count))
		})
	})
	r.Post("/logout", func(w http.ResponseWriter, r *http.Request) {
		m.Destroy(r.Context())
	})
	// /stream changes the session, flushes the first line and waits for
	// the client to have read it before it ends the response.
	r.Get("/stream", func(w http.ResponseWriter, r *http.Request) {
		m.Update(r.Context(), func(s *session) { s.Name = "streamer" })
		io.WriteString(w, "first\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		<-streamed
		io.WriteString(w, "second\n")
	})
	return r
}

func do(t *testing.T, c *http.Client, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestSessionLifecycle(t *testing.T) {
	m := newManager(t)
	srv := httptest.NewServer(newRouter(m, nil))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}

	if code, _ := do(t, c, "GET", srv.URL+"/me"); code != http.StatusUnauthorized {
		t.Fatalf("GET /me without a session: %d, want 401", code)
	}
	if code, _ := do(t, c, "POST", srv.URL+"/count"); code != http.StatusUnauthorized {
		t.Fatalf("POST /count without a session: %d, want 401", code)
	}
	do(t, c, "POST", srv.URL+"/login/alice") // create
	if code, body := do(t, c, "GET", srv.URL+"/me"); code != http.StatusOK || body != "alice" {
		t.Fatalf("GET /me: %d %q, want 200 alice", code, body) // read
	}
	do(t, c, "POST", srv.URL+"/count") // update
	if code, body := do(t, c, "POST", srv.URL+"/count"); code != http.StatusOK || body != "alice 2" {
		t.Fatalf("POST /count: %d %q, want 200 \"alice 2\"", code, body)
	}
	do(t, c, "POST", srv.URL+"/logout") // destroy
	if code, _ := do(t, c, "GET", srv.URL+"/me"); code != http.StatusUnauthorized {
		t.Fatalf("GET /me after logout: %d, want 401", code)
	}
	if got := jar.Cookies(mustURL(t, srv.URL)); len(got) != 0 {
		t.Fatalf("cookies left after logout: %v", got)
	}
}

// TestStreaming checks that the cookie goes out with a flushed response's
// headers, before the handler has finished.
func TestStreaming(t *testing.T) {
	m := newManager(t)
	streamed := make(chan struct{})
	srv := httptest.NewServer(newRouter(m, streamed))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first line: %q, %v", line, err)
	}
	// The handler is still blocked: the headers came with the flush.
	cookies := resp.Cookies()
	if len(cookies) != 1 || cookies[0].Name != "session" {
		t.Fatalf("Set-Cookie of the streamed response: %q", resp.Header.Values("Set-Cookie"))
	}
	close(streamed)
	rest, _ := io.ReadAll(br)
	if string(rest) != "second\n" {
		t.Fatalf("rest of the stream: %q", rest)
	}
	// The cookie carries the session.
	req, _ := http.NewRequest("GET", srv.URL+"/me", nil)
	req.AddCookie(cookies[0])
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusOK || string(body) != "streamer" {
		t.Fatalf("GET /me with the streamed cookie: %d %q", resp2.StatusCode, body)
	}
}

func TestMiddlewareIsHandler(t *testing.T) {
	m := newManager(t)
	r := chi.NewRouter()
	r.Use(sealedchi.Middleware(m))
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		m.Put(r.Context(), session{Name: "x"}) // panics without the middleware
	})
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusOK || len(rec.Result().Cookies()) != 1 {
		t.Fatalf("status %d, Set-Cookie %q", rec.Code, rec.Header().Values("Set-Cookie"))
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
