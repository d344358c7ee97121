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

// TestSessionThroughRequestContext uses every Manager method through
// c.Request().Context() and checks that the changes reach Set-Cookie, also
// when the handler returns an error.
func TestSessionThroughRequestContext(t *testing.T) {
	m := newManager(t)
	e := echo.New()
	e.Use(sealedecho.Middleware(m))
	e.POST("/login/:name", func(c *echo.Context) error {
		m.Put(c.Request().Context(), session{Name: c.Param("name")})
		m.Renew(c.Request().Context())
		m.Flash(c.Request().Context(), "welcome")
		return c.NoContent(http.StatusNoContent)
	})
	e.POST("/count", func(c *echo.Context) error {
		m.Update(c.Request().Context(), func(s *session) { s.Count++ })
		return errTeapot // the error handler's response carries the cookie
	})
	e.GET("/me", func(c *echo.Context) error {
		s, ok := m.Get(c.Request().Context())
		info, iok := m.Info(c.Request().Context())
		if ok != iok || (ok && info.Deadline.IsZero()) {
			return c.String(http.StatusInternalServerError, fmt.Sprintf("Get %v, Info %v %+v", ok, iok, info))
		}
		return c.String(http.StatusOK, fmt.Sprintf("%v %s %d %q", ok, s.Name, s.Count, m.Flashes(c.Request().Context())))
	})
	e.POST("/logout", func(c *echo.Context) error {
		m.Destroy(c.Request().Context())
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

// On a route the middleware did not run for, a change panics with the
// Manager's message, which names the cause.
func TestWithoutMiddleware(t *testing.T) {
	m := newManager(t)
	e := echo.New()
	e.Group("/app", sealedecho.Middleware(m)).GET("/x", func(*echo.Context) error { return nil })
	var got string
	e.GET("/none", func(c *echo.Context) error { // outside the group
		got = fmt.Sprint(catch(func() { m.Put(c.Request().Context(), session{}) }))
		return nil
	})
	sealedtest.NewClient(t, e).Do("GET", "/none")
	for _, want := range []string{"Manager.Put", "Manager.Handler", "c.Request().Context()"} {
		if !strings.Contains(got, want) {
			t.Errorf("panic %q does not mention %q", got, want)
		}
	}
}

// catch runs f and returns what it panicked with.
func catch(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}
