// Package jwks reads and writes key rings as JSON Web Key Sets (RFC 7517)
// and serves a key file that reloads itself when it changes, which is how a
// fleet rotates keys without a restart
// (https://github.com/sealedcookie/sealed/blob/main/docs/ROTATION.md).
//
// A set holds symmetric keys, the first of which is the primary:
//
//	{"keys": [
//	  {"kty": "oct", "kid": "2025-06", "alg": "A256GCM", "k": "<32 bytes, base64url>"},
//	  {"kty": "oct", "kid": "2025-01", "alg": "XC20P", "k": "<32 bytes, base64url>"}
//	]}
//
// A key's "alg" declares its suite: "XC20P" (or no "alg") is
// XChaCha20-Poly1305, sealed's default; "A256GCM" is [sealed.AES256GCM], the
// suite for FIPS 140-3 deployments.
//
// The package is plain JSON and base64url: it needs no JOSE library.
package jwks

import (
	"bytes"
	"crypto/fips140"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/internal/secret"
)

// MaxLen bounds a JWKS document. A ring of a few 32-byte keys is well under
// a kilobyte; anything near this limit is not a key ring.
const MaxLen = 1 << 20

// Parse parses a key ring from a JSON Web Key Set.
//
// The FIRST key in "keys" is the primary: it seals new values. Every listed
// key opens values sealed with it, so order is the whole rotation state: to
// add a key without sealing with it, append it; to make it primary, move it
// to the front; to retire a key, delete it.
//
// Every key must be symmetric ("kty": "oct") with a "k" of exactly 32 bytes
// in base64url and a "kid" that is a valid key ID (see [sealed.NewKey]); IDs
// must be distinct. Member names are case-sensitive, as RFC 7517 says
// ("KID" is not "kid" but an unknown member, which is ignored); a member
// given twice in one object counts with its last value; null is the same as
// an absent member. "alg" names the key's suite: "XC20P" for
// [sealed.XChaCha20Poly1305], "A256GCM" for [sealed.AES256GCM]; an absent
// "alg", or "dir" (JWE's direct key agreement, which says nothing of the
// cipher), means XChaCha20Poly1305, as in files written before suites
// existed. A key whose "use" is present must say "enc". A set with no keys, or with any key that breaks these rules, is
// rejected as a whole rather than skipped: a half-loaded ring would log
// users out.
//
// Errors name a bad key by its position only, never by its kid or secret,
// which an operator may have swapped.
func Parse(data []byte) (*sealed.KeyRing, error) {
	if len(data) > MaxLen {
		return nil, fmt.Errorf("jwks: %d bytes, limit %d", len(data), MaxLen)
	}
	// Syntax errors from encoding/json quote the offending character, which
	// could be part of a secret; check syntax first and report only the
	// offset.
	if !json.Valid(data) {
		var serr *json.SyntaxError
		if err := json.Unmarshal(data, new(any)); errors.As(err, &serr) {
			return nil, fmt.Errorf("jwks: not valid JSON (syntax error at byte %d)", serr.Offset)
		}
		return nil, errors.New("jwks: not valid JSON")
	}
	var set map[string]json.RawMessage
	var list []json.RawMessage
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, errors.New(`jwks: want an object with a "keys" array`)
	}
	if raw, ok := set["keys"]; ok {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, errors.New(`jwks: want an object with a "keys" array`)
		}
	}
	if len(list) == 0 {
		return nil, errors.New(`jwks: no keys (the "keys" array is missing or empty)`)
	}
	keys := make([]sealed.Key, 0, len(list))
	for i, raw := range list {
		k, err := parseKey(raw)
		if err != nil {
			return nil, fmt.Errorf("jwks: key %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	for i, k := range keys {
		for j := range i {
			if keys[j].ID() == k.ID() {
				return nil, fmt.Errorf("jwks: key %d: same kid as key %d", i+1, j+1)
			}
		}
	}
	ring, err := sealed.NewKeyRing(keys[0], keys[1:]...)
	if err != nil { // two IDs that share a header identifier: rare, and both are IDs
		return nil, errors.New("jwks: two kids share a header identifier; rename one")
	}
	return ring, nil
}

// jwk is one key of a set, as Marshal writes it.
type jwk struct {
	Kty *string `json:"kty"`
	Kid *string `json:"kid"`
	Alg *string `json:"alg,omitempty"`
	Use *string `json:"use,omitempty"`
	K   *string `json:"k"`
}

// unmarshal reads the members of one key by their exact names. JWK member
// names are case-sensitive (RFC 7517, section 4), which encoding/json's
// struct decoding is not: it would read "KID" as "kid". A member given twice
// counts once, with its last value (which RFC 7517 allows, and what
// JSON.parse and Python's json do too); null is the same as absent.
func (j *jwk) unmarshal(raw json.RawMessage) error {
	shape := errors.New(`not a JWK object with string "kty", "kid", "alg", "use" and "k" members`)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return shape
	}
	for name, field := range map[string]**string{"kty": &j.Kty, "kid": &j.Kid, "alg": &j.Alg, "use": &j.Use, "k": &j.K} {
		v, ok := m[name]
		if !ok || string(v) == "null" {
			continue
		}
		*field = new(string)
		if err := json.Unmarshal(v, *field); err != nil {
			return shape
		}
	}
	return nil
}

