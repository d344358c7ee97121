// Package sealedgin connects sealed sessions to the Gin web framework
// (github.com/gin-gonic/gin).
//
// Install [Middleware] on the engine or a group, then use the Manager's
// methods with the request's context:
//
//	m, err := sealed.New(keys, sealed.JSON[Session](), sealed.Options{})
//	r := gin.New()
//	r.Use(sealedgin.Middleware(m))
//	r.POST("/login/:name", func(c *gin.Context) {
//		m.Put(c.Request.Context(), Session{Name: c.Param("name")})
//		m.Renew(c.Request.Context())
//		c.Status(http.StatusNoContent)
//	})
//	r.GET("/me", sealedgin.Require(m), func(c *gin.Context) {
//		s, _ := m.Get(c.Request.Context())
//		c.JSON(http.StatusOK, s)
//	})
//
// With Engine.ContextWithFallback set, the *gin.Context itself can be
// passed to the Manager (m.Get(c)), since its Value falls back to the
// request's context.
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
// the rest of the chain through c.Request.Context() and writes the session
// cookie, if the session changed, just before the response headers go out.
// It never buffers the body.
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
// For another response, write your own with m.Info or m.Get.
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
