package sealed

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/fips140"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/sealedcookie/sealed/internal/format"
)

// A Suite is the authenticated encryption a key seals with. Each key
// declares its suite; a sealed value's version byte says which suite sealed
// it, so a ring may hold keys of both while it moves from one to the other.
type Suite uint8

const (
	// XChaCha20Poly1305 is the default suite: version 1 values
	// (https://github.com/sealedcookie/sealed/blob/main/docs/FORMAT.md).
	XChaCha20Poly1305 Suite = 1

	// AES256GCM is the suite for FIPS 140-3 deployments (Go's
	// GODEBUG=fips140=only): version 2 values, sealed with AES-256-GCM under
	// a key derived for each value with HKDF-SHA256 from the key's secret
	// and 16 random bytes, with a random 96-bit nonce
	// (cipher.NewGCMWithRandomNonce). A key seals 2^48 values with a
	// collision probability under 2^-32; see docs/SECURITY.md. Values are 4
	// bytes longer than version 1 values, and sealing or opening one costs
	// a key derivation.
	AES256GCM Suite = 2
)

// String returns the suite's name: "xchacha20poly1305" or "aes256gcm".
func (s Suite) String() string {
	switch s {
	case XChaCha20Poly1305:
		return "xchacha20poly1305"
	case AES256GCM:
		return "aes256gcm"
	}
	return fmt.Sprintf("Suite(%d)", uint8(s))
}

// suiteByName returns the suite called name (String's form), for
// ParseKeyRing.
func suiteByName(name string) (Suite, bool) {
	for _, s := range []Suite{XChaCha20Poly1305, AES256GCM} {
		if s.String() == name {
			return s, true
		}
	}
	return 0, false
}

// errFIPSOnly reports a key of a suite that Go's FIPS 140-only mode
// forbids, when the key is made, rather than a panic in a request.
var errFIPSOnly = errors.New("XChaCha20-Poly1305 is not allowed in FIPS 140-only mode (GODEBUG=fips140=only): use AES256GCM keys (sealed keygen -suite fips)")

// newSuiteAEAD returns the AEAD a key of suite s keeps for its lifetime:
// XChaCha20-Poly1305 keyed with the secret; nil for AES256GCM, which keys
// each value afresh.
func newSuiteAEAD(s Suite, secret []byte) (cipher.AEAD, error) {
	switch s {
	case XChaCha20Poly1305:
		if fips140.Enforced() {
			return nil, errFIPSOnly
		}
		return newXChaCha(secret)
	case AES256GCM:
		return nil, nil
	}
	return nil, fmt.Errorf("unknown suite %d", uint8(s))
}

// valueAEAD returns the AEAD that seals or opens one version 2 value of
// key: AES-256-GCM under the key HKDF-SHA256 derives from key's secret and
// the value's salt (docs/FORMAT.md, "Version 2"), with a random nonce
// prepended to the ciphertext (cipher.NewGCMWithRandomNonce). Sealers that
// make test vectors take the nonce from their test source instead.
func (s *Sealer) valueAEAD(key *keyData, salt []byte) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, key.secret[:], salt, format.V2Info, KeySize)
	if err != nil {
		return nil, err
	}
	defer clear(k)
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	if s.rand != nil {
		gcm, err := cipher.NewGCM(block)
		return &prefixNonce{AEAD: gcm, s: s}, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// prefixNonce is AES-GCM that prepends its nonce to the ciphertext, like
// cipher.NewGCMWithRandomNonce, with the nonce from a Sealer's test source:
// it makes version 2 test vectors. Tests only: it is used when Sealer.rand
// is set.
type prefixNonce struct {
	cipher.AEAD
	s *Sealer
}

func (p *prefixNonce) Seal(dst, _, plaintext, ad []byte) []byte {
	nonce := make([]byte, format.GCMNonceLen)
	p.s.random(nonce)
	return p.AEAD.Seal(append(dst, nonce...), nonce, plaintext, ad)
}

func (p *prefixNonce) Open(dst, _, ciphertext, ad []byte) ([]byte, error) {
	if len(ciphertext) < format.GCMNonceLen {
		return nil, errors.New("short")
	}
	nonce := bytes.Clone(ciphertext[:format.GCMNonceLen])
	ct := ciphertext[format.GCMNonceLen:]
	if len(dst) == 0 && cap(dst) > 0 && &dst[:1][0] == &ciphertext[0] {
		// In place, as cipher.NewGCMWithRandomNonce allows: move the
		// ciphertext to where the nonce was.
		copy(ciphertext, ct)
		ct = ciphertext[:len(ct)]
		dst = ct[:0]
	}
	return p.AEAD.Open(dst, nonce, ct, ad)
}

// overhead is what sealing with k adds to a plaintext before base64url.
func (k *keyData) overhead() int {
	if k.suite == AES256GCM {
		return format.V2Overhead
	}
	return overhead
}

// version is the version byte of the values k seals.
func (k *keyData) version() byte {
	if k.suite == AES256GCM {
		return format.Version2
	}
	return format.Version1
}
