// Package sealed keeps web sessions in the cookie itself: session data is
// serialized, encrypted and authenticated with XChaCha20-Poly1305 (not just
// signed: the client cannot read it), and opened again on each request, so no
// server-side store is needed.
//
// A sealed value binds its ciphertext to the cookie name, the key that sealed
// it and its expiry, so it cannot be moved to another cookie, replayed under
// another key, or kept alive past its sealed expiry by editing cookie
// attributes. Applications that share keys can also bind their own
// [Sealer.Purpose], so that none accepts another's values. The wire format
// is specified in https://github.com/sealedcookie/sealed/blob/main/docs/FORMAT.md,
// with test vectors in testdata/vectors.json.
//
// # Sessions in net/http
//
// Most applications use the middleware: [New] returns a [Manager] for a
// session type T, [Manager.Handler] wraps the application, and handlers call
// [Manager.Get], [Manager.Put], [Manager.Update], [Manager.Destroy] and
// [Manager.Renew] with the request's context. The cookie is opened only when
// a handler asks for the session and written only when something changed,
// without buffering the response. Serverless handlers and other routers use
// [Manager.Load] and [Manager.Save] instead of the middleware. The guide,
// https://github.com/sealedcookie/sealed/blob/main/docs/GUIDE.md, goes from
// a first session to production.
//
// Below the middleware, [Typed] seals and opens values of type T with a
// [Codec] ([JSON], [Gob], [Binary]) over an [Envelope]: a [Sealer], which
// works on bytes, or the JWE sealer of package
// github.com/sealedcookie/sealed/jwe, for services in other languages.
//
// # Key rotation
//
// A [KeyRing] has one primary key, which seals, and previous keys, which only
// open. Each sealed value names its key by a 4-byte hash of the key ID, so
// Open makes exactly one authentication attempt and never tries keys in turn.
// A value opened with a previous key is reported as [Info].Stale; the
// middleware re-seals it, and the user moves to the new key without
// noticing. Rotate in three steps: add the new key as a previous key
// everywhere, then make it primary, then drop the old key once the longest
// session lifetime has passed. Package github.com/sealedcookie/sealed/jwks
// reads rings from JWKS files and reloads them when they change;
// https://github.com/sealedcookie/sealed/blob/main/docs/ROTATION.md has the
// procedure.
//
// # Cookie size
//
// Browsers keep cookies of up to 4096 bytes (name and value). The envelope
// costs 54 bytes before base64url, at most 72 characters, so a default
// [Sealer] carries up to 2,946 bytes of plaintext in one cookie. Open rejects
// longer values before decoding them. The middleware splits larger sessions
// over several cookies.
//
// # Errors
//
// Every failure to open wraps one of [ErrMalformed], [ErrUnknownKey],
// [ErrInvalid], [ErrExpired] or [ErrTooLarge]; test for them with
// [errors.Is]. None of them is a server fault: each means "no valid session".
// No error carries key material or session data.
//
// # Backwards compatibility
//
// Values carry a version byte. A future format gets a new version, and
// releases that introduce it keep opening version 1 values.
package sealed

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/sealedcookie/sealed/internal/format"
	"golang.org/x/crypto/chacha20poly1305"
)

// Errors returned by [Sealer.Open], [Sealer.Seal] and the packages built on
// them. Test for them with [errors.Is]; the returned errors wrap these with
// context (never key material). To a server, each means the same: there is
// no valid session.
var (
	// ErrMalformed reports a value that is not a well-formed sealed value:
	// empty, not canonical unpadded base64url, too short, of an unknown
	// version or with unknown flags, or flagged as compressed with a
	// plaintext that does not decompress.
	ErrMalformed = errors.New("sealed: malformed value")

	// ErrUnknownKey reports a value sealed with a key whose identifier is
	// not in the key ring: a retired key, or another application's key.
	ErrUnknownKey = errors.New("sealed: unknown key")

	// ErrInvalid reports a value that failed authentication: it was
	// tampered with, sealed with a different secret under the same key ID,
	// sealed for another cookie name, or sealed with another
	// [Sealer.Purpose].
	ErrInvalid = errors.New("sealed: invalid value")

	// ErrExpired reports an authentic value whose sealed expiry has passed.
	ErrExpired = errors.New("sealed: expired")

	// ErrTooLarge reports a value longer than the configured bound (on
	// Open, checked before any decoding), a plaintext whose sealed form
	// would not fit it (on Seal), or a compressed plaintext that
	// decompresses past [Sealer.MaxDecompressed] (on Open).
	ErrTooLarge = errors.New("sealed: too large")
)

