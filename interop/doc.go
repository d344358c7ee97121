// Package interop holds cross-language tests: they check the JavaScript
// reference implementation of the sealed v1 format (js/sealed.mjs) against
// testdata/vectors.json and against values and session cookies Go writes,
// and check the JWE envelope (jwe.NewSealer) against Node's jose in
// both directions. The tests drive Node scripts in this directory; install
// their pinned dependencies with `npm ci --prefix interop` from the
// repository root. Without Node or the packages the tests skip, unless
// SEALED_INTEROP=1, when they fail. See README.md.
//
// The package has no API; it exists for its tests.
package interop
