// Package starlette reads and writes the session cookies of Starlette's
// SessionMiddleware (and so of FastAPI, which re-exports it), so that a Go
// service can take over or share a Starlette session.
//
// # Format
//
// A Starlette session cookie is the session dict as JSON (Python's
// json.dumps defaults: ", " and ": " separators, non-ASCII escaped), encoded
// as padded standard base64, then signed by itsdangerous's TimestampSigner:
//
//	base64std(json) "." base64url(timestamp) "." base64url(HMAC-SHA1(key, base64std(json) "." base64url(timestamp)))
//
// where key = SHA1("itsdangerous.Signer" + "signer" + secret_key), the
// timestamp is the signing time in whole Unix seconds as big-endian bytes
// with leading zero bytes dropped, and base64url is unpadded. The middleware
// rejects a cookie whose timestamp is more than max_age seconds old (14 days
// by default) or in the future, unless max_age is None.
//
// [Codec.Open] is stricter than itsdangerous in what it parses, never in what
// it trusts: it takes only the canonical base64 that the middleware writes (itsdangerous
// also skips stray characters), JSON nested at most 500 deep, and no NaN or
// Infinity.
//
// # What it protects
//
// The cookie is SIGNED, NOT ENCRYPTED: anyone who holds it can base64-decode
// the payload and read the whole session. The signature only stops a client
// from forging or altering a session without the secret key, and the
// timestamp only bounds how long a copied cookie stays valid; nothing revokes
// a cookie earlier. Keep secrets out of such sessions.
//
// # Use
//
// Create a [Codec] with the application's secret_key and the same max_age
// (see [Options]); [Codec.Open] verifies a cookie value and returns the
// session as a JSON object, and [Codec.Seal] signs a JSON object into a
// cookie value that SessionMiddleware accepts. Errors wrap the sentinels of
// package sealed ([sealed.ErrMalformed], [sealed.ErrInvalid],
// [sealed.ErrExpired], [sealed.ErrTooLarge]); test them with errors.Is.
// Each one means there is no valid session, as the middleware itself
// treats a bad cookie as an empty session.
package starlette

import (
	"encoding/base64"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/internal/itsdangerous"
	"github.com/sealedcookie/sealed/compat/internal/pyjson"
)

// DefaultMaxAge is SessionMiddleware's default max_age: 14 days.
const DefaultMaxAge = 14 * 24 * time.Hour

// DefaultMaxLen is the default bound on a cookie value's length: the usual
// browser limit for one cookie.
const DefaultMaxLen = 4096

// DefaultCookieName is SessionMiddleware's default session_cookie.
const DefaultCookieName = "session"

// The errors of Open and Seal wrap these sentinels of package sealed (the
// package documentation links to them).
var _ = []error{sealed.ErrMalformed, sealed.ErrInvalid, sealed.ErrExpired, sealed.ErrTooLarge}

// salt is itsdangerous's default Signer salt, which Starlette does not change.
const salt = "itsdangerous.Signer"

// Options configures a [Codec]. The zero value matches SessionMiddleware's
// defaults.
type Options struct {
	// MaxAge is the middleware's max_age. Zero means DefaultMaxAge (14
	// days); a negative value means no age check (max_age=None). It is
	// counted in whole seconds, so a positive value under one second is an
	// error.
	MaxAge time.Duration

	// Now returns the current time, for the age check and for Seal's
	// timestamp. Nil means time.Now.
	Now func() time.Time

	// MaxLen bounds the length of a cookie value: Open rejects a longer
	// one before decoding anything and Seal refuses to produce one. Zero
	// means DefaultMaxLen; negative is an error.
	MaxLen int
}

// Codec opens and seals Starlette session cookie values. It is safe for
// concurrent use.
type Codec struct {
	core *itsdangerous.Codec // what Flask and Starlette share
}

// New returns a Codec for the Starlette secret_key secret, which must not be
// empty.
func New(secret string, opts Options) (*Codec, error) {
	derive := func(s string) []byte { return itsdangerous.DjangoConcatKey(salt, s) }
	c, err := itsdangerous.NewCodec("starlette", derive, []string{secret}, itsdangerous.Options(opts), DefaultMaxAge, DefaultMaxLen)
	if err != nil {
		return nil, err
	}
	return &Codec{c}, nil
}

// Open verifies a session cookie value and returns the session as a compact
// JSON object (keys in the cookie's order, a repeated key keeping its last
// value as in Python) and the time it was signed. A value longer than
// MaxLen fails with sealed.ErrTooLarge before any decoding; a bad signature
// with sealed.ErrInvalid; a value too old or signed in the future with
// sealed.ErrExpired; anything else that is not a signed JSON object
// (including the "null" value the middleware sets to clear a session, and
// JSON using Python's NaN or Infinity) with sealed.ErrMalformed.
func (c *Codec) Open(value string) (payload []byte, issued time.Time, err error) {
	data, issued, err := c.core.Unsign(value)
	if err != nil {
		return nil, time.Time{}, err
	}
	if !isBase64Std(data) {
		return nil, time.Time{}, c.core.Malformed("payload is not base64")
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(data)
	if err != nil {
		return nil, time.Time{}, c.core.Malformed("payload is not base64")
	}
	v, err := c.core.ParseObject(raw)
	if err != nil {
		return nil, time.Time{}, err
	}
	return v.Append(nil, pyjson.Style{ItemSep: ",", KeySep: ":"}), issued, nil
}

// Seal signs payload, which must be a JSON object, into a session cookie
// value with the current time as its timestamp. It writes the JSON as
// Starlette's json.dumps would (keys in the given order, a repeated key
// keeping its first position and last value, ", " and ": " separators,
// non-ASCII escaped; numbers keep their text), so that for the same session
// and second the value is byte for byte the one SessionMiddleware sets. A
// payload that is not a JSON object fails with sealed.ErrMalformed, and a
// value that would exceed MaxLen with sealed.ErrTooLarge.
func (c *Codec) Seal(payload []byte) (string, error) {
	v, err := c.core.ParseObject(payload)
	if err != nil {
		return "", err
	}
	js := v.Append(nil, pyjson.Style{ItemSep: ", ", KeySep: ": ", ASCII: true})
	return c.core.Sign(base64.StdEncoding.EncodeToString(js))
}

// isBase64Std reports whether s holds only standard base64 characters and
// padding (Go's decoder would skip CR and LF).
func isBase64Std(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}
