package sealedgin_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/sealedcookie/sealed"
	sealedgin "github.com/sealedcookie/sealed/adapters/gin"
	"github.com/sealedcookie/sealed/sealedtest"
)

type session struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func init() { gin.SetMode(gin.TestMode) }

func newManager(t *testing.T) *sealed.Manager[session] {
	t.Helper()
	return sealedtest.NewManager(t, sealed.JSON[session](), sealed.Options{})
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

func TestSessionLifecycle(t *testing.T) {
	c := sealedtest.NewClient(t, newEngine(newManager(t), nil))

	if resp, _ := c.Do("GET", "/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /me without a session: %d, want 401", resp.StatusCode)
	}
	if resp, _ := c.Do("POST", "/login/alice"); resp.StatusCode != http.StatusNoContent || len(c.Cookies()) != 1 {
		t.Fatalf("POST /login/alice: %d, cookies %v", resp.StatusCode, c.Cookies()) // create
	}
	if resp, body := c.Do("GET", "/me"); resp.StatusCode != http.StatusOK || body != `{"name":"alice","count":0}` {
		t.Fatalf("GET /me: %d %s", resp.StatusCode, body) // read
	}
	c.Do("POST", "/count") // update
	if resp, body := c.Do("POST", "/count"); resp.StatusCode != http.StatusCreated || body != "alice 2" {
		t.Fatalf("POST /count: %d %q, want 201 \"alice 2\"", resp.StatusCode, body)
	}
	if _, body := c.Do("GET", "/me"); body != `{"name":"alice","count":2}` {
		t.Fatalf("GET /me after two counts: %s", body)
	}
	if resp, _ := c.Do("POST", "/logout"); resp.StatusCode != http.StatusOK || len(c.Cookies()) != 0 {
		t.Fatalf("POST /logout: %d, cookies left %v", resp.StatusCode, c.Cookies()) // destroy
	}
	if resp, _ := c.Do("GET", "/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /me after logout: %d, want 401", resp.StatusCode)
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
	c := sealedtest.NewServerClient(t, srv)
	c.SetCookie(cookies[0])
	if resp, body := c.Do("GET", "/me"); body != `{"name":"streamer","count":0}` {
		t.Fatalf("GET /me with the streamed cookie: %d %s", resp.StatusCode, body)
	}
}

func TestRequireWithoutMiddleware(t *testing.T) {
	m := newManager(t)
	r := gin.New()
	r.GET("/", sealedgin.Require(m), func(c *gin.Context) { c.String(http.StatusOK, "in") })
	if resp, _ := sealedtest.NewClient(t, r).Do("GET", "/"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
}
