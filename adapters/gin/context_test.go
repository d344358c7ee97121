package sealedgin_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	sealedgin "github.com/sealedcookie/sealed/adapters/gin"
	"github.com/sealedcookie/sealed/sealedtest"
)

// panicText runs f and returns what it panicked with, or "" if it returned.
func panicText(f func()) (msg string) {
	defer func() {
		if v := recover(); v != nil {
			msg = fmt.Sprint(v)
		}
	}()
	f()
	return ""
}

// TestGinContextTrap shows the trap of the bug report: with Gin's default
// ContextWithFallback (false), *gin.Context satisfies context.Context but
// its Value does not reach c.Request.Context(), where the middleware put
// the session. m.Get(c) compiles and finds nothing, m.Put(c, v) panics;
// the helpers, on the same request, find the session.
func TestGinContextTrap(t *testing.T) {
	m := newManager(t)
	r := gin.New()
	if r.ContextWithFallback {
		t.Fatal("Gin's default ContextWithFallback is true; the trap is gone")
	}
	r.Use(sealedgin.Middleware(m))
	r.POST("/login", func(c *gin.Context) { sealedgin.Put(c, m, session{Name: "alice"}) })
	var direct, helper, request bool
	var putPanic string
	r.GET("/", func(c *gin.Context) {
		_, direct = m.Get(c)
		putPanic = panicText(func() { m.Put(c, session{Name: "mallory"}) })
		_, request = m.Get(c.Request.Context())
		var s session
		s, helper = sealedgin.Get(c, m)
		c.String(http.StatusOK, s.Name)
	})
	cl := sealedtest.NewClient(t, r)
	cl.Do("POST", "/login")
	resp, body := cl.Do("GET", "/")
	if direct {
		t.Error("m.Get(c) found the session without ContextWithFallback")
	}
	if putPanic == "" {
		t.Error("m.Put(c, v) did not panic without ContextWithFallback")
	}
	t.Logf("m.Put(c, v) panics with: %s", putPanic)
	if !request || !helper || body != "alice" {
		t.Errorf("m.Get(c.Request.Context()) %v, sealedgin.Get %v, body %q", request, helper, body)
	}
	if sc := resp.Header.Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("a read set cookies: %q", sc)
	}
}

// TestGinContextWithFallback checks that with Engine.ContextWithFallback
// the *gin.Context itself reaches the session: reads, and writes that end
// up in Set-Cookie.
func TestGinContextWithFallback(t *testing.T) {
	m := newManager(t)
	r := gin.New()
	r.ContextWithFallback = true
	r.Use(sealedgin.Middleware(m))
	r.POST("/login", func(c *gin.Context) { m.Put(c, session{Name: "alice"}) })
	r.POST("/rename", func(c *gin.Context) {
		s, ok := m.Get(c)
		if !ok {
			c.String(http.StatusUnauthorized, "no session")
			return
		}
		m.Put(c, session{Name: s.Name + "2", Count: s.Count})
		m.Update(c, func(s *session) { s.Count++ })
		c.String(http.StatusOK, s.Name)
	})
	r.GET("/me", func(c *gin.Context) {
		s, _ := m.Get(c)
		c.JSON(http.StatusOK, s)
	})
	cl := sealedtest.NewClient(t, r)
	if resp, _ := cl.Do("POST", "/login"); len(resp.Cookies()) != 1 {
		t.Fatalf("POST /login with m.Put(c): Set-Cookie %q", resp.Header.Values("Set-Cookie"))
	}
	if resp, body := cl.Do("POST", "/rename"); resp.StatusCode != http.StatusOK || body != "alice" {
		t.Fatalf("POST /rename with ContextWithFallback: %d %q", resp.StatusCode, body)
	}
	if _, body := cl.Do("GET", "/me"); body != `{"name":"alice2","count":1}` {
		t.Fatalf("session after m.Put(c) and m.Update(c): %s", body)
	}
}

