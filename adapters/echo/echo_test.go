package sealedecho_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"
	"github.com/sealedcookie/sealed"
	sealedecho "github.com/sealedcookie/sealed/adapters/echo"
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

type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t, base, &http.Client{Jar: jar}}
}

func (c *client) do(method, path string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func (c *client) cookies() []*http.Cookie {
	u, _ := url.Parse(c.base)
	return c.http.Jar.Cookies(u)
}

func TestSessionLifecycle(t *testing.T) {
	srv := httptest.NewServer(newEcho(newManager(t), nil))
	defer srv.Close()
	c := newClient(t, srv.URL)

	if code, _ := c.do("GET", "/me"); code != http.StatusUnauthorized {
		t.Fatalf("GET /me without a session: %d, want 401", code)
	}
	if code, _ := c.do("POST", "/login/alice"); code != http.StatusNoContent || len(c.cookies()) != 1 {
		t.Fatalf("POST /login/alice: %d, cookies %v", code, c.cookies()) // create
	}
	if code, body := c.do("GET", "/me"); code != http.StatusOK || body != `{"name":"alice","count":0}` {
		t.Fatalf("GET /me: %d %s", code, body) // read
	}
	c.do("POST", "/count") // update
	if code, body := c.do("POST", "/count"); code != http.StatusOK || body != "alice 2" {
		t.Fatalf("POST /count: %d %q, want 200 \"alice 2\"", code, body)
	}
	if code, _ := c.do("POST", "/logout"); code != http.StatusOK || len(c.cookies()) != 0 {
		t.Fatalf("POST /logout: %d, cookies left %v", code, c.cookies()) // destroy
	}
	if code, _ := c.do("GET", "/me"); code != http.StatusUnauthorized {
		t.Fatalf("GET /me after logout: %d, want 401", code)
	}
}

// TestHandlerError checks that a session changed by a handler that returns
// an error is saved with the error handler's response.
func TestHandlerError(t *testing.T) {
	srv := httptest.NewServer(newEcho(newManager(t), nil))
	defer srv.Close()
	c := newClient(t, srv.URL)
	if code, body := c.do("POST", "/fail"); code != http.StatusTeapot || !strings.Contains(body, "no coffee") {
		t.Fatalf("POST /fail: %d %s", code, body)
	}
	if _, body := c.do("GET", "/me"); body != `{"name":"failed","count":0}` {
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
	req, _ := http.NewRequest("GET", srv.URL+"/me", nil)
	req.AddCookie(cookies[0])
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	if b, _ := io.ReadAll(resp2.Body); strings.TrimSpace(string(b)) != `{"name":"streamer","count":0}` {
		t.Fatalf("GET /me with the streamed cookie: %d %s", resp2.StatusCode, b)
	}
}
