package sealedecho_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"
	sealedecho "github.com/sealedcookie/sealed/adapters/echo"
	"github.com/sealedcookie/sealed/sealedtest"
)

// TestEchoContextIsNotContext records why Echo has no m.Get(c) trap: in
// Echo v5, *echo.Context does not implement context.Context, so passing it
// to the Manager does not compile; the session is in c.Request().Context().
// If a later Echo adds the methods, this fails: check what its Value does
// and whether the middleware must answer it (as sealedfiber does).
func TestEchoContextIsNotContext(t *testing.T) {
	if reflect.TypeFor[*echo.Context]().Implements(reflect.TypeFor[context.Context]()) {
		t.Fatal("*echo.Context implements context.Context: m.Get(c) now compiles")
	}
}

// TestHelpers uses every helper and checks that the changes reach
// Set-Cookie, also when the handler returns an error.
func TestHelpers(t *testing.T) {
	m := newManager(t)
	e := echo.New()
	e.Use(sealedecho.Middleware(m))
	e.POST("/login/:name", func(c *echo.Context) error {
		sealedecho.Put(c, m, session{Name: c.Param("name")})
		sealedecho.Renew(c, m)
		sealedecho.Flash(c, m, "welcome")
		return c.NoContent(http.StatusNoContent)
	})
	e.POST("/count", func(c *echo.Context) error {
		sealedecho.Update(c, m, func(s *session) { s.Count++ })
		return errTeapot // the error handler's response carries the cookie
	})
	e.GET("/me", func(c *echo.Context) error {
		s, ok := sealedecho.Get(c, m)
		info, iok := sealedecho.Info(c, m)
		if ok != iok || (ok && info.Deadline.IsZero()) {
			return c.String(http.StatusInternalServerError, fmt.Sprintf("Get %v, Info %v %+v", ok, iok, info))
		}
		return c.String(http.StatusOK, fmt.Sprintf("%v %s %d %q", ok, s.Name, s.Count, sealedecho.Flashes(c, m)))
	})
	e.POST("/logout", func(c *echo.Context) error {
		sealedecho.Destroy(c, m)
		return c.String(http.StatusOK, "bye")
	})

	cl := sealedtest.NewClient(t, e)
	if resp, _ := cl.Do("POST", "/login/alice"); resp.StatusCode != http.StatusNoContent || len(resp.Cookies()) != 1 {
		t.Fatalf("POST /login/alice: %d, Set-Cookie %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	if resp, _ := cl.Do("POST", "/count"); resp.StatusCode != http.StatusTeapot || len(resp.Cookies()) != 1 {
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

// TestHelpersWithoutMiddleware checks that every helper panics, naming the
// cause and the fix, when the middleware did not run for the route: here
// because it was installed on another group only, or because the
// middleware installed is another Manager's.
func TestHelpersWithoutMiddleware(t *testing.T) {
	m, other := newManager(t), newManager(t)
	helpers := map[string]func(*echo.Context){
		"Get":     func(c *echo.Context) { sealedecho.Get(c, m) },
		"Info":    func(c *echo.Context) { sealedecho.Info(c, m) },
		"Flashes": func(c *echo.Context) { sealedecho.Flashes(c, m) },
		"Put":     func(c *echo.Context) { sealedecho.Put(c, m, session{}) },
		"Update":  func(c *echo.Context) { sealedecho.Update(c, m, func(*session) {}) },
		"Destroy": func(c *echo.Context) { sealedecho.Destroy(c, m) },
		"Renew":   func(c *echo.Context) { sealedecho.Renew(c, m) },
		"Flash":   func(c *echo.Context) { sealedecho.Flash(c, m, "hi") },
	}
	got := map[string]string{}
	record := func(c *echo.Context) error {
		defer func() { got[c.Request().URL.Path] = fmt.Sprint(recover()) }()
		helpers[c.Param("op")](c)
		return nil
	}
	e := echo.New()
	e.Group("/app", sealedecho.Middleware(m)).GET("/:op", func(*echo.Context) error { return nil })
	e.GET("/none/:op", record) // outside the group
	e.GET("/other/:op", record, sealedecho.Middleware(other))
	cl := sealedtest.NewClient(t, e)
	for op := range helpers {
		for _, path := range []string{"/none/" + op, "/other/" + op} {
			cl.Do("GET", path)
			msg := got[path]
			for _, want := range []string{"sealedecho." + op + ":", "c.Request().Context()", "sealedecho.Middleware(m)", "e.Use"} {
				if !strings.Contains(msg, want) {
					t.Errorf("%s: panic %q does not mention %q", path, msg, want)
				}
			}
		}
	}
}
