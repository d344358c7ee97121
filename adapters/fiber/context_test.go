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

// TestHelpers uses every helper and checks that the changes reach
// Set-Cookie.
func TestHelpers(t *testing.T) {
	m := newManager(t, sealed.Options{})
	app := fiber.New()
	app.Use(sealedfiber.Middleware(m))
	app.Post("/login/:name", func(c fiber.Ctx) error {
		sealedfiber.Put(c, m, session{Name: c.Params("name")})
		sealedfiber.Renew(c, m)
		sealedfiber.Flash(c, m, "welcome")
		return c.SendStatus(fiber.StatusNoContent)
	})
	app.Post("/count", func(c fiber.Ctx) error {
		sealedfiber.Update(c, m, func(s *session) { s.Count++ })
		return fiber.ErrTeapot // the error handler's response carries the cookie
	})
	app.Get("/me", func(c fiber.Ctx) error {
		s, ok := sealedfiber.Get(c, m)
		info, iok := sealedfiber.Info(c, m)
		if ok != iok || (ok && info.Deadline.IsZero()) {
			return c.Status(http.StatusInternalServerError).SendString(fmt.Sprintf("Get %v, Info %v %+v", ok, iok, info))
		}
		return c.SendString(fmt.Sprintf("%v %s %d %q", ok, s.Name, s.Count, sealedfiber.Flashes(c, m)))
	})
	app.Post("/logout", func(c fiber.Ctx) error {
		sealedfiber.Destroy(c, m)
		return c.SendString("bye")
	})

	cl := sealedtest.NewClient(t, serve(t, app))
	if resp, _ := cl.Do("POST", "/login/alice"); resp.StatusCode != fiber.StatusNoContent || len(resp.Cookies()) != 1 {
		t.Fatalf("POST /login/alice: %d, Set-Cookie %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	if resp, _ := cl.Do("POST", "/count"); resp.StatusCode != fiber.StatusTeapot || len(resp.Cookies()) != 1 {
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
// cause and the fix, when the middleware did not run before the handler:
// here because it was added with app.Use after the route, or because the
// middleware installed is another Manager's.
func TestHelpersWithoutMiddleware(t *testing.T) {
	m, other := newManager(t, sealed.Options{}), newManager(t, sealed.Options{})
	helpers := map[string]func(fiber.Ctx){
		"Get":     func(c fiber.Ctx) { sealedfiber.Get(c, m) },
		"Info":    func(c fiber.Ctx) { sealedfiber.Info(c, m) },
		"Flashes": func(c fiber.Ctx) { sealedfiber.Flashes(c, m) },
		"Put":     func(c fiber.Ctx) { sealedfiber.Put(c, m, session{}) },
		"Update":  func(c fiber.Ctx) { sealedfiber.Update(c, m, func(*session) {}) },
		"Destroy": func(c fiber.Ctx) { sealedfiber.Destroy(c, m) },
		"Renew":   func(c fiber.Ctx) { sealedfiber.Renew(c, m) },
		"Flash":   func(c fiber.Ctx) { sealedfiber.Flash(c, m, "hi") },
	}
	var got string
	record := func(c fiber.Ctx) error {
		defer func() { got = fmt.Sprint(recover()) }()
		helpers[c.Params("op")](c)
		return nil
	}
	late := fiber.New()
	late.Get("/:op", record)
	late.Use(sealedfiber.Middleware(m)) // the right Manager, after the route
	wrong := fiber.New()
	wrong.Use(sealedfiber.Middleware(other))
	wrong.Get("/:op", record)
	for op := range helpers {
		for name, app := range map[string]*fiber.App{"late": late, "wrong": wrong} {
			got = ""
			sealedtest.NewClient(t, serve(t, app)).Do("GET", "/"+op)
			for _, want := range []string{"sealedfiber." + op + ":", "c.Context()", "sealedfiber.Middleware(m)", "app.Use"} {
				if !strings.Contains(got, want) {
					t.Errorf("%s app, %s: panic %q does not mention %q", name, op, got, want)
				}
			}
		}
	}
}
