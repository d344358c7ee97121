// Package interop holds cross-language tests: they check the TypeScript
// package (js/, @sealedcookie/sealed) and the Python package (python/,
// sealed_session) against testdata/vectors.json, vectors-v2.json and
// middleware-vectors.json, against values and session cookies Go writes and
// Go against theirs, and check the JWE envelope (jwe.NewSealer) against
// Node's jose in both directions. The tests drive small drivers in this
// directory (sealedjs.mjs, sealedpy.py); install the Node dependencies with
// `npm ci --prefix interop` from the repository root. Without Node, Python
// or their packages the tests skip, unless SEALED_INTEROP=1, when they
// fail. See README.md.
//
// The package has no API; it exists for its tests.
package interop
