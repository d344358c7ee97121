package sealedgin_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/sealedcookie/sealed"
	sealedgin "github.com/sealedcookie/sealed/adapters/gin"
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

// serve sends one request to h, with the cookies given, and returns the
// recorded response.
func serve(h http.Handler, method, path string, cookies []*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// login returns the cookies of a fresh session named name.
func login(t *testing.T, m *sealed.Manager[session], name string) []*http.Cookie {
	t.Helper()
	r := gin.New()
	r.Use(sealedgin.Middleware(m))
	r.POST("/login", func(c *gin.Context) {
		sealedgin.Put(c, m, session{Name: name})
		c.Status(http.StatusNoContent)
	})
	cookies := serve(r, "POST", "/login", nil).Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("login set %d cookies", len(cookies))
	}
	return cookies
}

// TestGinContextTrap shows the trap of the bug report: with Gin's default
// ContextWithFallback (false), *gin.Context satisfies context.Context but
// its Value does not reach c.Request.Context(), where the middleware put
// the session. m.Get(c) compiles and finds nothing, m.Put(c, v) panics;
// the helpers, on the same request, find the session.
func TestGinContextTrap(t *testing.T) {
	m := newManager(t)
	cookies := login(t, m, "alice")

	r := gin.New()
	if r.ContextWithFallback {
		t.Fatal("Gin's default ContextWithFallback is true; the trap is gone")
	}
	r.Use(sealedgin.Middleware(m))
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
	rec := serve(r, "GET", "/", cookies)
	if direct {
		t.Error("m.Get(c) found the session without ContextWithFallback")
	}
	if putPanic == "" {
		t.Error("m.Put(c, v) did not panic without ContextWithFallback")
	}
	t.Logf("m.Put(c, v) panics with: %s", putPanic)
	if !request || !helper || rec.Body.String() != "alice" {
		t.Errorf("m.Get(c.Request.Context()) %v, sealedgin.Get %v, body %q", request, helper, rec.Body)
	}
	if sc := rec.Header().Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("a read set cookies: %q", sc)
	}
}

// TestGinContextWithFallback checks that with Engine.ContextWithFallback
// the *gin.Context itself reaches the session: reads, and writes that end
// up in Set-Cookie.
func TestGinContextWithFallback(t *testing.T) {
	m := newManager(t)
	cookies := login(t, m, "alice")

	r := gin.New()
	r.ContextWithFallback = true
	r.Use(sealedgin.Middleware(m))
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
	rec := serve(r, "POST", "/rename", cookies)
	if rec.Code != http.StatusOK || rec.Body.String() != "alice" {
		t.Fatalf("POST /rename with ContextWithFallback: %d %q", rec.Code, rec.Body)
	}
	if s := readSession(t, m, rec.Result().Cookies()); s != (session{Name: "alice2", Count: 1}) {
		t.Fatalf("session after m.Put(c) and m.Update(c): %+v", s)
	}
}

