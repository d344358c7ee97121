// Package jwe seals and opens session values as compact JWE (RFC 7516)
// instead of the sealed v1 format, so that services in other languages can
// read sessions with any standard JOSE library.
//
// It lives apart from package sealed so that only programs that use JWE link
// a JOSE implementation (github.com/go-jose/go-jose/v4).
package jwe

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/internal/secret"
)

// A Sealer seals and opens values as compact JWE. Like [sealed.Sealer] it
// is a [sealed.Envelope]: its Seal and Open have the same signatures and
// report the same errors, so [sealed.NewTyped] works over either.
//
// Each value is a compact JWE with "alg":"dir" and "enc":"A256GCM", keyed by
// a key's 32-byte secret used directly as the AES-256 key. Its protected
// header, which AES-GCM authenticates, carries:
//
//	"kid":    the key ID (the opener finds the key by it; no trial decryption)
//	"exp":    the expiry, Unix seconds (checked after decryption)
//	"cookie": the cookie name the value was sealed for
//
// A reader in another language MUST check "exp" and "cookie" itself after
// decrypting: JOSE libraries do not know them. For example with Node's jose:
//
//	const { plaintext, protectedHeader } = await compactDecrypt(value, key)
//	if (protectedHeader.cookie !== 'session' || protectedHeader.exp <= Date.now() / 1000) reject()
//
// JWE values are about a third longer than v1 values and slower to open; use
// them when another service must read the session. Use a key ring for JWE
// only: don't seal with the same keys in both formats.
type Sealer struct {
	// MaxLen bounds the length of a value in characters, checked before
	// parsing on Open and after sealing on Seal. NewSealer sets it to
	// sealed.DefaultMaxLen; zero or negative means sealed.DefaultMaxLen too.
	MaxLen int
	// Now returns the current time for expiry checks; nil means time.Now.
	Now func() time.Time
	// ClockSkew is how long past its expiry a value still opens, to absorb
	// clock differences between the servers that seal and those that open.
	// The default is zero: no grace.
	ClockSkew time.Duration

	keys sealed.KeySource
}

// NewSealer returns a Sealer that seals with the primary key of keys and
// opens with any key in the ring.
func NewSealer(keys sealed.KeySource) *Sealer {
	if keys == nil {
		panic("jwe: NewSealer with nil KeySource")
	}
	return &Sealer{MaxLen: sealed.DefaultMaxLen, Now: time.Now, keys: keys}
}

var _ sealed.Envelope = (*Sealer)(nil)

// JWE header parameters beyond RFC 7516's.
const (
	jweHeaderExp    jose.HeaderKey = "exp"
	jweHeaderCookie jose.HeaderKey = "cookie"
)

func (s *Sealer) maxLen() int {
	if s.MaxLen <= 0 {
		return sealed.DefaultMaxLen
	}
	return s.MaxLen
}

// Seal encrypts plaintext for the cookie called name until expires (whole
// seconds) with the primary key, and returns a compact JWE.
func (s *Sealer) Seal(name string, plaintext []byte, expires time.Time) (string, error) {
	if expires.IsZero() {
		return "", errors.New("jwe: seal: zero expiry (every value needs one)")
	}
	key := s.keys.Current().Primary()
	cek := secret.Bytes(key)
	defer clear(cek)
	opts := (&jose.EncrypterOptions{}).
		WithHeader(jweHeaderExp, expires.Unix()).
		WithHeader(jweHeaderCookie, name)
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: cek, KeyID: key.ID()}, opts)
	if err != nil {
		return "", fmt.Errorf("jwe: %w", err)
	}
	obj, err := enc.Encrypt(plaintext)
	if err != nil {
		return "", fmt.Errorf("jwe: %w", err)
	}
	v, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("jwe: %w", err)
	}
	if max := s.maxLen(); len(v) > max {
		return "", fmt.Errorf("%w: %d bytes of plaintext seal to a %d-character JWE, limit %d", sealed.ErrTooLarge, len(plaintext), len(v), max)
	}
	return v, nil
}

