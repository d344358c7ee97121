package sealedgin

import (
	"github.com/gin-gonic/gin"
	"github.com/sealedcookie/sealed"
)

// Gin's *gin.Context is a context.Context, so m.Get(c) compiles, but its
// Value finds the session only when Engine.ContextWithFallback is set: the
// middleware puts the session in c.Request.Context(). These helpers take
// the *gin.Context and pass c.Request.Context() to the Manager, whatever the
// engine's settings. Without the middleware, the reads report no session
// and the writes panic, as the Manager's methods do.

// Get returns m's session (see [sealed.Manager.Get]).
func Get[T any](c *gin.Context, m *sealed.Manager[T]) (T, bool) { return m.Get(c.Request.Context()) }

// Info describes m's session (see [sealed.Manager.Info]).
func Info[T any](c *gin.Context, m *sealed.Manager[T]) (sealed.SessionInfo, bool) {
	return m.Info(c.Request.Context())
}

// Put stores v as m's session (see [sealed.Manager.Put]).
func Put[T any](c *gin.Context, m *sealed.Manager[T], v T) { m.Put(c.Request.Context(), v) }

// Update changes m's session through f (see [sealed.Manager.Update]).
func Update[T any](c *gin.Context, m *sealed.Manager[T], f func(*T)) {
	m.Update(c.Request.Context(), f)
}

// Destroy ends m's session (see [sealed.Manager.Destroy]).
func Destroy[T any](c *gin.Context, m *sealed.Manager[T]) { m.Destroy(c.Request.Context()) }

// Renew re-issues m's session; call it at login (see [sealed.Manager.Renew]).
func Renew[T any](c *gin.Context, m *sealed.Manager[T]) { m.Renew(c.Request.Context()) }

// Flash adds a one-time message (see [sealed.Manager.Flash]).
func Flash[T any](c *gin.Context, m *sealed.Manager[T], msg string) {
	m.Flash(c.Request.Context(), msg)
}

// Flashes returns and removes the pending flash messages (see
// [sealed.Manager.Flashes]).
func Flashes[T any](c *gin.Context, m *sealed.Manager[T]) []string {
	return m.Flashes(c.Request.Context())
}