// The "alg" values of the suites. There is no registered JOSE name for
// either construction; these are the names of their ciphers ("XC20P" from
// draft-amringer-jose-chacha), which is what an operator reading the file
// needs.
var algs = map[sealed.Suite]string{
	sealed.XChaCha20Poly1305: "XC20P",
	sealed.AES256GCM:         "A256GCM",
}

// suiteOf returns the suite a key's "alg" names.
func suiteOf(alg *string) (sealed.Suite, error) {
	if alg == nil || *alg == "dir" {
		return sealed.XChaCha20Poly1305, nil
	}
	for s, name := range algs {
		if *alg == name {
			return s, nil
		}
	}
	return 0, errors.New(`unsupported "alg"; want "XC20P" (XChaCha20-Poly1305) or "A256GCM" (AES-256-GCM, the FIPS suite)`)
}

// parseKey parses one key. Its errors name no value at all, not even the
// kid: an operator who swaps "kid" and "k" must not find the secret in a
// log. Parse names the key by its position.
func parseKey(raw json.RawMessage) (sealed.Key, error) {
	var j jwk
	if err := j.unmarshal(raw); err != nil {
		return sealed.Key{}, err
	}
	switch {
	case j.Kty == nil:
		return sealed.Key{}, errors.New(`missing "kty"; want "oct"`)
	case *j.Kty != "oct":
		return sealed.Key{}, errors.New(`unsupported "kty"; want "oct" (a symmetric key)`)
	case j.Kid == nil || *j.Kid == "":
		return sealed.Key{}, errors.New(`missing "kid": every key needs an ID`)
	case j.Use != nil && *j.Use != "enc":
		return sealed.Key{}, errors.New(`"use" must be "enc" or absent`)
	case j.K == nil || *j.K == "":
		return sealed.Key{}, errors.New(`missing "k" (the secret)`)
	}
	suite, err := suiteOf(j.Alg)
	if err != nil {
		return sealed.Key{}, err
	}
	b, err := secret.Decode(*j.K, sealed.KeySize)
	if err != nil {
		return sealed.Key{}, fmt.Errorf(`"k": %w`, err)
	}
	defer clear(b)
	if fips140.Enforced() && suite != sealed.AES256GCM {
		return sealed.Key{}, errors.New(`an XChaCha20-Poly1305 key ("alg" "XC20P" or absent) in FIPS 140-only mode (GODEBUG=fips140=only): use "A256GCM" keys (sealed keygen -suite fips)`)
	}
	k, err := sealed.NewSuiteKey(suite, *j.Kid, b)
	if err != nil { // its message would quote the kid
		return sealed.Key{}, errors.New(`"kid" must be 1 to 64 bytes of printable ASCII other than space, ',' and ':'`)
	}
	return k, nil
}

// Marshal returns r as a JSON Web Key Set that [Parse] reads back: one
// {"kty": "oct", "kid": ID, "alg": suite, "use": "enc", "k": secret} member
// per key,
// primary first, indented, with a trailing newline. The result contains the
// secrets: write it only where the keys belong (mode 0600 files, secret
// stores).
func Marshal(r *sealed.KeyRing) ([]byte, error) {
	if r == nil {
		return nil, errors.New("jwks: nil key ring")
	}
	keys := r.Keys()
	if len(keys) == 0 {
		return nil, errors.New("jwks: empty key ring")
	}
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, len(keys))}
	oct, use := "oct", "enc"
	for i, k := range keys {
		b := secret.Bytes(k)
		text := secret.Encode(b)
		clear(b)
		id := k.ID()
		alg := algs[k.Suite()]
		set.Keys[i] = jwk{Kty: &oct, Kid: &id, Alg: &alg, Use: &use, K: &text}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(set); err != nil {
		return nil, errors.New("jwks: encoding failed")
	}
	return out.Bytes(), nil
}
