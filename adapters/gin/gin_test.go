package sealedgin_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/sealedcookie/sealed"
	sealedgin "github.com/sealedcookie/sealed/adapters/gin"
)

type session struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func init() { gin.SetMode(gin.TestMode) }

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

// newEngine is the application. streamed, if not nil, holds /stream after
// its first flushed line until it is closed.
func newEngine(m *sealed.Manager[session], streamed chan struct{}) *gin.Engine {
	r := gin.New()
	r.Use(sealedgin.Middleware(m))
	r.POST("/login/:name", func(c *gin.Context) {
		m.Put(c.Request.Context(), session{Name: c.Param("name")})
		m.Renew(c.Request.Context())
		c.Status(http.StatusNoContent) // no body: the cookie goes out at the end of the chain
	})
	auth := r.Group("/", sealedgin.Require(m))
	auth.GET("/me", func(c *gin.Context) {
		s, _ := m.Get(c.Request.Context())
		c.JSON(http.StatusOK, s)
	})
	auth.POST("/count", func(c *gin.Context) {
		c.Status(http.StatusCreated) // Gin only records the status here...
		m.Update(c.Request.Context(), func(s *session) { s.Count++ })
		s, _ := m.Get(c.Request.Context())
		c.String(http.StatusCreated, "%s %d", s.Name, s.Count) // ...and writes it with the cookie here
	})
	r.POST("/logout", func(c *gin.Context) {
		m.Destroy(c.Request.Context())
		c.String(http.StatusOK, "bye")
	})
	r.GET("/stream", func(c *gin.Context) {
		m.Update(c.Request.Context(), func(s *session) { s.Name = "streamer" })
		step := 0
		c.Stream(func(w io.Writer) bool {
			step++
			if step == 2 {
				<-streamed
			}
			io.WriteString(w, "line "+strconv.Itoa(step)+"\n")
			return step < 2
		})
	})
	return r
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
	return resp.StatusCode, string(b)
}

func (c *client) cookies() []*http.Cookie {
	u, _ := url.Parse(c.base)
	return c.http.Jar.Cookies(u)
}

func TestSessionLifecycle(t *testing.T) {
	srv := httptest.NewServer(newEngine(newManager(t), nil))
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
	if code, body := c.do("POST", "/count"); code != http.StatusCreated || body != "alice 2" {
		t.Fatalf("POST /count: %d %q, want 201 \"alice 2\"", code, body)
	}
	if _, body := c.do("GET", "/me"); body != `{"name":"alice","count":2}` {
		t.Fatalf("GET /me after two counts: %s", body)
	}
	if code, _ := c.do("POST", "/logout"); code != http.StatusOK || len(c.cookies()) != 0 {
		t.Fatalf("POST /logout: %d, cookies left %v", code, c.cookies()) // destroy
	}
	if code, _ := c.do("GET", "/me"); code != http.StatusUnauthorized {
		t.Fatalf("GET /me after logout: %d, want 401", code)
	}
}

// TestStreaming checks that c.Stream's first flush carries the cookie,
// before the handler has finished.
func TestStreaming(t *testing.T) {
	streamed := make(chan struct{})
	srv := httptest.NewServer(newEngine(newManager(t), streamed))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "line 1\n" {
		t.Fatalf("first line: %q, %v", line, err)
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
	if b, _ := io.ReadAll(resp2.Body); string(b) != `{"name":"streamer","count":0}` {
		t.Fatalf("GET /me with the streamed cookie: %d %s", resp2.StatusCode, b)
	}
}

func TestRequireWithoutMiddleware(t *testing.T) {
	m := newManager(t)
	r := gin.New()
	r.GET("/", sealedgin.Require(m), func(c *gin.Context) { c.String(http.StatusOK, "in") })
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", rec.Code)
	}
}
