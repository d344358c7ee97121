// Package itsdangerous implements the part of Python's itsdangerous
// TimestampSigner (HMAC-SHA1) that the compat packages share: the
// "payload.timestamp.signature" layout, its two key derivations and the
// max-age rule; and [Codec], what Flask's and Starlette's session codecs
// build on it alike (secrets, options, length bounds, the JSON object
// check). Errors wrap the sentinels of package sealed.
package itsdangerous

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sealedcookie/sealed"
)

// sigLen is the length of an unpadded base64url HMAC-SHA1 (20 bytes).
const sigLen = 27

// maxTSLen is the length of an unpadded base64url 8-byte timestamp.
const maxTSLen = 11

// DjangoConcatKey derives a signing key the way itsdangerous's
// "django-concat" derivation does: SHA1(salt + "signer" + secret).
func DjangoConcatKey(salt, secret string) []byte {
	h := sha1.New()
	h.Write([]byte(salt))
	h.Write([]byte("signer"))
	h.Write([]byte(secret))
	return h.Sum(nil)
}

// HMACKey derives a signing key the way itsdangerous's "hmac" derivation
// does: HMAC-SHA1(secret, salt).
func HMACKey(salt, secret string) []byte {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(salt))
	return m.Sum(nil)
}

// Signer signs and verifies itsdangerous timestamp-signed values.
type Signer struct {
	// Keys are derived signing keys. Keys[0] signs; every key verifies.
	Keys [][]byte
}

func (s *Signer) mac(key []byte, signed string) []byte {
	m := hmac.New(sha1.New, key)
	m.Write([]byte(signed))
	return m.Sum(nil)
}

// Sign returns payload + "." + ts + "." + sig for the Unix time ts (>= 0).
func (s *Signer) Sign(payload string, ts int64) (string, error) {
	if ts < 0 {
		return "", fmt.Errorf("itsdangerous: timestamp %d before 1970", ts)
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(ts))
	i := 0
	for i < len(b) && b[i] == 0 {
		i++
	}
	signed := payload + "." + base64.RawURLEncoding.EncodeToString(b[i:])
	return signed + "." + base64.RawURLEncoding.EncodeToString(s.mac(s.Keys[0], signed)), nil
}

// Unsign verifies value and returns its payload and signing time. Like
// itsdangerous it checks the signature first, then the timestamp, then the
// age: maxAge < 0 disables the age check; otherwise a value whose age in
// whole seconds exceeds maxAge, or is negative (signed in the future), is
// expired.
func (s *Signer) Unsign(value string, now time.Time, maxAge int64) (string, time.Time, error) {
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return "", time.Time{}, fmt.Errorf("%w: no signature", sealed.ErrMalformed)
	}
	signed, sigText := value[:i], value[i+1:]
	j := strings.LastIndexByte(signed, '.')
	if j < 0 {
		return "", time.Time{}, fmt.Errorf("%w: no timestamp", sealed.ErrMalformed)
	}
	payload, tsText := signed[:j], signed[j+1:]

	if len(sigText) != sigLen || !IsBase64URL(sigText) {
		return "", time.Time{}, fmt.Errorf("%w: signature is not 27 base64url characters", sealed.ErrMalformed)
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(sigText)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w: signature: non-canonical base64url", sealed.ErrMalformed)
	}
	ok := false
	for _, k := range s.Keys {
		if hmac.Equal(sig, s.mac(k, signed)) {
			ok = true
		}
	}
	if !ok {
		return "", time.Time{}, fmt.Errorf("%w: signature mismatch", sealed.ErrInvalid)
	}

	if len(tsText) > maxTSLen || !IsBase64URL(tsText) {
		return "", time.Time{}, fmt.Errorf("%w: bad timestamp", sealed.ErrMalformed)
	}
	tsb, err := base64.RawURLEncoding.Strict().DecodeString(tsText)
	if err != nil || len(tsb) > 8 {
		return "", time.Time{}, fmt.Errorf("%w: bad timestamp", sealed.ErrMalformed)
	}
	var u uint64
	for _, c := range tsb {
		u = u<<8 | uint64(c)
	}
	if u > math.MaxInt64 {
		return "", time.Time{}, fmt.Errorf("%w: timestamp out of range", sealed.ErrMalformed)
	}
	ts := int64(u)
	if maxAge >= 0 {
		age := now.Unix() - ts
		if age > maxAge {
			return "", time.Time{}, fmt.Errorf("%w: age %ds > %ds", sealed.ErrExpired, age, maxAge)
		}
		if age < 0 {
			return "", time.Time{}, fmt.Errorf("%w: signed %ds in the future", sealed.ErrExpired, -age)
		}
	}
	return payload, time.Unix(ts, 0).UTC(), nil
}

// IsBase64URL reports whether s holds only base64url alphabet characters
// (no padding). Go's decoders skip CR and LF, so callers check this first.
func IsBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// MaxAgeSeconds converts an Options.MaxAge to the whole seconds that
// Unsign takes: 0 selects def, a negative value disables the check (-1),
// and a positive value under one second is an error.
func MaxAgeSeconds(d, def time.Duration) (int64, error) {
	switch {
	case d == 0:
		d = def
	case d < 0:
		return -1, nil
	case d < time.Second:
		return 0, fmt.Errorf("MaxAge %v is under one second (itsdangerous counts whole seconds)", d)
	}
	return int64(d / time.Second), nil
}