// The layout of a value is internal/format's (docs/FORMAT.md, "Layout"); its
// nonce and tag are XChaCha20-Poly1305's.
const (
	headerLen   = format.HeaderLen
	prefixLen   = format.PrefixLen
	overhead    = format.Overhead
	flagDeflate = format.FlagDeflate // the plaintext is a raw DEFLATE stream (compress.go)
)

// The layout's sizes are the AEAD's.
var (
	_ [format.NonceLen - chacha20poly1305.NonceSizeX]struct{}
	_ [chacha20poly1305.NonceSizeX - format.NonceLen]struct{}
	_ [format.TagLen - chacha20poly1305.Overhead]struct{}
	_ [chacha20poly1305.Overhead - format.TagLen]struct{}
)

// Overhead is the number of bytes sealing with an XChaCha20Poly1305 key adds
// to a plaintext before base64url encoding: header, nonce and
// authentication tag. An AES256GCM key adds 4 more (a salt, and a shorter
// nonce).
const Overhead = overhead

// DefaultMaxLen is the default bound on a sealed value's length in
// characters: with a cookie name of up to 95 bytes, name and value fit in the
// 4096 bytes every browser keeps. It carries 2,946 bytes of plaintext.
const DefaultMaxLen = 4000

// MaxPurposeLen is the longest [Sealer.Purpose], in bytes.
const MaxPurposeLen = format.MaxPurpose

// EncodedLen returns the length of the value an XChaCha20Poly1305 key seals
// from a plaintext of n bytes (an AES256GCM key's are up to 6 characters
// longer).
func EncodedLen(n int) int { return base64.RawURLEncoding.EncodedLen(n + overhead) }

// encodedLen is EncodedLen for s's current primary key.
func (s *Sealer) encodedLen(n int) int {
	return base64.RawURLEncoding.EncodedLen(n + s.keys.Current().keys[0].k.overhead())
}

// An Envelope seals byte values for a cookie name and opens them again,
// reporting the errors listed under Errors. [*Sealer] is the one to use;
// the jwe package's Sealer is another, for readers in other languages.
// [NewTyped] works over either.
type Envelope interface {
	// Seal seals plaintext for the cookie called name until expires.
	Seal(name string, plaintext []byte, expires time.Time) (string, error)
	// Open opens a value sealed for the cookie called name.
	Open(name, value string) ([]byte, Info, error)
}

var _ Envelope = (*Sealer)(nil)

// Info describes an opened value.
type Info struct {
	KeyID   string    // ID of the key that opened the value
	Expires time.Time // expiry sealed into the value (whole seconds)
	Stale   bool      // opened with a non-primary key: re-seal to upgrade it
}

// A Sealer seals and opens values with the keys of a [KeySource]. Set its
// exported fields before first use; it is then safe for concurrent use.
type Sealer struct {
	// MaxLen bounds the length of a sealed value in characters. Open
	// rejects longer values with ErrTooLarge before decoding anything, and
	// Seal returns ErrTooLarge rather than produce one. NewSealer sets it
	// to DefaultMaxLen; zero or negative means DefaultMaxLen too.
	MaxLen int

	// Now returns the current time, used for expiry checks. NewSealer sets
	// it to time.Now; nil means time.Now too.
	Now func() time.Time

	// ClockSkew is how long past its sealed expiry a value still opens, to
	// absorb clock differences between the servers that seal and those that
	// open. The default is zero: no grace.
	ClockSkew time.Duration

	// CompressAbove turns on compression: plaintexts of at least this many
	// bytes are compressed with raw DEFLATE before sealing when that makes
	// them shorter, and the value is flagged as compressed in its
	// authenticated header. Zero or negative (the default) never
	// compresses. Open always accepts compressed values. Compress only
	// sessions that do not mix attacker-influenced data with secrets: see
	// https://github.com/sealedcookie/sealed/blob/main/docs/SECURITY.md.
	CompressAbove int

	// MaxDecompressed bounds the size of a plaintext that Open decompresses;
	// larger ones fail with ErrTooLarge after at most this many bytes are
	// written. Seal does not compress plaintexts above it. Zero or negative
	// means DefaultMaxDecompressed (64 KiB).
	MaxDecompressed int

	// Purpose names the application or use the values are for, such as
	// "billing" or "admin". It is authenticated with each value, not stored
	// in it, like Rails' message purpose or the salt of Auth.js. Set it when
	// several applications share a key ring and a cookie name: a value
	// sealed with one purpose fails to open with any other, and without
	// one, with ErrInvalid. Changing it invalidates every existing value
	// (ErrInvalid), so set it before deploying, or when logging everyone
	// out is acceptable. The empty default binds nothing: values sealed
	// without a purpose, by this or earlier releases, open as they always
	// have. https://github.com/sealedcookie/sealed/blob/main/docs/FORMAT.md
	// ("Purpose") specifies it.
	//
	// A purpose is at most MaxPurposeLen bytes: with a longer one, Seal
	// returns an error and Open fails with ErrInvalid. Whatever the purpose,
	// Seal refuses a cookie name that contains a NUL byte (the separator
	// before the purpose) and Open fails for one with ErrInvalid; no valid
	// cookie name contains one.
	Purpose string

	keys  KeySource
	stats *counters
	rand  io.Reader // nil means crypto/rand; tests set it to make vectors
}

