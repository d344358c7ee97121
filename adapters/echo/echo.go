// Package sealedecho connects sealed sessions to the Echo web framework,
// version 5 (github.com/labstack/echo/v5).
//
// Install [Middleware] with e.Use or on a group. It puts the session in the
// request's context, so handlers pass c.Request().Context() to the
// Manager's methods:
//
//	m, err := sealed.New(keys, sealed.JSON[Session](), sealed.Options{})
//	e := echo.New()
//	e.Use(sealedecho.Middleware(m))
//	e.POST("/login/:name", func(c *echo.Context) error {
//		m.Put(c.Request().Context(), Session{Name: c.Param("name")})
//		m.Renew(c.Request().Context())
//		return c.NoContent(http.StatusNoContent)
//	})
//	e.GET("/me", func(c *echo.Context) error {
//		s, _ := m.Get(c.Request().Context())
//		return c.JSON(http.StatusOK, s)
//	}, sealedecho.Require(m))
//
// In Echo v5, *echo.Context is not a context.Context, so passing it to the
// Manager (m.Get(c)) does not compile: Echo has no trap like Gin's, where
// that compiles and finds nothing.
//
// The cookie is written into the response header at the first
// WriteHeader, Write or Flush of c.Response(), like [sealed.Manager.Handler],
// or when the handler returns. A handler that returns an error has its
// session saved too: Echo's HTTPErrorHandler writes its response after the
// middleware has added the cookie to the header.
package sealedecho

import (
	"net/http"

	"github.com/labstack/echo/v5"
	"github.com/sealedcookie/sealed"
)

// Middleware returns Echo middleware that makes m's session available to
// the next handlers through c.Request().Context(), where the helpers
// ([Get], [Put] and the others) find it, and writes the session cookie, if
// the session changed, just before the response headers go out. It never
// buffers the body; c.Response() still unwraps to *echo.Response
// (echo.UnwrapResponse) and passes Flush and Hijack through.
func Middleware[T any](m *sealed.Manager[T]) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			orig := c.Response()
			var err error
			m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c.SetRequest(r)
				c.SetResponse(w)
				err = next(c)
			})).ServeHTTP(orig, c.Request())
			c.SetResponse(orig)
			return err
		}
	}
}

// Require returns Echo middleware that answers echo.ErrUnauthorized (401,
// formatted by the Echo's HTTPErrorHandler) unless the request has a valid
// session of m. It must run after [Middleware].
func Require[T any](m *sealed.Manager[T]) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			if _, ok := m.Info(c.Request().Context()); !ok {
				return echo.ErrUnauthorized
			}
			return next(c)
		}
	}
}
