package sealedecho_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"
	"github.com/sealedcookie/sealed"
	sealedecho "github.com/sealedcookie/sealed/adapters/echo"
	"github.com/sealedcookie/sealed/sealedtest"
)

type session struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func newManager(t *testing.T) *sealed.Manager[session] {
	t.Helper()
	return sealedtest.NewManager(t, sealed.JSON[session](), sealed.Options{})
}

var errTeapot = echo.NewHTTPError(http.StatusTeapot, "no coffee")

// newEcho is the application. streamed, if not nil, holds /stream after its
// first flushed line until it is closed.
func newEcho(m *sealed.Manager[session], streamed chan struct{}) *echo.Echo {
	e := echo.New()
	e.Use(sealedecho.Middleware(m))
	e.POST("/login/:name", func(c *echo.Context) error {
		m.Put(c.Request().Context(), session{Name: c.Param("name")})
		m.Renew(c.Request().Context())
		return c.NoContent(http.StatusNoContent)
	})
	auth := e.Group("", sealedecho.Require(m))
	auth.GET("/me", func(c *echo.Context) error {
		s, _ := m.Get(c.Request().Context())
		return c.JSON(http.StatusOK, s)
	})
	auth.POST("/count", func(c *echo.Context) error {
		m.Update(c.Request().Context(), func(s *session) { s.Count++ })
		s, _ := m.Get(c.Request().Context())
		return c.String(http.StatusOK, s.Name+" "+strconv.Itoa(s.Count))
	})
	// /fail changes the session and returns an error for Echo's error
	// handler to answer.
	e.POST("/fail", func(c *echo.Context) error {
		m.Put(c.Request().Context(), session{Name: "failed"})
		return errTeapot
	})
	e.POST("/logout", func(c *echo.Context) error {
		m.Destroy(c.Request().Context())
		return c.String(http.StatusOK, "bye")
	})
	e.GET("/stream", func(c *echo.Context) error {
		if _, err := echo.UnwrapResponse(c.Response()); err != nil {
			return err // the session's writer hid echo's Response
		}
		m.Update(c.Request().Context(), func(s *session) { s.Name = "streamer" })
		w := c.Response()
		io.WriteString(w, "line 1\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			return err
		}
		<-streamed
		_, err := io.WriteString(w, "line 2\n")
		return err
	})
	return e
}

func TestSessionLifecycle(t *testing.T) {
	c := sealedtest.NewClient(t, newEcho(newManager(t), nil))

	if resp, _ := c.Do("GET", "/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /me without a session: %d, want 401", resp.StatusCode)
	}
	if resp, _ := c.Do("POST", "/login/alice"); resp.StatusCode != http.StatusNoContent || len(c.Cookies()) != 1 {
		t.Fatalf("POST /login/alice: %d, cookies %v", resp.StatusCode, c.Cookies()) // create
	}
	if resp, body := c.Do("GET", "/me"); resp.StatusCode != http.StatusOK || strings.TrimSpace(body) != `{"name":"alice","count":0}` {
		t.Fatalf("GET /me: %d %s", resp.StatusCode, body) // read
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

// TestHandlerError checks that a session changed by a handler that returns
// an error is saved with the error handler's response.
func TestHandlerError(t *testing.T) {
	c := sealedtest.NewClient(t, newEcho(newManager(t), nil))
	if resp, body := c.Do("POST", "/fail"); resp.StatusCode != http.StatusTeapot || !strings.Contains(body, "no coffee") {
		t.Fatalf("POST /fail: %d %s", resp.StatusCode, body)
	}
	if _, body := c.Do("GET", "/me"); strings.TrimSpace(body) != `{"name":"failed","count":0}` {
		t.Fatalf("GET /me after /fail: %s", body)
	}
}

// TestStreaming checks that the cookie goes out with the first flush,
// before the handler has finished.
func TestStreaming(t *testing.T) {
	streamed := make(chan struct{})
	srv := httptest.NewServer(newEcho(newManager(t), streamed))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "line 1\n" {
		t.Fatalf("first line: %q, %v (status %d)", line, err, resp.StatusCode)
	}
	cookies := resp.Cookies() // the handler is still waiting on streamed
	if len(cookies) != 1 || cookies[0].Name != "session" {
		t.Fatalf("Set-Cookie of the streamed response: %q", resp.Header.Values("Set-Cookie"))
	}
	close(streamed)
	if rest, _ := io.ReadAll(br); string(rest) != "line 2\n" {
		t.Fatalf("rest of the stream: %q", rest)
	}
	c := sealedtest.NewServerClient(t, srv)
	c.SetCookie(cookies[0])
	if resp, body := c.Do("GET", "/me"); strings.TrimSpace(body) != `{"name":"streamer","count":0}` {
		t.Fatalf("GET /me with the streamed cookie: %d %s", resp.StatusCode, body)
	}
}