// NewSealer returns a Sealer that seals with the current primary key of keys
// and opens with any key in its current ring. A *KeyRing is a KeySource.
func NewSealer(keys KeySource) *Sealer {
	if keys == nil {
		panic("sealed: NewSealer with nil KeySource")
	}
	return &Sealer{MaxLen: DefaultMaxLen, Now: time.Now, keys: keys, stats: new(counters)}
}

func (s *Sealer) maxLen() int {
	if s.MaxLen <= 0 {
		return DefaultMaxLen
	}
	return s.MaxLen
}

func (s *Sealer) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// strictBase64 rejects non-zero trailing bits; Strict allocates, so build it
// once.
var strictBase64 = base64.RawURLEncoding.Strict()

// scratch holds the raw (unencoded) value and the additional data while
// sealing or opening, so neither path allocates beyond its result.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func getScratch(n int) *[]byte {
	p := scratch.Get().(*[]byte)
	if cap(*p) < n {
		*p = make([]byte, n)
	}
	*p = (*p)[:n]
	return p
}

func putScratch(p *[]byte) {
	if cap(*p) > 64<<10 { // don't pin buffers from an oversized MaxLen
		return
	}
	scratch.Put(p)
}

// Seal encrypts plaintext for the cookie called name with the primary key,
// sealing in expires (truncated to whole seconds), and returns the cookie
// value. It returns an error wrapping ErrTooLarge if the value would be
// longer than MaxLen, and an error if name contains a NUL byte or Purpose is
// longer than MaxPurposeLen.
func (s *Sealer) Seal(name string, plaintext []byte, expires time.Time) (string, error) {
	if err := s.checkContext(name); err != nil {
		return "", err
	}
	plaintext, flags, z := s.deflate(plaintext)
	if z != nil {
		defer z.release()
	}
	ring := s.keys.Current()
	ovh := ring.keys[0].k.overhead()
	n, err := s.checkSeal(plaintext, expires, ovh)
	if err != nil {
		return "", err
	}
	// The scratch holds the raw value, then the additional data or (once
	// that is used) the encoding, which is copied into the result.
	buf := getScratch(len(plaintext) + ovh + max(n, s.adLen(name)))
	defer putScratch(buf)
	raw, err := s.sealRaw((*buf)[:0], ring, name, plaintext, flags, expires)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(n)
	enc := base64.RawURLEncoding.AppendEncode((*buf)[len(raw):len(raw)], raw)
	b.Write(enc[:n])
	return b.String(), nil
}

// AppendSeal is like Seal but appends the value to dst. When dst has room,
// it does not allocate (with an XChaCha20Poly1305 key).
func (s *Sealer) AppendSeal(dst []byte, name string, plaintext []byte, expires time.Time) ([]byte, error) {
	if err := s.checkContext(name); err != nil {
		return dst, err
	}
	plaintext, flags, z := s.deflate(plaintext)
	if z != nil {
		defer z.release()
	}
	ring := s.keys.Current()
	ovh := ring.keys[0].k.overhead()
	if _, err := s.checkSeal(plaintext, expires, ovh); err != nil {
		return dst, err
	}
	buf := getScratch(len(plaintext) + ovh + s.adLen(name))
	defer putScratch(buf)
	raw, err := s.sealRaw((*buf)[:0], ring, name, plaintext, flags, expires)
	if err != nil {
		return dst, err
	}
	return base64.RawURLEncoding.AppendEncode(dst, raw), nil
}

// checkContext refuses what would make the additional data ambiguous: a
// cookie name with a NUL byte (the separator before the purpose) and a
// purpose over MaxPurposeLen.
func (s *Sealer) checkContext(name string) error {
	if !format.ValidName(name) {
		return errors.New("sealed: seal: cookie name contains a NUL byte")
	}
	if len(s.Purpose) > MaxPurposeLen {
		return fmt.Errorf("sealed: seal: Purpose is %d bytes, limit %d", len(s.Purpose), MaxPurposeLen)
	}
	return nil
}

