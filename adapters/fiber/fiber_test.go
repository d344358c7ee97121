package sealedfiber_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/sealedcookie/sealed"
	sealedfiber "github.com/sealedcookie/sealed/adapters/fiber"
)

type session struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
	Big   string `json:"big,omitempty"`
}

// errorLog records what the Manager reports to OnError.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorLog) add(_ context.Context, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *errorLog) has(target error) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, err := range l.errs {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func newApp(t *testing.T) (*fiber.App, *errorLog) {
	t.Helper()
	key, err := sealed.GenerateKey("test")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := sealed.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	errs := &errorLog{}
	m, err := sealed.New(ring, sealed.JSON[session](), sealed.Options{OnError: errs.add})
	if err != nil {
		t.Fatal(err)
	}
	// A session of several cookies needs a larger request buffer than
	// fasthttp's default 4 KB, which counts all the request's headers.
	app := fiber.New(fiber.Config{ReadBufferSize: 20 << 10})
	app.Use(sealedfiber.Middleware(m))
	app.Post("/login/:name", func(c fiber.Ctx) error {
		m.Put(c.Context(), session{Name: c.Params("name")})
		m.Renew(c.Context())
		return c.SendStatus(fiber.StatusNoContent)
	})
	require := sealedfiber.Require(m)
	app.Get("/me", require, func(c fiber.Ctx) error {
		s, _ := m.Get(c.Context())
		return c.JSON(s)
	})
	app.Post("/count", require, func(c fiber.Ctx) error {
		m.Update(c.Context(), func(s *session) { s.Count++ })
		s, _ := m.Get(c.Context())
		return c.SendString(s.Name + " " + strconv.Itoa(s.Count))
	})
	app.Post("/big/:n", require, func(c fiber.Ctx) error {
		n, err := strconv.Atoi(c.Params("n"))
		if err != nil {
			return fiber.ErrBadRequest
		}
		m.Update(c.Context(), func(s *session) { s.Big = strings.Repeat("b", n) })
		return c.SendString("stored")
	})
	app.Post("/logout", func(c fiber.Ctx) error {
		m.Destroy(c.Context())
		return c.SendString("bye")
	})
	app.Get("/stream", func(c fiber.Ctx) error {
		m.Update(c.Context(), func(s *session) { s.Name = "streamer" })
		ctx := c.Context()
		return c.SendStreamWriter(func(w *bufio.Writer) {
			for i := 1; i <= 3; i++ {
				w.WriteString("line " + strconv.Itoa(i) + "\n")
				if err := w.Flush(); err != nil {
					return
				}
			}
			// Too late: the headers have been sent.
			m.Update(ctx, func(s *session) { s.Name = "late" })
		})
	})
	return app, errs
}

// client sends requests through app.Test, carrying cookies like a browser.
type client struct {
	t       *testing.T
	app     *fiber.App
	cookies map[string]string
}

func (c *client) do(method, path string) (*http.Response, string) {
	c.t.Helper()
	req := httptest.NewRequest(method, path, nil)
	var pairs []string
	for name, value := range c.cookies {
		pairs = append(pairs, name+"="+value)
	}
	sort.Strings(pairs)
	if len(pairs) > 0 {
		req.Header.Set("Cookie", strings.Join(pairs, "; "))
	}
	resp, err := c.app.Test(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, ck := range resp.Cookies() {
		if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
			c.t.Fatalf("%s %s: cookie attributes: %q", method, path, resp.Header.Values("Set-Cookie"))
		}
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return resp, string(body)
}

func TestSessionLifecycle(t *testing.T) {
	app, _ := newApp(t)
	c := &client{t: t, app: app, cookies: map[string]string{}}

	if resp, _ := c.do("GET", "/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /me without a session: %d, want 401", resp.StatusCode)
	}
	resp, _ := c.do("POST", "/login/alice") // create
	if resp.StatusCode != http.StatusNoContent || len(c.cookies) != 1 {
		t.Fatalf("POST /login/alice: %d, cookies %v", resp.StatusCode, c.cookies)
	}
	if resp.Header.Get("Vary") != "Cookie" || resp.Header.Get("Cache-Control") != `no-cache="Set-Cookie"` {
		t.Fatalf("headers of a response that sets the cookie: %v", resp.Header)
	}
	if resp, body := c.do("GET", "/me"); resp.StatusCode != http.StatusOK || body != `{"name":"alice","count":0}` {
		t.Fatalf("GET /me: %d %s", resp.StatusCode, body) // read
	} else if len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("a read set cookies: %q", resp.Header.Values("Set-Cookie"))
	}
	c.do("POST", "/count") // update
	if resp, body := c.do("POST", "/count"); resp.StatusCode != http.StatusOK || body != "alice 2" {
		t.Fatalf("POST /count: %d %q, want 200 \"alice 2\"", resp.StatusCode, body)
	}
	if resp, _ := c.do("POST", "/logout"); resp.StatusCode != http.StatusOK || len(c.cookies) != 0 {
		t.Fatalf("POST /logout: %d, cookies left %v", resp.StatusCode, c.cookies) // destroy
	}
	if resp, _ := c.do("GET", "/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /me after logout: %d, want 401", resp.StatusCode)
	}
}

// TestChunked stores a session that needs several cookies, which fasthttp
// parses separately and the middleware joins again, then shrinks it.
func TestChunked(t *testing.T) {
	app, _ := newApp(t)
	c := &client{t: t, app: app, cookies: map[string]string{}}
	c.do("POST", "/login/alice")
	if resp, _ := c.do("POST", "/big/7000"); resp.StatusCode != http.StatusOK || len(c.cookies) < 2 {
		t.Fatalf("POST /big/7000: %d, cookies %d", resp.StatusCode, len(c.cookies))
	}
	if _, body := c.do("POST", "/count"); body != "alice 1" {
		t.Fatalf("POST /count with a chunked session: %q", body)
	}
	// The session shrinks back to one cookie; the chunks are expired.
	c.do("POST", "/big/10")
	if _, ok := c.cookies["session"]; !ok || len(c.cookies) != 1 {
		t.Fatalf("cookies after shrinking: %v", c.cookies)
	}
	if _, body := c.do("GET", "/me"); !strings.Contains(body, `"count":1,"big":"bbbbbbbbbb"`) {
		t.Fatalf("GET /me after shrinking: %s", body)
	}
	// Over the budget: the error handler answers and the cookies stay.
	before := len(c.cookies["session"])
	if resp, _ := c.do("POST", "/big/20000"); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("POST /big/20000: %d, want 500", resp.StatusCode)
	}
	if len(c.cookies) != 1 || len(c.cookies["session"]) != before {
		t.Fatalf("cookies after a session too large to save: %d", len(c.cookies))
	}
}

// TestStreaming checks that a streamed body goes out with the cookie, and
// that a change made while streaming is reported as too late.
func TestStreaming(t *testing.T) {
	app, errs := newApp(t)
	c := &client{t: t, app: app, cookies: map[string]string{}}
	resp, body := c.do("GET", "/stream")
	if resp.StatusCode != http.StatusOK || body != "line 1\nline 2\nline 3\n" {
		t.Fatalf("GET /stream: %d %q", resp.StatusCode, body)
	}
	if len(c.cookies) != 1 {
		t.Fatalf("the streamed response set no session cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	if _, body := c.do("GET", "/me"); body != `{"name":"streamer","count":0}` {
		t.Fatalf("GET /me after the stream: %s", body)
	}
	if !errs.has(sealed.ErrHeadersWritten) {
		t.Fatal("the change made while streaming was not reported as ErrHeadersWritten")
	}
}
