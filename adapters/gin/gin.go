// Package sealedgin connects sealed sessions to the Gin web framework
// (github.com/gin-gonic/gin).
//
// Install [Middleware] on the engine or a group, then reach the session
// with this package's helpers, which take the *gin.Context: [Get], [Info],
// [Put], [Update], [Destroy], [Renew], [Flash] and [Flashes].
//
//	m, err := sealed.New(keys, sealed.JSON[Session](), sealed.Options{})
//	r := gin.New()
//	r.Use(sealedgin.Middleware(m)) // before the routes: Gin applies Use only to routes registered after it
//	r.POST("/login/:name", func(c *gin.Context) {
//		sealedgin.Put(c, m, Session{Name: c.Param("name")})
//		sealedgin.Renew(c, m)
//		c.Status(http.StatusNoContent)
//	})
//	r.GET("/me", sealedgin.Require(m), func(c *gin.Context) {
//		s, _ := sealedgin.Get(c, m)
//		c.JSON(http.StatusOK, s)
//	})
//
// The middleware puts the session in the request's context,
// c.Request.Context(), which is what the helpers read; code that holds only
// a context.Context (a service layer, a template helper) takes
// c.Request.Context() and uses the Manager's methods. On a route the
// middleware did not run for, the helpers behave as the Manager's methods
// do without a session in the context: reads report none, and writes panic
// with a message that names the cause.
//
// Do not pass the *gin.Context itself to the Manager (m.Get(c), m.Put(c,
// v)). It compiles, since *gin.Context implements context.Context, but by
// default its Value does not consult c.Request.Context(), so the Manager
// cannot see the session: m.Get(c) reports no session and m.Put(c, v)
// panics. It works only with Engine.ContextWithFallback set to true, which
// makes Value (and Deadline, Done and Err) fall back to the request's
// context. The middleware cannot change that for you: Gin's Value answers
// only string keys from c.Keys before the fallback.
//
// The session cookie is added to the response when Gin actually writes the
// headers: at the first body write, Flush (so c.Stream works), Hijack or
// the end of the handler chain. Setting the status with c.Status does not
// send the headers in Gin, so the session may still change after it.
package sealedgin

import (
	"bufio"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/sealedcookie/sealed"
)

// Middleware returns Gin middleware that makes m's session available to
// the rest of the chain through c.Request.Context(), where the helpers
// ([Get], [Put] and the others) find it, and writes the session cookie, if
// the session changed, just before the response headers go out. It never
// buffers the body. Like any Gin middleware, it runs only for routes
// registered after it was added with Use.
func Middleware[T any](m *sealed.Manager[T]) gin.HandlerFunc {
	return func(c *gin.Context) {
		orig := c.Writer
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.Request = r
			c.Writer = &responseWriter{ResponseWriter: orig, session: w}
			c.Next()
		})).ServeHTTP(orig, c.Request)
		c.Writer = orig
	}
}

// Require returns Gin middleware that aborts with 401 Unauthorized unless
// the request has a valid session of m. It must run after [Middleware].
// For another response, write your own with [Info] or [Get].
func Require[T any](m *sealed.Manager[T]) gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, ok := m.Info(c.Request.Context()); !ok {
			c.AbortWithStatus(http.StatusUnauthorized)
		}
	}
}

// responseWriter is Gin's ResponseWriter with the session cookie committed
// at the moments Gin writes the headers.
type responseWriter struct {
	gin.ResponseWriter                     // Gin's writer: records the status until the first write
	session            http.ResponseWriter // the Manager's writer around Gin's
	committed          bool
}

// commit adds the session cookie to the header, once, through the
// Manager's writer, which then records the status with Gin's writer.
func (w *responseWriter) commit() {
	if !w.committed {
		w.committed = true
		w.session.WriteHeader(w.ResponseWriter.Status())
	}
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.commit()
	return w.ResponseWriter.Write(b)
}

func (w *responseWriter) WriteString(s string) (int, error) {
	w.commit()
	return w.ResponseWriter.WriteString(s)
}

func (w *responseWriter) WriteHeaderNow() {
	w.commit()
	w.ResponseWriter.WriteHeaderNow()
}

// Flush implements http.Flusher.
func (w *responseWriter) Flush() {
	w.commit()
	w.ResponseWriter.Flush()
}

// Hijack implements http.Hijacker.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.commit()
	return w.ResponseWriter.Hijack()
}

// Unwrap returns Gin's writer, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var _ gin.ResponseWriter = (*responseWriter)(nil)