// adLen is the length of the additional data for the cookie called name.
func (s *Sealer) adLen(name string) int { return format.ADLen(name, s.Purpose) }

// checkSeal validates the arguments of a seal with a key whose values
// carry ovh bytes of overhead, and returns the encoded length.
func (s *Sealer) checkSeal(plaintext []byte, expires time.Time, ovh int) (int, error) {
	if expires.IsZero() {
		return 0, errors.New("sealed: seal: zero expiry (every value needs one)")
	}
	n := base64.RawURLEncoding.EncodedLen(len(plaintext) + ovh)
	if max := s.maxLen(); n > max {
		s.stats.tooLarge.Add(1)
		return 0, fmt.Errorf("%w: %d bytes of plaintext seal to %d characters, limit %d", ErrTooLarge, len(plaintext), n, max)
	}
	return n, nil
}

// sealRaw appends the unencoded value that ring's primary key seals to
// dst, which must have room for it and for the additional data after it
// (adLen). flags is the header's flags byte. The caller has checked name
// and Purpose (checkContext).
func (s *Sealer) sealRaw(dst []byte, ring *KeyRing, name string, plaintext []byte, flags byte, expires time.Time) ([]byte, error) {
	key := ring.keys[0].k
	s.stats.slots(ring)[0].sealed.Add(1)
	h := format.Header{Flags: flags, KID: key.hash, Expiry: expires.Unix()}
	if key.suite == AES256GCM {
		return s.sealV2(dst, key, h, name, plaintext)
	}
	dst = format.AppendHeader(dst, h)
	nonce := dst[headerLen:prefixLen]
	s.random(nonce)
	// The AD sits right after the sealed value in the same buffer; the
	// three-index slice keeps it out of the AEAD's destination, which the
	// AEAD may use up to its capacity.
	end := prefixLen + len(plaintext) + format.TagLen
	aad := format.AppendAD(dst[end:end], dst[:headerLen], name, s.Purpose)
	return key.aead.Seal(dst[:prefixLen:end], nonce, plaintext, aad), nil
}

// sealV2 is sealRaw for an AES256GCM key: the version 2 layout, with a
// fresh salt and a key derived from it (docs/FORMAT.md, "Version 2").
func (s *Sealer) sealV2(dst []byte, key *keyData, h format.Header, name string, plaintext []byte) ([]byte, error) {
	h.Version = format.Version2
	dst = format.AppendHeader(dst, h)
	dst = dst[:format.V2Prefix]
	salt := dst[headerLen:format.V2Prefix]
	s.random(salt)
	end := format.V2Overhead + len(plaintext)
	aad := format.AppendAD(dst[end:end], dst[:headerLen], name, s.Purpose)
	aead, err := s.valueAEAD(key, salt)
	if err != nil {
		return nil, fmt.Errorf("sealed: seal: %w", err)
	}
	return aead.Seal(dst[:format.V2Prefix:end], nil, plaintext, aad), nil
}

// random fills b from crypto/rand, or from the test source that makes
// vectors.
func (s *Sealer) random(b []byte) {
	if s.rand == nil {
		rand.Read(b) // never fails: crypto/rand crashes the program rather than return an error
	} else if _, err := io.ReadFull(s.rand, b); err != nil {
		panic("sealed: test randomness source failed: " + err.Error())
	}
}

// Open authenticates and decrypts a value sealed for the cookie called name
// and returns its plaintext. Errors wrap ErrTooLarge, ErrMalformed,
// ErrUnknownKey, ErrInvalid or ErrExpired. On ErrExpired, Info describes the
// authentic but expired value; on other errors it is empty. A value opens
// only with the Purpose it was sealed with; a name containing a NUL byte
// and a Purpose over MaxPurposeLen fail with ErrInvalid.
func (s *Sealer) Open(name, value string) ([]byte, Info, error) {
	out, info, err := s.open(nil, name, value, true)
	s.stats.countOpen(info, err)
	return out, info, err
}

// AppendOpen is like Open but appends the plaintext to dst. When dst has
// room, it does not allocate.
func (s *Sealer) AppendOpen(dst []byte, name, value string) ([]byte, Info, error) {
	out, info, err := s.open(dst, name, value, false)
	s.stats.countOpen(info, err)
	return out, info, err
}

