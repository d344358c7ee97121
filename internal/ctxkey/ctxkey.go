// Package ctxkey gives this module's framework adapters the key a
// sealed.Manager stores its session under in a context, which package
// sealed does not export: Fiber's fiber.Ctx is a context.Context whose Value
// answers from its own store, so the adapter puts the session there too.
//
// Package sealed installs the accessor when it initializes. The adapters
// are nested modules under this module's path, so they may import it; it is
// not part of the public API.
package ctxkey

// of is package sealed's accessor, installed by Install.
var of func(m any) any

// Install records package sealed's accessor. Package sealed calls it once,
// from init; nothing else may.
func Install(f func(m any) any) { of = f }

// Of returns the context key of m, a *sealed.Manager[T].
func Of(m any) any { return of(m) }
