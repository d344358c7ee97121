// Package secret gives this module's packages what they need of a key's
// secret, which package sealed exposes through no exported getter: a copy of
// the bytes (for writing a key file, or keying another cipher such as JWE's
// AES-GCM), and the text encoding key files use.
//
// Package sealed installs the accessor when it initializes; nothing outside
// this module can import this package, so the secret stays unreachable from
// the public API.
package secret

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// bytesOf is package sealed's accessor, installed by Install.
var bytesOf func(key any) []byte

// Install records package sealed's accessor. Package sealed calls it once,
// from init; nothing else may.
func Install(f func(key any) []byte) { bytesOf = f }

// Bytes returns a copy of the secret of key, a sealed.Key, or nil for the
// zero Key. Clear the copy when done with it.
func Bytes(key any) []byte { return bytesOf(key) }

// Decode decodes the text form of a secret of size bytes: base64url,
// unpadded or padded, with no line breaks and no non-zero trailing bits.
// Its errors never quote the text: the text is a secret.
func Decode(s string, size int) ([]byte, error) {
	enc := base64.RawURLEncoding
	if strings.HasSuffix(s, "=") {
		enc = base64.URLEncoding
	}
	raw, err := enc.Strict().DecodeString(s)
	if err != nil || strings.ContainsAny(s, "\r\n") { // the decoder skips line breaks
		clear(raw)
		return nil, errors.New("not valid base64url")
	}
	if len(raw) != size {
		clear(raw)
		return nil, fmt.Errorf("%d bytes, want %d", len(raw), size)
	}
	return raw, nil
}

// Encode returns the text form of a secret: unpadded base64url.
func Encode(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
