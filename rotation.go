package sealed

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/sealedcookie/sealed/internal/secret"
	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the length in bytes of a key's secret.
const KeySize = chacha20poly1305.KeySize

// maxKeyIDLen bounds a key ID. IDs travel in configuration, logs and JWKS
// files, never in cookies (cookies carry a 4-byte hash of the ID).
const maxKeyIDLen = 64

// A Key is a 32-byte XChaCha20-Poly1305 secret with an identifier. The ID is
// public (it is hashed into every sealed value so Open can find the key); the
// secret never leaves the package: String, GoString, Format, JSON and slog
// output show only the ID.
//
// The zero Key is not valid. Keys are immutable and safe to copy and share.
type Key struct {
	k *keyData
}

type keyData struct {
	id   string
	hash uint32 // keyIDHash(id), the identifier carried in the header
	// secret is behind a pointer so that reflective printers (fmt on a
	// struct that holds a Key in an unexported field, debuggers' dumps)
	// show an address, not the bytes.
	secret *[KeySize]byte
	suite  Suite
	aead   cipher.AEAD // XChaCha20Poly1305's, built once: Seal and Open allocate nothing for it
}

// GenerateKey returns a new XChaCha20Poly1305 key with the given ID and a
// secret of 32 bytes from crypto/rand.
func GenerateKey(id string) (Key, error) { return GenerateSuiteKey(XChaCha20Poly1305, id) }

// GenerateSuiteKey is like GenerateKey for a key of the given suite.
func GenerateSuiteKey(suite Suite, id string) (Key, error) {
	secret := make([]byte, KeySize)
	defer clear(secret)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, fmt.Errorf("sealed: generating key %q: %w", id, err)
	}
	return NewSuiteKey(suite, id, secret)
}

// NewKey returns an XChaCha20Poly1305 key with the given ID and secret. The
// secret must be exactly 32 bytes of uniformly random data; derive one from
// a longer master secret rather than passing a password. NewKey copies the
// secret.
//
// An ID is 1 to 64 bytes of printable ASCII other than space, ',' and ':'
// (the separators of [ParseKeyRing]'s form).
//
// In Go's FIPS 140-only mode (GODEBUG=fips140=only), where
// XChaCha20-Poly1305 is not allowed, NewKey returns an error: use
// [NewSuiteKey] with [AES256GCM].
func NewKey(id string, secret []byte) (Key, error) { return NewSuiteKey(XChaCha20Poly1305, id, secret) }

// NewSuiteKey is like NewKey for a key of the given suite.
func NewSuiteKey(suite Suite, id string, secret []byte) (Key, error) {
	if err := checkKeyID(id); err != nil {
		return Key{}, err
	}
	if len(secret) != KeySize {
		return Key{}, fmt.Errorf("sealed: key %q: secret is %d bytes, want %d", id, len(secret), KeySize)
	}
	d := &keyData{id: id, hash: keyIDHash(id), secret: new([KeySize]byte), suite: suite}
	copy(d.secret[:], secret)
	aead, err := newSuiteAEAD(suite, d.secret[:])
	if err != nil {
		return Key{}, fmt.Errorf("sealed: key %q: %w", id, err)
	}
	d.aead = aead
	return Key{d}, nil
}

// Suite returns the key's suite.
func (k Key) Suite() Suite {
	if k.k == nil {
		return 0
	}
	return k.k.suite
}

// newXChaCha returns XChaCha20-Poly1305 keyed with secret.
func newXChaCha(secret []byte) (cipher.AEAD, error) { return chacha20poly1305.NewX(secret) }

func checkKeyID(id string) error {
	if id == "" || len(id) > maxKeyIDLen {
		return fmt.Errorf("sealed: key ID must be 1 to %d bytes, got %d", maxKeyIDLen, len(id))
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' || c == ',' || c == ':' {
			return fmt.Errorf("sealed: key ID %q: byte %#x not allowed (printable ASCII except space, ',' and ':')", id, c)
		}
	}
	return nil
}

// keyIDHash is the 4-byte key identifier written into each sealed value: the
// first four bytes of SHA-256 of the ID alone, so that a key with the same ID
// but another secret is found and then fails authentication ([ErrInvalid]),
// while a retired key is recognised as unknown ([ErrUnknownKey]).
func keyIDHash(id string) uint32 {
	sum := sha256.Sum256([]byte(id))
	return binary.BigEndian.Uint32(sum[:4])
}

// ID returns the key's identifier ("" for the zero Key).
func (k Key) ID() string {
	if k.k == nil {
		return ""
	}
	return k.k.id
}

// String returns a redacted description that names the key by its ID only.
func (k Key) String() string { return "sealed.Key(" + k.ID() + ")" }

// GoString is like String, so %#v does not reveal the secret either.
func (k Key) GoString() string { return k.String() }

// Format implements fmt.Formatter so that every verb (%v, %+v, %x, %q, ...)
// prints the redacted form.
func (k Key) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(k.String())) }