// Open decrypts a compact JWE sealed for the cookie called name. Errors wrap
// the same sentinels as [Sealer.Open]: sealed.ErrTooLarge, sealed.ErrMalformed (not a
// compact JWE with dir/A256GCM, a part that is not canonical unpadded
// base64url, or missing parameters), sealed.ErrUnknownKey,
// sealed.ErrInvalid (authentication failed, or sealed for another cookie), and
// sealed.ErrExpired (with Info describing the value).
func (s *Sealer) Open(name, value string) ([]byte, sealed.Info, error) {
	if max := s.maxLen(); len(value) > max {
		return nil, sealed.Info{}, fmt.Errorf("%w: value is %d characters, limit %d", sealed.ErrTooLarge, len(value), max)
	}
	// Compact form only: five base64url parts, no JSON serialization.
	if strings.Count(value, ".") != 4 {
		return nil, sealed.Info{}, fmt.Errorf("%w: not a compact JWE", sealed.ErrMalformed)
	}
	// Each part canonical, as in a v1 value, so that a value has exactly one
	// spelling: go-jose decodes leniently (unused bits set) and re-encodes
	// the protected header for the AAD, so aliases would authenticate.
	for rest, i := value, 0; i < 5; i++ {
		part, after, _ := strings.Cut(rest, ".")
		if !canonicalBase64URL(part) {
			return nil, sealed.Info{}, fmt.Errorf("%w: JWE part %d is not canonical unpadded base64url", sealed.ErrMalformed, i+1)
		}
		rest = after
	}
	obj, err := jose.ParseEncryptedCompact(value, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return nil, sealed.Info{}, fmt.Errorf("%w: %v", sealed.ErrMalformed, err)
	}
	kid := obj.Header.KeyID
	exp, ok := jweInt(obj.Header.ExtraHeaders[jweHeaderExp])
	cookie, _ := obj.Header.ExtraHeaders[jweHeaderCookie].(string)
	if kid == "" || !ok {
		return nil, sealed.Info{}, fmt.Errorf("%w: JWE header lacks kid or exp", sealed.ErrMalformed)
	}
	ring := s.keys.Current()
	var key sealed.Key
	primary := false
	for i, k := range ring.Keys() {
		if k.ID() == kid {
			key, primary = k, i == 0
			break
		}
	}
	if key.ID() == "" {
		return nil, sealed.Info{}, fmt.Errorf("%w: key ID %q is not in the ring", sealed.ErrUnknownKey, kid)
	}
	cek := secret.Bytes(key)
	defer clear(cek)
	pt, err := obj.Decrypt(cek)
	if err != nil {
		return nil, sealed.Info{}, fmt.Errorf("%w: authentication failed (tampered, or another secret for key %q)", sealed.ErrInvalid, kid)
	}
	// The header is authenticated, so a mismatched name is a value moved
	// from another cookie: the same class as a failed authentication.
	if cookie != name {
		return nil, sealed.Info{}, fmt.Errorf("%w: sealed for another cookie", sealed.ErrInvalid)
	}
	info := sealed.Info{KeyID: kid, Expires: time.Unix(exp, 0), Stale: !primary}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if !now().Before(info.Expires.Add(s.ClockSkew)) {
		clear(pt)
		return nil, info, fmt.Errorf("%w at %s", sealed.ErrExpired, info.Expires.UTC().Format(time.RFC3339))
	}
	return pt, info, nil
}

// canonicalBase64URL reports whether s is canonical unpadded base64url
// (docs/FORMAT.md, "Opening", step 3): only the 64 characters of the URL
// alphabet (no padding, whitespace, CR or LF), a length not 1 mod 4, and
// zero unused bits in the last character. The empty string is canonical.
func canonicalBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		if base64URLValue(s[i]) < 0 {
			return false
		}
	}
	switch len(s) % 4 {
	case 1:
		return false
	case 2: // one byte in the last group: 4 unused bits
		return base64URLValue(s[len(s)-1])&0x0f == 0
	case 3: // two bytes: 2 unused bits
		return base64URLValue(s[len(s)-1])&0x03 == 0
	}
	return true
}

// base64URLValue is the 6-bit value of a base64url character, or -1.
func base64URLValue(c byte) int {
	switch {
	case 'A' <= c && c <= 'Z':
		return int(c - 'A')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 26
	case '0' <= c && c <= '9':
		return int(c-'0') + 52
	case c == '-':
		return 62
	case c == '_':
		return 63
	}
	return -1
}

// jweInt reads a JSON number header parameter as a whole int64.
func jweInt(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		if n != float64(int64(n)) {
			return 0, false
		}
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}
