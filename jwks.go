package sealed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// maxJWKSLen bounds a JWKS document. A ring of a few 32-byte keys is well
// under a kilobyte; anything near this limit is not a key ring.
const maxJWKSLen = 1 << 20

// ParseJWKS parses a key ring from a JSON Web Key Set (RFC 7517):
//
//	{"keys": [
//	  {"kty": "oct", "kid": "2025-06", "k": "<32 bytes, base64url>"},
//	  {"kty": "oct", "kid": "2025-01", "k": "<32 bytes, base64url>"}
//	]}
//
// The FIRST key in "keys" is the primary: it seals new values. Every listed
// key opens values sealed with it, so order is the whole rotation state: to
// add a key without sealing with it, append it; to make it primary, move it
// to the front; to retire a key, delete it.
//
// Every key must be symmetric ("kty": "oct") with a "k" of exactly 32 bytes
// and a "kid" that is a valid key ID (see [NewKey]); IDs must be distinct.
// "alg" is ignored; a key whose "use" is present must say "enc". A set with no
// keys, or with any key that breaks these rules, is rejected as a whole
// rather than skipped: a half-loaded ring would log users out. Errors name
// a bad key by its position only, never by its kid or secret, which an
// operator may have swapped.
func ParseJWKS(data []byte) (*KeyRing, error) {
	if len(data) > maxJWKSLen {
		return nil, fmt.Errorf("sealed: JWKS: %d bytes, limit %d", len(data), maxJWKSLen)
	}
	// Syntax errors from encoding/json quote the offending character, which
	// could be part of a secret; check syntax first and report only the
	// offset.
	if !json.Valid(data) {
		var serr *json.SyntaxError
		if err := json.Unmarshal(data, new(any)); errors.As(err, &serr) {
			return nil, fmt.Errorf("sealed: JWKS: not valid JSON (syntax error at byte %d)", serr.Offset)
		}
		return nil, errors.New("sealed: JWKS: not valid JSON")
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, errors.New(`sealed: JWKS: want an object with a "keys" array`)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New(`sealed: JWKS: no keys (the "keys" array is missing or empty)`)
	}
	keys := make([]Key, 0, len(set.Keys))
	for i, raw := range set.Keys {
		k, err := parseJWK(raw)
		if err != nil {
			return nil, fmt.Errorf("sealed: JWKS: key %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	return newParsedRing("JWKS: key", keys)
}

// parseJWK parses one key. Its errors are built here and name no value at
// all, not even the kid: an operator who swaps "kid" and "k" must not find
// the secret in a log. ParseJWKS names the key by its position.
func parseJWK(raw json.RawMessage) (Key, error) {
	var hdr struct {
		Kty *string `json:"kty"`
		Kid *string `json:"kid"`
		Use *string `json:"use"`
		K   *string `json:"k"`
	}
	if err := json.Unmarshal(raw, &hdr); err != nil {
		return Key{}, errors.New(`not a JWK object with string "kty", "kid", "use" and "k" members`)
	}
	switch {
	case hdr.Kty == nil:
		return Key{}, errors.New(`missing "kty"; want "oct"`)
	case *hdr.Kty != "oct":
		return Key{}, errors.New(`unsupported "kty"; want "oct" (a symmetric key)`)
	case hdr.Kid == nil || *hdr.Kid == "":
		return Key{}, errors.New(`missing "kid": every key needs an ID`)
	case checkKeyID(*hdr.Kid) != nil:
		return Key{}, fmt.Errorf(`"kid" must be 1 to %d bytes of printable ASCII other than space, ',' and ':'`, maxKeyIDLen)
	case hdr.Use != nil && *hdr.Use != "enc":
		return Key{}, errors.New(`"use" must be "enc" or absent`)
	case hdr.K == nil || *hdr.K == "":
		return Key{}, errors.New(`missing "k" (the secret)`)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return Key{}, errors.New(`"k" is not valid unpadded base64url`)
	}
	secret, ok := jwk.Key.([]byte)
	if !ok { // unreachable: kty was checked above
		return Key{}, errors.New("not a symmetric key")
	}
	defer clear(secret)
	if len(secret) != KeySize {
		return Key{}, fmt.Errorf(`"k" is %d bytes, want %d`, len(secret), KeySize)
	}
	k, err := NewKey(*hdr.Kid, secret)
	if err != nil { // unreachable: the ID and length are checked above
		return Key{}, errors.New("invalid key")
	}
	return k, nil
}

// MarshalJWKS returns r as a JSON Web Key Set that [ParseJWKS] reads back:
// one {"kty": "oct", "kid": ID, "k": secret} member per key, primary first,
// indented, with a trailing newline. The result contains the secrets: write
// it only where the keys belong (mode 0600 files, secret stores).
func MarshalJWKS(r *KeyRing) ([]byte, error) {
	if r == nil || len(r.keys) == 0 {
		return nil, errors.New("sealed: JWKS: empty key ring")
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, len(r.keys))}
	var secrets [][]byte
	defer func() {
		for _, s := range secrets {
			clear(s)
		}
	}()
	for i, k := range r.keys {
		s := k.secretBytes()
		secrets = append(secrets, s)
		set.Keys[i] = jose.JSONWebKey{Key: s, KeyID: k.ID(), Use: "enc"}
	}
	out, err := json.Marshal(set)
	if err != nil {
		return nil, errors.New("sealed: JWKS: encoding failed")
	}
	var b bytes.Buffer
	if err := json.Indent(&b, out, "", "  "); err != nil {
		return nil, errors.New("sealed: JWKS: encoding failed")
	}
	clear(out)
	b.WriteByte('\n')
	return b.Bytes(), nil
}