func (s *Sealer) open(dst []byte, name, value string, exact bool) ([]byte, Info, error) {
	// Every failure returns dst as given: nil for Open.
	if len(s.Purpose) > MaxPurposeLen {
		// A misconfiguration, not a value's fault; but no value can have
		// been sealed with this purpose, so none is authentic.
		return dst, Info{}, fmt.Errorf("%w: Purpose is %d bytes, limit %d: no value opens", ErrInvalid, len(s.Purpose), MaxPurposeLen)
	}
	if max := s.maxLen(); len(value) > max {
		return dst, Info{}, fmt.Errorf("%w: value is %d characters, limit %d", ErrTooLarge, len(value), max)
	}
	if len(value) < format.MinLen {
		return dst, Info{}, fmt.Errorf("%w: %d characters is shorter than any sealed value", ErrMalformed, len(value))
	}
	// The stdlib decoder skips CR and LF even in strict mode; a value has
	// exactly one encoding, so reject them here.
	if strings.IndexByte(value, '\r') >= 0 || strings.IndexByte(value, '\n') >= 0 { // SIMD, unlike ContainsAny
		return dst, Info{}, fmt.Errorf("%w: line break in value", ErrMalformed)
	}
	rawLen := base64.RawURLEncoding.DecodedLen(len(value))
	buf := getScratch(rawLen + s.adLen(name))
	defer putScratch(buf)
	raw := (*buf)[:rawLen:rawLen] // the AD goes after it, out of every destination's reach
	if n, err := strictBase64.AppendDecode(raw[:0], []byte(value)); err != nil || len(n) != rawLen {
		return dst, Info{}, fmt.Errorf("%w: not canonical unpadded base64url", ErrMalformed)
	}
	h := format.ParseHeader(raw)
	ovh, prefix := overhead, prefixLen
	switch h.Version {
	case format.Version1:
	case format.Version2:
		ovh, prefix = format.V2Overhead, format.V2Prefix
		if rawLen < ovh {
			return dst, Info{}, fmt.Errorf("%w: %d bytes is shorter than any version 2 value", ErrMalformed, rawLen)
		}
	default:
		return dst, Info{}, fmt.Errorf("%w: unsupported version %d", ErrMalformed, h.Version)
	}
	if h.Flags&^format.KnownFlags != 0 {
		return dst, Info{}, fmt.Errorf("%w: unknown flags %#02x", ErrMalformed, h.Flags)
	}
	ring := s.keys.Current()
	i := ring.lookup(h.KID)
	if i < 0 {
		return dst, Info{}, fmt.Errorf("%w: key identifier %08x is not in the ring", ErrUnknownKey, h.KID)
	}
	key := ring.keys[i].k
	if !format.ValidName(name) {
		// No sealer accepts such a name: with it, the additional data
		// could equal that of a shorter name with a purpose.
		return dst, Info{}, fmt.Errorf("%w: cookie name contains a NUL byte", ErrInvalid)
	}
	if key.version() != h.Version {
		// The header names a key of another suite: no key of the ring can
		// have sealed this layout.
		return dst, Info{}, fmt.Errorf("%w: a version %d value, but key %q is an %s key", ErrMalformed, h.Version, key.id, key.suite)
	}
	aad := format.AppendAD((*buf)[rawLen:rawLen], raw[:headerLen], name, s.Purpose)
	out := dst
	if h.Flags&flagDeflate != 0 {
		// Decrypt in place: the AEAD's input, raw[prefix:], as its output
		// (for version 2, the random-nonce GCM moves the nonce out of the
		// way first); inflateOpened writes dst.
		out = raw[prefix:prefix:rawLen]
	} else if exact {
		out = make([]byte, 0, rawLen-ovh)
	}
	start := len(out)
	var err error
	if h.Version == format.Version2 {
		var aead cipher.AEAD
		if aead, err = s.valueAEAD(key, raw[headerLen:prefix]); err == nil {
			out, err = aead.Open(out, nil, raw[prefix:], aad)
		}
	} else {
		out, err = key.aead.Open(out, raw[headerLen:prefix], raw[prefix:], aad)
	}
	if err != nil {
		return dst, Info{}, fmt.Errorf("%w: authentication failed (tampered, another secret for key %q, another cookie name or another purpose)", ErrInvalid, key.id)
	}
	s.stats.slots(ring)[i].opened.Add(1)
	info := Info{KeyID: key.id, Expires: time.Unix(h.Expiry, 0), Stale: i != 0}
	if s.now().Add(-s.ClockSkew).Unix() >= h.Expiry { // now - skew >= expiry, exactly: expiry + skew could overflow
		clear(out[start:])
		return dst, info, fmt.Errorf("%w at %s", ErrExpired, info.Expires.UTC().Format(time.RFC3339))
	}
	if h.Flags&flagDeflate != 0 {
		return s.inflateOpened(dst, out, exact, info)
	}
	return out, info, nil
}