// readSession opens the session carried by cookies with m.
func readSession(t *testing.T, m *sealed.Manager[session], cookies []*http.Cookie) session {
	t.Helper()
	if len(cookies) == 0 {
		t.Fatal("no Set-Cookie")
	}
	req := httptest.NewRequest("GET", "/", nil)
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	s, ok := m.Get(m.Load(req))
	if !ok {
		t.Fatalf("cookies %v carry no session", cookies)
	}
	return s
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

	rec := serve(r, "POST", "/login/alice", nil)
	cookies := rec.Result().Cookies()
	if rec.Code != http.StatusNoContent || len(cookies) != 1 {
		t.Fatalf("POST /login/alice: %d, Set-Cookie %q", rec.Code, rec.Header().Values("Set-Cookie"))
	}
	rec = serve(r, "POST", "/count", cookies)
	if rec.Code != http.StatusOK || len(rec.Result().Cookies()) != 1 {
		t.Fatalf("POST /count: %d, Set-Cookie %q", rec.Code, rec.Header().Values("Set-Cookie"))
	}
	cookies = rec.Result().Cookies()
	if s := readSession(t, m, cookies); s != (session{Name: "alice", Count: 1}) {
		t.Fatalf("session after sealedgin.Update: %+v", s)
	}
	rec = serve(r, "GET", "/me", cookies)
	if body := rec.Body.String(); body != `true alice 1 ["welcome"]` {
		t.Fatalf("GET /me: %d %s", rec.Code, body)
	}
	cookies = rec.Result().Cookies() // the flash was read: a new cookie without it
	if body := serve(r, "GET", "/me", cookies).Body.String(); body != `true alice 1 []` {
		t.Fatalf("GET /me after reading the flash: %s", body)
	}
	rec = serve(r, "POST", "/logout", cookies)
	if cs := rec.Result().Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
		t.Fatalf("POST /logout: Set-Cookie %q", rec.Header().Values("Set-Cookie"))
	}
	if body := serve(r, "GET", "/me", nil).Body.String(); body != `false  0 []` {
		t.Fatalf("GET /me without a session: %s", body)
	}
}

// TestHelpersWithoutMiddleware checks that every helper panics, naming the
// cause and the fix, when the middleware did not run for the route: here
// because the route was registered before r.Use, or because the
// middleware installed is another Manager's.
func TestHelpersWithoutMiddleware(t *testing.T) {
	m, other := newManager(t), newManager(t)
	helpers := map[string]func(*gin.Context){
		"Get":     func(c *gin.Context) { sealedgin.Get(c, m) },
		"Info":    func(c *gin.Context) { sealedgin.Info(c, m) },
		"Flashes": func(c *gin.Context) { sealedgin.Flashes(c, m) },
		"Put":     func(c *gin.Context) { sealedgin.Put(c, m, session{}) },
		"Update":  func(c *gin.Context) { sealedgin.Update(c, m, func(*session) {}) },
		"Destroy": func(c *gin.Context) { sealedgin.Destroy(c, m) },
		"Renew":   func(c *gin.Context) { sealedgin.Renew(c, m) },
		"Flash":   func(c *gin.Context) { sealedgin.Flash(c, m, "hi") },
	}
	got := map[string]string{}
	record := func(c *gin.Context) {
		got[c.Request.URL.Path] = panicText(func() { helpers[c.Param("op")](c) })
	}
	late := gin.New()
	late.GET("/early/:op", record)    // registered before Use: no middleware
	late.Use(sealedgin.Middleware(m)) // the right Manager, too late
	wrong := gin.New()
	wrong.Use(sealedgin.Middleware(other))
	wrong.GET("/other/:op", record)
	r := http.NewServeMux()
	r.Handle("/early/", late)
	r.Handle("/other/", wrong)
	for op := range helpers {
		for _, path := range []string{"/early/" + op, "/other/" + op} {
			serve(r, "GET", path, nil)
			msg := got[path]
			for _, want := range []string{"sealedgin." + op + ":", "c.Request.Context()", "sealedgin.Middleware(m)", "r.Use"} {
				if !strings.Contains(msg, want) {
					t.Errorf("%s: panic %q does not mention %q", path, msg, want)
				}
			}
		}
	}
}

// TestHelpersInCopy checks that the helpers work with c.Copy(), which a
// handler hands to a goroutine: the copy keeps the request and its session.
func TestHelpersInCopy(t *testing.T) {
	m := newManager(t)
	cookies := login(t, m, "alice")
	r := gin.New()
	r.Use(sealedgin.Middleware(m))
	r.GET("/", func(c *gin.Context) {
		cp := c.Copy()
		done := make(chan string)
		go func() {
			s, _ := sealedgin.Get(cp, m)
			done <- s.Name
		}()
		c.String(http.StatusOK, <-done)
	})
	if body := serve(r, "GET", "/", cookies).Body.String(); body != "alice" {
		t.Fatalf("sealedgin.Get(c.Copy(), m): %q", body)
	}
}
