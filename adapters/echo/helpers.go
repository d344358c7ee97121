package sealedecho

import (
	"context"

	"github.com/labstack/echo/v5"
	"github.com/sealedcookie/sealed"
)

// Get returns m's session from c (see [sealed.Manager.Get]), reporting
// false when there is none. It panics if [Middleware] with m did not run
// for the route.
func Get[T any](c *echo.Context, m *sealed.Manager[T]) (T, bool) {
	ctx := c.Request().Context()
	v, ok := m.Get(ctx)
	if !ok {
		mustCarry(ctx, m, "Get")
	}
	return v, ok
}

// Info describes m's session in c (see [sealed.Manager.Info]), reporting
// false when there is none. It panics if [Middleware] with m did not run
// for the route.
func Info[T any](c *echo.Context, m *sealed.Manager[T]) (sealed.SessionInfo, bool) {
	ctx := c.Request().Context()
	info, ok := m.Info(ctx)
	if !ok {
		mustCarry(ctx, m, "Info")
	}
	return info, ok
}

// Put stores v as m's session in c (see [sealed.Manager.Put]); the cookie
// is sent with the response. It panics if [Middleware] with m did not run
// for the route.
func Put[T any](c *echo.Context, m *sealed.Manager[T], v T) {
	m.Put(carrier(c, m, "Put"), v)
}

// Update calls f with a pointer to m's session in c, or to the zero T if
// there is none, and stores the result (see [sealed.Manager.Update]). It
// panics if [Middleware] with m did not run for the route.
func Update[T any](c *echo.Context, m *sealed.Manager[T], f func(*T)) {
	m.Update(carrier(c, m, "Update"), f)
}

// Destroy ends m's session in c and expires its cookies (see
// [sealed.Manager.Destroy]). It panics if [Middleware] with m did not run
// for the route.
func Destroy[T any](c *echo.Context, m *sealed.Manager[T]) {
	m.Destroy(carrier(c, m, "Destroy"))
}

// Renew re-issues m's session in c with a new absolute deadline; call it at
// login (see [sealed.Manager.Renew]). It panics if [Middleware] with m did
// not run for the route.
func Renew[T any](c *echo.Context, m *sealed.Manager[T]) {
	m.Renew(carrier(c, m, "Renew"))
}

// Flash adds a one-time message for the next request that calls [Flashes]
// (see [sealed.Manager.Flash]). It panics if [Middleware] with m did not
// run for the route.
func Flash[T any](c *echo.Context, m *sealed.Manager[T], msg string) {
	m.Flash(carrier(c, m, "Flash"), msg)
}

// Flashes returns and removes the pending flash messages of m's session in
// c, oldest first, or nil (see [sealed.Manager.Flashes]). It panics if
// [Middleware] with m did not run for the route.
func Flashes[T any](c *echo.Context, m *sealed.Manager[T]) []string {
	ctx := c.Request().Context()
	msgs := m.Flashes(ctx)
	if msgs == nil {
		mustCarry(ctx, m, "Flashes")
	}
	return msgs
}

// carrier returns c's request context after checking that it carries m's
// session.
func carrier[T any](c *echo.Context, m *sealed.Manager[T], op string) context.Context {
	ctx := c.Request().Context()
	mustCarry(ctx, m, op)
	return ctx
}

// mustCarry panics, naming the cause and the fix, if ctx does not carry m's
// session.
func mustCarry[T any](ctx context.Context, m *sealed.Manager[T], op string) {
	if !carries(ctx, m) {
		panic("sealedecho." + op + ": no session of this Manager in c.Request().Context(): " +
			"sealedecho.Middleware(m) did not run for this route. Add it with e.Use(sealedecho.Middleware(m)), " +
			"or to the route's group or the route itself, with the same m as passed here; and do not replace " +
			"the request (c.SetRequest) with one whose context does not derive from it.")
	}
}

// carries reports whether ctx carries m's session. When it cannot tell, it
// reports true and leaves the Manager to panic.
//
// The Manager does not export the key it stores the session under, so it
// is learned from the Manager itself: Info, given a context without a
// session, looks its key up in the context and does nothing else. The key
// is checked against a context that does carry m's session before use.
func carries[T any](ctx context.Context, m *sealed.Manager[T]) bool {
	p := &keyProbe{Context: context.Background()}
	m.Info(p)
	if p.key == nil || ctx.Value(p.key) != nil {
		return true
	}
	s := m.LoadHeader(context.Background(), nil)
	return s.Value(p.key) != s // not m's key: cannot tell
}

// keyProbe is a context without values that records the first key looked
// up in it.
type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	if p.key == nil {
		p.key = key
	}
	return nil
}
