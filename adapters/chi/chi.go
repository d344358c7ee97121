// Package sealedchi documents and tests sealed sessions with the chi router
// (github.com/go-chi/chi/v5).
//
// chi middleware is plain net/http middleware, func(http.Handler)
// http.Handler, so a [sealed.Manager] needs no adapter: its Handler and
// Require methods are chi middleware as they are.
//
//	m, err := sealed.New(keys, sealed.JSON[Session](), sealed.Options{})
//	r := chi.NewRouter()
//	r.Use(m.Handler)                        // every route can use the session
//	r.Post("/login/{name}", func(w http.ResponseWriter, r *http.Request) {
//		m.Put(r.Context(), Session{Name: chi.URLParam(r, "name")})
//		m.Renew(r.Context())
//	})
//	r.With(m.Require).Get("/me", me)       // 401 without a session
//	r.Group(func(r chi.Router) {           // or a whole group
//		r.Use(m.Require)
//		r.Get("/settings", settings)
//	})
//
// The session's ResponseWriter never buffers the body and passes Flush,
// Hijack and http.ResponseController through, so streaming handlers and
// WebSocket upgrades keep working; the cookie goes out with the headers, at
// the first Write, WriteHeader or Flush.
//
// [Middleware] and [Require] exist only for symmetry with the adapters for
// other routers; they return the Manager's methods.
package sealedchi

import (
	"net/http"

	"github.com/sealedcookie/sealed"
)

// Middleware returns m.Handler, the middleware that makes the session
// available through the request's context: r.Use(sealedchi.Middleware(m))
// is r.Use(m.Handler).
func Middleware[T any](m *sealed.Manager[T]) func(http.Handler) http.Handler {
	return m.Handler
}

// Require returns m.Require, the middleware that answers
// Options.Unauthorized (by default 401) to requests without a valid session.
func Require[T any](m *sealed.Manager[T]) func(http.Handler) http.Handler {
	return m.Require
}
