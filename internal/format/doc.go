// Package format holds the byte layouts of sealed's specifications, section
// by section, so that each layout is written in one place:
//
//   - docs/FORMAT-middleware.md, "Payload, version 1": the plaintext a
//     Manager seals ([AppendPayload], [ParsePayload]);
//   - docs/FORMAT-middleware.md, "Cookies and chunks": how a sealed value is
//     split into cookies and read back ([Layout], [Cookies]).
//
// It knows nothing of keys or encryption, and it reports malformed input
// with plain errors that the sealed package wraps in its sentinels.
package format
