package sealed

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// A JWESealer seals and opens values as compact JWE (RFC 7516) instead of the
// sealed v1 format, so services in other languages can read sessions with any
// standard JOSE library. It has the same methods as [Sealer] and reports the
// same errors.
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
type JWESealer struct {
	// MaxLen bounds the length of a value in characters, checked before
	// parsing on Open and after sealing on Seal. NewJWESealer sets it to
	// DefaultMaxLen; zero or negative means DefaultMaxLen too.
	MaxLen int
	// Now returns the current time for expiry checks; nil means time.Now.
	Now func() time.Time
	// Skew is how long past its expiry a value still opens; default zero.
	Skew time.Duration

	keys KeySource
}

// NewJWESealer returns a JWESealer that seals with the primary key of keys
// and opens with any key in the ring.
func NewJWESealer(keys KeySource) *JWESealer {
	if keys == nil {
		panic("sealed: NewJWESealer with nil KeySource")
	}
	return &JWESealer{MaxLen: DefaultMaxLen, Now: time.Now, keys: keys}
}

// JWE header parameters beyond RFC 7516's.
const (
	jweHeaderExp    jose.HeaderKey = "exp"
	jweHeaderCookie jose.HeaderKey = "cookie"
)

func (s *JWESealer) maxLen() int {
	if s.MaxLen <= 0 {
		return DefaultMaxLen
	}
	return s.MaxLen
}

// Seal encrypts plaintext for the cookie called name until expires (whole
// seconds) with the primary key, and returns a compact JWE.
func (s *JWESealer) Seal(name string, plaintext []byte, expires time.Time) (string, error) {
	if expires.IsZero() {
		return "", errors.New("sealed: seal: zero expiry (every value needs one)")
	}
	key := s.keys.Current().Primary()
	secret := key.secretBytes()
	defer clear(secret)
	opts := (&jose.EncrypterOptions{}).
		WithHeader(jweHeaderExp, expires.Unix()).
		WithHeader(jweHeaderCookie, name)
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: secret, KeyID: key.ID()}, opts)
	if err != nil {
		return "", fmt.Errorf("sealed: jwe: %w", err)
	}
	obj, err := enc.Encrypt(plaintext)
	if err != nil {
		return "", fmt.Errorf("sealed: jwe: %w", err)
	}
	v, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("sealed: jwe: %w", err)
	}
	if max := s.maxLen(); len(v) > max {
		return "", fmt.Errorf("%w: %d bytes of plaintext seal to a %d-character JWE, limit %d", ErrTooLarge, len(plaintext), len(v), max)
	}
	return v, nil
}

// Open decrypts a compact JWE sealed for the cookie called name. Errors wrap
// the same sentinels as [Sealer.Open]: ErrTooLarge, ErrMalformed (not a
// compact JWE with dir/A256GCM, a part that is not canonical unpadded
// base64url, or missing parameters), ErrUnknownKey,
// ErrInvalid (authentication failed, or sealed for another cookie), and
// ErrExpired (with Info describing the value).
func (s *JWESealer) Open(name, value string) ([]byte, Info, error) {
	if max := s.maxLen(); len(value) > max {
		return nil, Info{}, fmt.Errorf("%w: value is %d characters, limit %d", ErrTooLarge, len(value), max)
	}
	// Compact form only: five base64url parts, no JSON serialization.
	if strings.Count(value, ".") != 4 {
		return nil, Info{}, fmt.Errorf("%w: not a compact JWE", ErrMalformed)
	}
	// Each part canonical, as in a v1 value, so that a value has exactly one
	// spelling: go-jose decodes leniently (unused bits set) and re-encodes
	// the protected header for the AAD, so aliases would authenticate.
	for rest, i := value, 0; i < 5; i++ {
		part, after, _ := strings.Cut(rest, ".")
		if !canonicalBase64URL(part) {
			return nil, Info{}, fmt.Errorf("%w: JWE part %d is not canonical unpadded base64url", ErrMalformed, i+1)
		}
		rest = after
	}
	obj, err := jose.ParseEncryptedCompact(value, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return nil, Info{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	kid := obj.Header.KeyID
	exp, ok := jweInt(obj.Header.ExtraHeaders[jweHeaderExp])
	cookie, _ := obj.Header.ExtraHeaders[jweHeaderCookie].(string)
	if kid == "" || !ok {
		return nil, Info{}, fmt.Errorf("%w: JWE header lacks kid or exp", ErrMalformed)
	}
	ring := s.keys.Current()
	var key Key
	primary := false
	for i, k := range ring.keys {
		if k.ID() == kid {
			key, primary = k, i == 0
			break
		}
	}
	if key.k == nil {
		return nil, Info{}, fmt.Errorf("%w: key ID %q is not in the ring", ErrUnknownKey, kid)
	}
	secret := key.secretBytes()
	defer clear(secret)
	pt, err := obj.Decrypt(secret)
	if err != nil {
		return nil, Info{}, fmt.Errorf("%w: authentication failed (tampered, or another secret for key %q)", ErrInvalid, kid)
	}
	// The header is authenticated, so a mismatched name is a value moved
	// from another cookie: the same class as a failed authentication.
	if cookie != name {
		return nil, Info{}, fmt.Errorf("%w: sealed for another cookie", ErrInvalid)
	}
	info := Info{KeyID: kid, Expires: time.Unix(exp, 0), Stale: !primary}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if !now().Before(info.Expires.Add(s.Skew)) {
		clear(pt)
		return nil, info, fmt.Errorf("%w at %s", ErrExpired, info.Expires.UTC().Format(time.RFC3339))
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