// TestHelpers uses every helper, with Gin's default ContextWithFallback
// (false), and checks that the changes reach Set-Cookie.
func TestHelpers(t *testing.T) {
	m := newManager(t)
	r := gin.New()
	r.Use(sealedgin.Middleware(m))
	r.POST("/login/:name", func(c *gin.Context) {
		sealedgin.Put(c, m, session{Name: c.Param("name")})
		sealedgin.Renew(c, m)
		sealedgin.Flash(c, m, "welcome")
		c.Status(http.StatusNoContent)
	})
	r.POST("/count", func(c *gin.Context) {
		sealedgin.Update(c, m, func(s *session) { s.Count++ })
		c.String(http.StatusOK, "counted")
	})
	r.GET("/me", func(c *gin.Context) {
		s, ok := sealedgin.Get(c, m)
		info, iok := sealedgin.Info(c, m)
		if ok != iok || (ok && info.Deadline.IsZero()) {
			c.String(http.StatusInternalServerError, "Get %v, Info %v %+v", ok, iok, info)
			return
		}
		c.String(http.StatusOK, "%v %s %d %q", ok, s.Name, s.Count, sealedgin.Flashes(c, m))
	})
	r.POST("/logout", func(c *gin.Context) {
		sealedgin.Destroy(c, m)
		c.String(http.StatusOK, "bye")
	})

	cl := sealedtest.NewClient(t, r)
	if resp, _ := cl.Do("POST", "/login/alice"); resp.StatusCode != http.StatusNoContent || len(resp.Cookies()) != 1 {
		t.Fatalf("POST /login/alice: %d, Set-Cookie %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	if resp, _ := cl.Do("POST", "/count"); resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 1 {
		t.Fatalf("POST /count: %d, Set-Cookie %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	if resp, body := cl.Do("GET", "/me"); body != `true alice 1 ["welcome"]` || len(resp.Cookies()) != 1 {
		t.Fatalf("GET /me: %d %s, Set-Cookie %q (the flash was read: a new cookie without it)", resp.StatusCode, body, resp.Header.Values("Set-Cookie"))
	}
	if _, body := cl.Do("GET", "/me"); body != `true alice 1 []` {
		t.Fatalf("GET /me after reading the flash: %s", body)
	}
	if resp, _ := cl.Do("POST", "/logout"); len(resp.Cookies()) != 1 || resp.Cookies()[0].MaxAge >= 0 {
		t.Fatalf("POST /logout: Set-Cookie %q", resp.Header.Values("Set-Cookie"))
	}
	if _, body := cl.Do("GET", "/me"); body != `false  0 []` {
		t.Fatalf("GET /me without a session: %s", body)
	}
}

// Without the middleware (a route registered before r.Use), the helpers'
// reads report no session and their writes panic with the Manager's
// message, which names the cause: the handler is not wrapped, or the
// context passed is not the request's.
func TestHelpersWithoutMiddleware(t *testing.T) {
	m := newManager(t)
	r := gin.New()
	var got string
	r.GET("/early", func(c *gin.Context) {
		if _, ok := sealedgin.Get(c, m); ok {
			got = "a session"
			return
		}
		got = panicText(func() { sealedgin.Put(c, m, session{}) })
	})
	r.Use(sealedgin.Middleware(m)) // too late for /early
	sealedtest.NewClient(t, r).Do("GET", "/early")
	for _, want := range []string{"Manager.Put", "Manager.Handler", "c.Request.Context()"} {
		if !strings.Contains(got, want) {
			t.Errorf("panic %q does not mention %q", got, want)
		}
	}
}

// TestHelpersInCopy checks that the helpers work with c.Copy(), which a
// handler hands to a goroutine: the copy keeps the request and its session.
func TestHelpersInCopy(t *testing.T) {
	m := newManager(t)
	r := gin.New()
	r.Use(sealedgin.Middleware(m))
	r.POST("/login", func(c *gin.Context) { sealedgin.Put(c, m, session{Name: "alice"}) })
	r.GET("/", func(c *gin.Context) {
		cp := c.Copy()
		done := make(chan string)
		go func() {
			s, _ := sealedgin.Get(cp, m)
			done <- s.Name
		}()
		c.String(http.StatusOK, <-done)
	})
	cl := sealedtest.NewClient(t, r)
	cl.Do("POST", "/login")
	if _, body := cl.Do("GET", "/"); body != "alice" {
		t.Fatalf("sealedgin.Get(c.Copy(), m): %q", body)
	}
}
