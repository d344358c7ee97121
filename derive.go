package sealed

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
)

// MinMasterLen is the shortest master secret [DeriveKey] accepts, in bytes.
const MinMasterLen = 32

// deriveLabel separates sealed's derived keys from any other use of the same
// master secret with HKDF. It is part of the derivation: changing it changes
// every derived key.
const deriveLabel = "github.com/sealedcookie/sealed derived key v1"

// DeriveKey derives an independent key for one purpose from a high-entropy
// master secret, so a single secret (one environment variable, one entry in
// a secret store) can serve several cookies without using one key for two
// of them. The purpose is typically the cookie name.
//
// The key's 32-byte secret is HKDF-SHA256 (RFC 5869) with
//
//	IKM  = master
//	salt = empty (HKDF then uses 32 zero bytes)
//	info = "github.com/sealedcookie/sealed derived key v1" || 0x00 || id || 0x00 || purpose
//	L    = 32
//
// where id and purpose are their bytes, without length prefixes: an ID
// cannot contain 0x00, so the encoding is unambiguous. Because the ID is in
// info, keys with different IDs are independent too; rotate by deriving a
// key with a new ID (from the same or a new master), then follow the usual
// three steps with [NewKeyRing]. Any HKDF-SHA256 implementation reproduces
// the secret; https://github.com/sealedcookie/sealed/blob/main/docs/ROTATION.md
// has a test vector.
//
// The master secret must be at least 32 bytes of uniformly random data, such
// as the output of "openssl rand 32" or a generated key's secret. DeriveKey
// rejects shorter secrets and, as a sanity check that cannot measure
// entropy, secrets of fewer than 8 distinct byte values: HKDF does not
// strengthen a password, so a guessable master gives guessable keys. The
// purpose must not be empty; the ID follows the rules of [NewKey].
func DeriveKey(master []byte, id, purpose string) (Key, error) {
	if err := checkKeyID(id); err != nil {
		return Key{}, err
	}
	if len(master) < MinMasterLen {
		return Key{}, fmt.Errorf("sealed: derive key %q: master secret is %d bytes, want at least %d random bytes (not a password)", id, len(master), MinMasterLen)
	}
	var seen [256]bool
	distinct := 0
	for _, b := range master {
		if !seen[b] {
			seen[b] = true
			distinct++
		}
	}
	if distinct < 8 {
		return Key{}, fmt.Errorf("sealed: derive key %q: master secret has only %d distinct byte values; it is not random", id, distinct)
	}
	if purpose == "" {
		return Key{}, fmt.Errorf("sealed: derive key %q: empty purpose (use the cookie name)", id)
	}
	secret, err := hkdf.Key(sha256.New, master, nil, deriveInfo(id, purpose), KeySize)
	if err != nil { // unreachable: 32 bytes is far below HKDF-SHA256's limit
		return Key{}, errors.New("sealed: derive key: HKDF failed")
	}
	defer clear(secret)
	return NewKey(id, secret)
}

func deriveInfo(id, purpose string) string {
	return deriveLabel + "\x00" + id + "\x00" + purpose
}
