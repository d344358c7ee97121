package sealedfiber_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/sealedcookie/sealed"
	sealedfiber "github.com/sealedcookie/sealed/adapters/fiber"
	"github.com/sealedcookie/sealed/sealedtest"
)

// TestFiberCtxValue records the trap the middleware has to remove: a
// fiber.Ctx is a context.Context, so m.Get(c) compiles, but its Value
// answers from c.Locals, not from c.Context(), where SetContext put the
// session.
func TestFiberCtxValue(t *testing.T) {
	type key struct{}
	app := fiber.New()
	app.Get("/", func(c fiber.Ctx) error {
		var ctx context.Context = c // compiles: the trap
		c.SetContext(context.WithValue(c.Context(), key{}, "in c.Context()"))
		return c.SendString(fmt.Sprint(ctx.Value(key{})))
	})
	if _, body := sealedtest.NewClient(t, serve(t, app)).Do("GET", "/"); body != "<nil>" {
		t.Fatalf("fiber.Ctx's Value sees c.Context()'s values (%q): the middleware's c.Locals is no longer needed", body)
	}
}

// TestCtxAsContext checks that, since the middleware also stores the
// session in c.Locals under the Manager's key, the Manager's own methods
// given the fiber.Ctx find the session, and changes made through it reach
// Set-Cookie.
func TestCtxAsContext(t *testing.T) {
	m := newManager(t, sealed.Options{})
	app := fiber.New()
	app.Use(sealedfiber.Middleware(m))
	app.Post("/login/:name", func(c fiber.Ctx) error {
		m.Put(c, session{Name: c.Params("name")})
		m.Renew(c)
		return c.SendStatus(fiber.StatusNoContent)
	})
	app.Post("/rename", func(c fiber.Ctx) error {
		s, ok := m.Get(c)
		if !ok {
			return fiber.ErrUnauthorized
		}
		m.Update(c, func(s *session) { s.Name += "2"; s.Count++ })
		return c.SendString(s.Name)
	})
	app.Get("/me", func(c fiber.Ctx) error {
		s, _ := m.Get(c)
		return c.JSON(s)
	})
	cl := sealedtest.NewClient(t, serve(t, app))
	if resp, _ := cl.Do("POST", "/login/alice"); resp.StatusCode != fiber.StatusNoContent || len(resp.Cookies()) != 1 {
		t.Fatalf("POST /login/alice with m.Put(c): %d, Set-Cookie %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	if resp, body := cl.Do("POST", "/rename"); resp.StatusCode != http.StatusOK || body != "alice" {
		t.Fatalf("POST /rename with m.Get(c): %d %q", resp.StatusCode, body)
	}
	if _, body := cl.Do("GET", "/me"); body != `{"name":"alice2","count":1}` {
		t.Fatalf("session after m.Update(c): %s", body)
	}
}

// TestFlashThroughCtx uses the rest of the Manager's methods with the
// fiber.Ctx, including a handler that returns an error, whose response
// still carries the cookie.
func TestFlashThroughCtx(t *testing.T) {
	m := newManager(t, sealed.Options{})
	app := fiber.New()
	app.Use(sealedfiber.Middleware(m))
	app.Post("/login/:name", func(c fiber.Ctx) error {
		m.Put(c, session{Name: c.Params("name")})
		m.Flash(c, "welcome")
		return fiber.ErrTeapot // the error handler's response carries the cookie
	})
	app.Get("/me", func(c fiber.Ctx) error {
		s, ok := m.Get(c)
		info, iok := m.Info(c.Context())
		if ok != iok || (ok && info.Deadline.IsZero()) {
			return c.Status(http.StatusInternalServerError).SendString(fmt.Sprintf("Get %v, Info %v %+v", ok, iok, info))
		}
		return c.SendString(fmt.Sprintf("%v %s %q", ok, s.Name, m.Flashes(c)))
	})
	app.Post("/logout", func(c fiber.Ctx) error {
		m.Destroy(c)
		return c.SendString("bye")
	})
	cl := sealedtest.NewClient(t, serve(t, app))
	if resp, _ := cl.Do("POST", "/login/alice"); resp.StatusCode != fiber.StatusTeapot || len(resp.Cookies()) != 1 {
		t.Fatalf("POST /login/alice: %d, Set-Cookie %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	if _, body := cl.Do("GET", "/me"); body != `true alice ["welcome"]` {
		t.Fatalf("GET /me: %s", body)
	}
	resp, body := cl.Do("GET", "/me")
	if body != `true alice []` {
		t.Fatalf("GET /me after reading the flash: %s", body)
	}
	if len(resp.Cookies()) != 0 || resp.Header.Get("Vary") != "Cookie" {
		t.Fatalf("a read without a change: Set-Cookie %q, Vary %q; want none and Cookie", resp.Header.Values("Set-Cookie"), resp.Header.Values("Vary"))
	}
	if resp, _ := cl.Do("POST", "/logout"); len(resp.Cookies()) != 1 || resp.Cookies()[0].MaxAge >= 0 {
		t.Fatalf("POST /logout: Set-Cookie %q", resp.Header.Values("Set-Cookie"))
	}
}

// Before the middleware ran (app.Use after the route), a change panics
// with the Manager's message, which names the cause.
func TestWithoutMiddleware(t *testing.T) {
	m := newManager(t, sealed.Options{})
	app := fiber.New()
	var got string
	app.Get("/early", func(c fiber.Ctx) error {
		func() {
			defer func() { got = fmt.Sprint(recover()) }()
			m.Put(c, session{})
		}()
		return nil
	})
	app.Use(sealedfiber.Middleware(m))
	sealedtest.NewClient(t, serve(t, app)).Do("GET", "/early")
	for _, want := range []string{"Manager.Put", "Manager.Handler"} {
		if !strings.Contains(got, want) {
			t.Errorf("panic %q does not mention %q", got, want)
		}
	}
}
