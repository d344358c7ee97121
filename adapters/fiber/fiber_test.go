package sealedfiber_test

import (
	"bufio"
	"errors"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/sealedcookie/sealed"
	sealedfiber "github.com/sealedcookie/sealed/adapters/fiber"
	"github.com/sealedcookie/sealed/sealedtest"
)

type session struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
	Big   string `json:"big,omitempty"`
}

func newManager(t *testing.T, opts sealed.Options) *sealed.Manager[session] {
	t.Helper()
	return sealedtest.NewManager(t, sealed.JSON[session](), opts)
}

// serve serves app through app.Test, for a sealedtest.Client, and checks
// the attributes of every cookie the app sets.
func serve(t *testing.T, app *fiber.App) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := app.Test(r)
		if err != nil {
			t.Errorf("%s %s: %v", r.Method, r.URL, err)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for _, ck := range resp.Cookies() {
			if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
				t.Errorf("%s %s: cookie attributes: %q", r.Method, r.URL, resp.Header.Values("Set-Cookie"))
			}
		}
		maps.Copy(w.Header(), resp.Header)
		w.WriteHeader(resp.StatusCode)
		if _, err := io.Copy(w, resp.Body); err != nil {
			t.Errorf("%s %s: %v", r.Method, r.URL, err)
		}
	})
}

// newApp returns the application, in a Client, and what its Manager
// reported to OnError.
func newApp(t *testing.T) (*sealedtest.Client, *sealedtest.ErrorLog) {
	t.Helper()
	errs := &sealedtest.ErrorLog{}
	m := newManager(t, sealed.Options{OnError: errs.OnError})
	// A session of several cookies needs a larger request buffer than
	// fasthttp's default 4 KB, which counts all the request's headers.
	app := fiber.New(fiber.Config{ReadBufferSize: 20 << 10})
	// Around the session middleware: "saved" is closed once the session's
	// cookies are in the response header. /stream's writer waits for it,
	// as fasthttp runs a stream writer concurrently with the handlers.
	app.Use(func(c fiber.Ctx) error {
		saved := make(chan struct{})
		c.Locals("saved", saved)
		defer close(saved)
		return c.Next()
	})
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
		ctx, saved := c.Context(), c.Locals("saved").(chan struct{})
		return c.SendStreamWriter(func(w *bufio.Writer) {
			for i := 1; i <= 3; i++ {
				w.WriteString("line " + strconv.Itoa(i) + "\n")
				if err := w.Flush(); err != nil {
					return
				}
			}
			// Too late: the headers have been sent.
			<-saved
			m.Update(ctx, func(s *session) { s.Name = "late" })
		})
	})
	return sealedtest.NewClient(t, serve(t, app)), errs
}

func TestSessionLifecycle(t *testing.T) {
	c, _ := newApp(t)
	if resp, _ := c.Do("GET", "/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /me without a session: %d, want 401", resp.StatusCode)
	}
	resp, _ := c.Do("POST", "/login/alice") // create
	if resp.StatusCode != http.StatusNoContent || len(c.Cookies()) != 1 {
		t.Fatalf("POST /login/alice: %d, cookies %v", resp.StatusCode, c.Cookies())
	}
	if resp.Header.Get("Vary") != "Cookie" || resp.Header.Get("Cache-Control") != `no-cache="Set-Cookie"` {
		t.Fatalf("headers of a response that sets the cookie: %v", resp.Header)
	}
	if resp, body := c.Do("GET", "/me"); resp.StatusCode != http.StatusOK || body != `{"name":"alice","count":0}` {
		t.Fatalf("GET /me: %d %s", resp.StatusCode, body) // read
	} else if len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("a read set cookies: %q", resp.Header.Values("Set-Cookie"))
	}
	c.Do("POST", "/count") // update
	if resp, body := c.Do("POST", "/count"); resp.StatusCode != http.StatusOK || body != "alice 2" {
		t.Fatalf("POST /count: %d %q, want 200 \"alice 2\"", resp.StatusCode, body)
	}
	if resp, _ := c.Do("POST", "/logout"); resp.StatusCode != http.StatusOK || len(c.Cookies()) != 0 {
		t.Fatalf("POST /logout: %d, cookies left %v", resp.StatusCode, c.Cookies()) // destroy
	}
	if resp, _ := c.Do("GET", "/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /me after logout: %d, want 401", resp.StatusCode)
	}
}

// TestChunked stores a session that needs several cookies, which fasthttp
// parses separately and the middleware joins again, then shrinks it.
func TestChunked(t *testing.T) {
	c, _ := newApp(t)
	c.Do("POST", "/login/alice")
	if resp, _ := c.Do("POST", "/big/7000"); resp.StatusCode != http.StatusOK || len(c.Cookies()) < 2 {
		t.Fatalf("POST /big/7000: %d, cookies %d", resp.StatusCode, len(c.Cookies()))
	}
	if _, body := c.Do("POST", "/count"); body != "alice 1" {
		t.Fatalf("POST /count with a chunked session: %q", body)
	}
	// The session shrinks back to one cookie; the chunks are expired.
	c.Do("POST", "/big/10")
	if cookies := c.Cookies(); cookies["session"] == "" || len(cookies) != 1 {
		t.Fatalf("cookies after shrinking: %v", cookies)
	}
	if _, body := c.Do("GET", "/me"); !strings.Contains(body, `"count":1,"big":"bbbbbbbbbb"`) {
		t.Fatalf("GET /me after shrinking: %s", body)
	}
	// Over the budget: the error handler answers and the cookies stay.
	before := c.Cookies()["session"]
	if resp, _ := c.Do("POST", "/big/20000"); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("POST /big/20000: %d, want 500", resp.StatusCode)
	}
	if cookies := c.Cookies(); len(cookies) != 1 || cookies["session"] != before {
		t.Fatalf("cookies after a session too large to save: %d", len(cookies))
	}
}

// TestStreaming checks that a streamed body goes out with the cookie, and
// that a change made while streaming is reported as too late.
func TestStreaming(t *testing.T) {
	c, errs := newApp(t)
	resp, body := c.Do("GET", "/stream")
	if resp.StatusCode != http.StatusOK || body != "line 1\nline 2\nline 3\n" {
		t.Fatalf("GET /stream: %d %q", resp.StatusCode, body)
	}
	if len(c.Cookies()) != 1 {
		t.Fatalf("the streamed response set no session cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	if _, body := c.Do("GET", "/me"); body != `{"name":"streamer","count":0}` {
		t.Fatalf("GET /me after the stream: %s", body)
	}
	if !errors.Is(errors.Join(errs.Take()...), sealed.ErrHeadersWritten) {
		t.Fatal("the change made while streaming was not reported as ErrHeadersWritten")
	}
}