// MarshalJSON encodes the key as {"id": ID}, without the secret, so a Key in a
// logged or serialized config struct cannot leak.
func (k Key) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"id":%q}`, k.ID()), nil
}

// LogValue implements slog.LogValuer: loggers see only the ID.
func (k Key) LogValue() slog.Value { return slog.GroupValue(slog.String("id", k.ID())) }

// A KeyRing is an immutable set of keys: one primary key that seals, and
// previous keys that still open values sealed before a rotation. Values opened
// with a previous key are reported as stale ([Info].Stale) so the caller can
// re-seal them with the primary.
//
// A KeyRing is safe for concurrent use. To rotate, build a new ring; to swap
// rings in a running server, use a [KeySource] that returns the current one.
type KeyRing struct {
	keys []Key // keys[0] is the primary
}

// A KeySource supplies the key ring to use for each operation. *KeyRing is a
// KeySource that always returns itself; a reloading source returns whichever
// ring it loaded last. Current must be safe for concurrent use and must not
// return nil.
type KeySource interface {
	Current() *KeyRing
}

// Current returns r itself, making *KeyRing a [KeySource].
func (r *KeyRing) Current() *KeyRing { return r }

// NewKeyRing returns a ring that seals with primary and also opens values
// sealed with any of previous. Keys must be valid and their IDs distinct.
func NewKeyRing(primary Key, previous ...Key) (*KeyRing, error) {
	keys := make([]Key, 0, 1+len(previous))
	keys = append(keys, primary)
	keys = append(keys, previous...)
	for i, k := range keys {
		if k.k == nil {
			return nil, fmt.Errorf("sealed: key ring: key %d is the zero Key", i)
		}
		for _, prev := range keys[:i] {
			if prev.k.id == k.k.id {
				return nil, fmt.Errorf("sealed: key ring: duplicate key ID %q", k.k.id)
			}
			if prev.k.hash == k.k.hash {
				return nil, fmt.Errorf("sealed: key ring: key IDs %q and %q share a header identifier; rename one", prev.k.id, k.k.id)
			}
		}
	}
	return &KeyRing{keys: keys}, nil
}

// Primary returns the key that seals new values.
func (r *KeyRing) Primary() Key { return r.keys[0] }

// Keys returns the ring's keys, primary first.
func (r *KeyRing) Keys() []Key { return append([]Key(nil), r.keys...) }

// lookup returns the index of the key whose header identifier is hash, or
// -1. Rings hold a few keys, so a scan beats a map.
func (r *KeyRing) lookup(hash uint32) int {
	for i, key := range r.keys {
		if key.k.hash == hash {
			return i
		}
	}
	return -1
}

// String describes the ring by key IDs only.
func (r KeyRing) String() string {
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.ID()
	}
	return "sealed.KeyRing(" + strings.Join(ids, ",") + ")"
}

// GoString is like String.
func (r KeyRing) GoString() string { return r.String() }

// Format implements fmt.Formatter so that every verb prints the redacted
// form.
func (r KeyRing) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(r.String())) }

// ParseKeyRing parses the environment-variable form of a key ring,
// "id:secret,id2:secret2,...", where each secret is 32 bytes in base64url
// (unpadded or padded). The first key is the primary. Whitespace around
// entries is ignored. A key of a suite other than the default names it
// after a third colon: "id:secret:aes256gcm" (see [Suite.String]).
//
// Errors name a bad entry by its position only, never by its text: an
// operator who swaps id and secret must not find the secret in a log.
func ParseKeyRing(s string) (*KeyRing, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("sealed: key ring: empty")
	}
	var keys []Key
	for i, entry := range strings.Split(s, ",") {
		id, text, ok := strings.Cut(strings.TrimSpace(entry), ":")
		if !ok {
			return nil, fmt.Errorf("sealed: key ring: entry %d: want id:base64url-secret", i+1)
		}
		if checkKeyID(id) != nil {
			return nil, fmt.Errorf("sealed: key ring: entry %d: the ID must be 1 to %d bytes of printable ASCII other than space, ',' and ':'", i+1, maxKeyIDLen)
		}
		text, name, hasSuite := strings.Cut(text, ":")
		suite := XChaCha20Poly1305
		if hasSuite {
			var ok bool
			if suite, ok = suiteByName(name); !ok {
				return nil, fmt.Errorf("sealed: key ring: entry %d: unknown suite after the secret; want %s or %s", i+1, XChaCha20Poly1305, AES256GCM)
			}
		}
		raw, err := secret.Decode(text, KeySize)
		if err != nil {
			return nil, fmt.Errorf("sealed: key ring: entry %d: the secret: %w", i+1, err)
		}
		k, err := NewSuiteKey(suite, id, raw)
		clear(raw)
		if errors.Is(err, errFIPSOnly) {
			return nil, fmt.Errorf("sealed: key ring: entry %d: %w", i+1, errFIPSOnly)
		}
		if err != nil { // unreachable: the ID and length are checked above
			return nil, fmt.Errorf("sealed: key ring: entry %d: invalid", i+1)
		}
		keys = append(keys, k)
	}
	return newParsedRing("key ring: entry", keys)
}

// newParsedRing is NewKeyRing for keys parsed from configuration, whose IDs
// may be secrets pasted in the wrong place: its errors name keys by their
// position (what, then the 1-based index), never by ID.
func newParsedRing(what string, keys []Key) (*KeyRing, error) {
	for i, k := range keys {
		for j, prev := range keys[:i] {
			if prev.k.id == k.k.id {
				return nil, fmt.Errorf("sealed: %s %d: same ID as %d", what, i+1, j+1)
			}
			if prev.k.hash == k.k.hash {
				return nil, fmt.Errorf("sealed: %s %d: its ID shares a header identifier with that of %d; rename one", what, i+1, j+1)
			}
		}
	}
	return &KeyRing{keys: keys}, nil
}

// FormatKeyRing returns the ring in the form [ParseKeyRing] reads, primary
// first. The result contains the secrets: treat it as you would the keys.
func FormatKeyRing(r *KeyRing) string {
	var b strings.Builder
	for i, k := range r.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k.k.id)
		b.WriteByte(':')
		b.WriteString(secret.Encode(k.k.secret[:]))
		if k.k.suite != XChaCha20Poly1305 {
			b.WriteByte(':')
			b.WriteString(k.k.suite.String())
		}
	}
	return b.String()
}
