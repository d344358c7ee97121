package sealedfiber_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/sealedcookie/sealed"
	sealedfiber "github.com/sealedcookie/sealed/adapters/fiber"
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

// serve sends one request to app, with the cookies given, and returns the
// response and its body.
func serve(t *testing.T, app *fiber.App, method, path string, cookies []*http.Cookie) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err := app.Test(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
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
	if _, body := serve(t, app, "GET", "/", nil); body != "<nil>" {
		t.Fatalf("fiber.Ctx's Value sees c.Context()'s values (%q): the middleware's c.Locals is no longer needed", body)
	}
}

// TestCtxAsContext checks that, since the middleware also stores the
// session in c.Locals under the Manager's key, the Manager's own methods
// given the fiber.Ctx find the session, and changes made through it reach
// Set-Cookie.
func TestCtxAsContext(t *testing.T) {
	m := newManager(t)
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
	resp, _ := serve(t, app, "POST", "/login/alice", nil)
	if resp.StatusCode != fiber.StatusNoContent || len(resp.Cookies()) != 1 {
		t.Fatalf("POST /login/alice with m.Put(c): %d, Set-Cookie %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	resp, body := serve(t, app, "POST", "/rename", resp.Cookies())
	if resp.StatusCode != http.StatusOK || body != "alice" {
		t.Fatalf("POST /rename with m.Get(c): %d %q", resp.StatusCode, body)
	}
	if s := readSession(t, m, resp.Cookies()); s != (session{Name: "alice2", Count: 1}) {
		t.Fatalf("session after m.Update(c): %+v", s)
	}
}

// TestHelpers uses every helper and checks that the changes reach
// Set-Cookie.
func TestHelpers(t *testing.T) {
	m := newManager(t)
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

	resp, _ := serve(t, app, "POST", "/login/alice", nil)
	cookies := resp.Cookies()
	if resp.StatusCode != fiber.StatusNoContent || len(cookies) != 1 {
		t.Fatalf("POST /login/alice: %d, Set-Cookie %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	resp, _ = serve(t, app, "POST", "/count", cookies)
	if resp.StatusCode != fiber.StatusTeapot || len(resp.Cookies()) != 1 {
		t.Fatalf("POST /count: %d, Set-Cookie %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	cookies = resp.Cookies()
	if s := readSession(t, m, cookies); s != (session{Name: "alice", Count: 1}) {
		t.Fatalf("session after sealedfiber.Update: %+v", s)
	}
	resp, body := serve(t, app, "GET", "/me", cookies)
	if body != `true alice 1 ["welcome"]` {
		t.Fatalf("GET /me: %d %s", resp.StatusCode, body)
	}
	cookies = resp.Cookies() // the flash was read: a new cookie without it
	if _, body := serve(t, app, "GET", "/me", cookies); body != `true alice 1 []` {
		t.Fatalf("GET /me after reading the flash: %s", body)
	}
	resp, _ = serve(t, app, "POST", "/logout", cookies)
	if cs := resp.Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
		t.Fatalf("POST /logout: Set-Cookie %q", resp.Header.Values("Set-Cookie"))
	}
	if _, body := serve(t, app, "GET", "/me", nil); body != `false  0 []` {
		t.Fatalf("GET /me without a session: %s", body)
	}
}

// TestHelpersWithoutMiddleware checks that every helper panics, naming the
// cause and the fix, when the middleware did not run before the handler:
// here because it was added with app.Use after the route, or because the
// middleware installed is another Manager's.
func TestHelpersWithoutMiddleware(t *testing.T) {
	m, other := newManager(t), newManager(t)
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
		got = panicText(func() { helpers[c.Params("op")](c) })
		return c.SendStatus(http.StatusOK)
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
			serve(t, app, "GET", "/"+op, nil)
			for _, want := range []string{"sealedfiber." + op + ":", "c.Context()", "sealedfiber.Middleware(m)", "app.Use"} {
				if !strings.Contains(got, want) {
					t.Errorf("%s app, %s: panic %q does not mention %q", name, op, got, want)
				}
			}
		}
	}
}
