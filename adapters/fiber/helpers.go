package sealedfiber

import (
	"context"

	"github.com/gofiber/fiber/v3"
	"github.com/sealedcookie/sealed"
)

// Get returns m's session from c (see [sealed.Manager.Get]), reporting
// false when there is none. It panics if [Middleware] with m did not run
// before the handler.
func Get[T any](c fiber.Ctx, m *sealed.Manager[T]) (T, bool) {
	ctx := c.Context()
	v, ok := m.Get(ctx)
	if !ok {
		mustCarry(ctx, m, "Get")
	}
	return v, ok
}

// Info describes m's session in c (see [sealed.Manager.Info]), reporting
// false when there is none. It panics if [Middleware] with m did not run
// before the handler.
func Info[T any](c fiber.Ctx, m *sealed.Manager[T]) (sealed.SessionInfo, bool) {
	ctx := c.Context()
	info, ok := m.Info(ctx)
	if !ok {
		mustCarry(ctx, m, "Info")
	}
	return info, ok
}

// Put stores v as m's session in c (see [sealed.Manager.Put]); the cookie
// is sent with the response. It panics if [Middleware] with m did not run
// before the handler.
func Put[T any](c fiber.Ctx, m *sealed.Manager[T], v T) {
	m.Put(carrier(c, m, "Put"), v)
}

// Update calls f with a pointer to m's session in c, or to the zero T if
// there is none, and stores the result (see [sealed.Manager.Update]). It
// panics if [Middleware] with m did not run before the handler.
func Update[T any](c fiber.Ctx, m *sealed.Manager[T], f func(*T)) {
	m.Update(carrier(c, m, "Update"), f)
}

// Destroy ends m's session in c and expires its cookies (see
// [sealed.Manager.Destroy]). It panics if [Middleware] with m did not run
// before the handler.
func Destroy[T any](c fiber.Ctx, m *sealed.Manager[T]) {
	m.Destroy(carrier(c, m, "Destroy"))
}

// Renew re-issues m's session in c with a new absolute deadline; call it at
// login (see [sealed.Manager.Renew]). It panics if [Middleware] with m did
// not run before the handler.
func Renew[T any](c fiber.Ctx, m *sealed.Manager[T]) {
	m.Renew(carrier(c, m, "Renew"))
}

// Flash adds a one-time message for the next request that calls [Flashes]
// (see [sealed.Manager.Flash]). It panics if [Middleware] with m did not
// run before the handler.
func Flash[T any](c fiber.Ctx, m *sealed.Manager[T], msg string) {
	m.Flash(carrier(c, m, "Flash"), msg)
}

// Flashes returns and removes the pending flash messages of m's session in
// c, oldest first, or nil (see [sealed.Manager.Flashes]). It panics if
// [Middleware] with m did not run before the handler.
func Flashes[T any](c fiber.Ctx, m *sealed.Manager[T]) []string {
	ctx := c.Context()
	msgs := m.Flashes(ctx)
	if msgs == nil {
		mustCarry(ctx, m, "Flashes")
	}
	return msgs
}

// carrier returns c.Context() after checking that it carries m's
// session.
func carrier[T any](c fiber.Ctx, m *sealed.Manager[T], op string) context.Context {
	ctx := c.Context()
	mustCarry(ctx, m, op)
	return ctx
}

// mustCarry panics, naming the cause and the fix, if ctx does not carry m's
// session.
func mustCarry[T any](ctx context.Context, m *sealed.Manager[T], op string) {
	if !carries(ctx, m) {
		panic("sealedfiber." + op + ": no session of this Manager in c.Context(): " +
			"sealedfiber.Middleware(m) did not run before this handler. Call app.Use(sealedfiber.Middleware(m)) " +
			"before registering the route (Fiber runs handlers in the order they were added), with the same m " +
			"as passed here; and do not replace c.Context() (c.SetContext) with a context that does not derive from it.")
	}
}

// carries reports whether ctx carries m's session. When it cannot tell, it
// reports true and leaves the Manager to panic.
func carries[T any](ctx context.Context, m *sealed.Manager[T]) bool {
	key := probeKey(m)
	if key == nil || ctx.Value(key) != nil {
		return true
	}
	return !isKey(m, key) // not m's key: cannot tell
}

// sessionKey returns the key m looks its session up with in a context, or
// nil if it cannot be learned.
//
// The Manager does not export the key, so it is learned from the Manager
// itself: Info, given a context without a session, looks its key up in the
// context and does nothing else. The key is then checked against a context
// that does carry m's session.
func sessionKey[T any](m *sealed.Manager[T]) any {
	if key := probeKey(m); key != nil && isKey(m, key) {
		return key
	}
	return nil
}

// probeKey returns the first key m.Info looks up in a context without a
// session, or nil.
func probeKey[T any](m *sealed.Manager[T]) any {
	p := &keyProbe{Context: context.Background()}
	m.Info(p)
	return p.key
}

// isKey reports whether key finds m's session in a context that carries it.
func isKey[T any](m *sealed.Manager[T], key any) bool {
	s := m.LoadHeader(context.Background(), nil)
	return s.Value(key) == s
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
