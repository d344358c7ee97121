// Package sealedfiber connects sealed sessions to the Fiber web framework,
// version 3 (github.com/gofiber/fiber/v3), which runs on fasthttp rather
// than net/http.
//
// Install [Middleware] with app.Use before the routes. A fiber.Ctx is a
// context.Context, and the middleware makes it carry the session, so
// handlers pass c itself to the Manager's methods:
//
//	m, err := sealed.New(keys, sealed.JSON[Session](), sealed.Options{})
//	app := fiber.New(fiber.Config{ReadBufferSize: 20 << 10})
//	app.Use(sealedfiber.Middleware(m)) // before the routes: Fiber runs handlers in the order they were added
//	app.Post("/login/:name", func(c fiber.Ctx) error {
//		m.Put(c, Session{Name: c.Params("name")})
//		m.Renew(c)
//		return c.SendStatus(fiber.StatusNoContent)
//	})
//	app.Get("/me", sealedfiber.Require(m), func(c fiber.Ctx) error {
//		s, _ := m.Get(c)
//		return c.JSON(s)
//	})
//
// Fiber has no http.ResponseWriter, so [Middleware] uses the Manager's
// middleware-free functions: it copies the request's cookies into an
// http.Header for [sealed.Manager.LoadHeader], stores the session's
// context with c.SetContext, runs the rest of the chain, and adds the
// Set-Cookie lines from [sealed.Manager.SaveHeader] to the fasthttp
// response. A fiber.Ctx's Value answers from c.Locals, not from
// c.Context(), so the middleware also stores the session in c.Locals under
// the Manager's key: both m.Get(c) and m.Get(c.Context()) find it. Outside
// the handler (a goroutine, a c.SendStreamWriter callback) use a
// c.Context() taken in the handler: Fiber reuses c once the handler
// returns.
//
// fasthttp refuses requests whose headers exceed Config.ReadBufferSize,
// 4096 bytes by default, with 431 Request Header Fields Too Large. That
// counts all the request's headers, so a session near the size of one full
// cookie, or one split over several (Options.ChunkBudget), needs a larger
// buffer: about 4 KB per cookie of the budget plus the other headers, for
// example 20 KB for the default budget of 4 cookies.
//
// fasthttp sends the headers only after the handler chain has returned, so
// the session is saved then. A body stream set with c.SendStreamWriter runs
// later still: its flushes go out with the cookie already in the headers,
// but changes to the session made inside the stream writer come too late
// and are reported to Options.OnError as sealed.ErrHeadersWritten.
package sealedfiber

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v3"
	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/internal/ctxkey"
)

// Middleware returns Fiber middleware that makes m's session available to
// the next handlers through c itself (in c.Locals, under the Manager's own
// key) and c.Context(), and, if the session changed, adds its Set-Cookie
// lines (and a Cache-Control directive that keeps shared caches from
// storing them) to the response, with Vary: Cookie when the session was
// read.
//
// If the session cannot be saved (for example sealed.ErrTooLarge: the
// client keeps its previous cookie), the middleware returns the error,
// joined with the handler's, for the app's ErrorHandler (by default a 500).
func Middleware[T any](m *sealed.Manager[T]) fiber.Handler {
	key := ctxkey.Of(m)
	return func(c fiber.Ctx) error {
		// One Cookie line with every cookie of the request: fasthttp has
		// already parsed them, and the buffers it parsed into are reused
		// after the request, so the strings are copied.
		var line strings.Builder
		for name, value := range c.Request().Header.Cookies() {
			if line.Len() > 0 {
				line.WriteString("; ")
			}
			line.Write(name)
			line.WriteByte('=')
			line.Write(value)
		}
		in := http.Header{}
		if line.Len() > 0 {
			in["Cookie"] = []string{line.String()}
		}
		ctx := m.LoadHeader(c.Context(), in)
		c.SetContext(ctx)
		// c's own Value answers from c.Locals, not c.Context(): store the
		// session there too, so that m.Get(c) finds it.
		c.Locals(key, ctx)

		err := c.Next()

		// SaveHeader adds Set-Cookie lines and edits Vary and
		// Cache-Control: give it the response's, then copy them back.
		resp := &c.Response().Header
		out := http.Header{}
		for _, name := range []string{"Vary", "Cache-Control"} {
			for _, v := range resp.PeekAll(name) {
				out.Add(name, string(v))
			}
		}
		if serr := m.SaveHeader(ctx, out); serr != nil {
			return errors.Join(err, serr)
		}
		for _, v := range out["Set-Cookie"] {
			resp.Add("Set-Cookie", v)
		}
		for _, name := range []string{"Vary", "Cache-Control"} {
			resp.Del(name)
			for _, v := range out[name] {
				resp.Add(name, v)
			}
		}
		return err
	}
}

// Require returns Fiber middleware that answers fiber.ErrUnauthorized
// (401, formatted by the app's ErrorHandler) unless the request has a valid
// session of m. It must run after [Middleware].
func Require[T any](m *sealed.Manager[T]) fiber.Handler {
	return func(c fiber.Ctx) error {
		if _, ok := m.Info(c.Context()); !ok {
			return fiber.ErrUnauthorized
		}
		return c.Next()
	}
}
