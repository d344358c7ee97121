// Package iron reads and writes iron seals, the cookie format of
// iron-session (checked against v8 and v9) and of @hapi/iron /
// iron-webcrypto, so a Go
// service can take over those sessions or share them with the JavaScript
// application.
//
// A seal is
//
//	Fe26.2*<password id>*<encryption salt>*<iv>*<ciphertext>*<expiry ms>*<mac salt>*<mac>[~2]
//
// The JSON payload is encrypted with AES-256-CBC and the first six fields
// are authenticated with HMAC-SHA256, each under a key derived from the
// password with PBKDF2-HMAC-SHA1 (one iteration, the salt being 64 random
// hex characters used as text). So a seal gives confidentiality and
// integrity, and its expiry (milliseconds since the epoch, or empty for
// none) is authenticated; the password id is not secret. Because the key
// derivation is a single PBKDF2 iteration, the passwords themselves must be
// long random strings: iron requires at least 32 characters.
//
// iron-session appends "~2", its token format version, outside the MAC:
// the payload is the session object itself. Seals without it come from
// @hapi/iron or from old iron-session releases (which kept the session
// under a "persistent" member); Open accepts both and returns the sealed
// JSON unchanged, and rejects any other suffix. Seal always writes the "~2"
// form. iron-session v9's opt-in chunk: true splits a long seal over
// <name>.0 to <name>.3 cookies; OpenRequest joins them.
//
// A seal is not bound to a user agent, and a copied cookie stays valid until
// its expiry: destroying an iron-session only deletes the cookie.
package iron

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/internal/split"
)

// Defaults applied by [New] to zero [Options] fields, and iron's limits.
const (
	// DefaultTTL is iron-session's default session lifetime.
	DefaultTTL = 14 * 24 * time.Hour
	// DefaultMaxLen is iron-session's limit on a whole Set-Cookie header;
	// the seal itself must be shorter still.
	DefaultMaxLen = 4096
	// MinPasswordLen is iron's minimum password length, in UTF-16 code
	// units as JavaScript counts them.
	MinPasswordLen = 32
	// TimestampSkew is how long after its expiry a seal still opens.
	TimestampSkew = 60 * time.Second
)

const (
	prefix         = "Fe26.2"
	versionSuffix  = "~2"
	saltBytes      = 32 // iron's saltBits: 256, written as 64 hex characters
	keyBytes       = 32
	ivBytes        = aes.BlockSize
	maxPasswordIDs = 1 << 10
	maxChunks      = 4 // iron-session v9's MAX_CHUNKS
)

// Options configures a [Codec]. The zero value selects the defaults.
type Options struct {
	// TTL is the lifetime Seal gives a seal (iron-session's ttl option).
	// Zero selects [DefaultTTL]; a negative TTL writes no expiry, like
	// iron-session's ttl: 0.
	TTL time.Duration
	// Now returns the current time. Default: time.Now.
	Now func() time.Time
	// MaxLen bounds a seal's length: Open refuses longer values with
	// [sealed.ErrTooLarge] before any decoding, and Seal refuses to
	// produce them. Default: [DefaultMaxLen].
	MaxLen int
}

// Codec opens and seals iron seals under a set of passwords. It is safe for
// concurrent use.
type Codec struct {
	passwords map[string]string
	sealID    string
	ttl       time.Duration
	now       func() time.Time
	maxLen    int
}

// New returns a Codec for the passwords, keyed by password id, as
// iron-session's password option: a single password string there is
// {"1": password} here. With several passwords, every id must be a
// non-negative decimal integer and the highest seals (as iron-session);
// all of them open. A single password may have any id of word characters;
// "default" is the id iron gives seals that carry none (@hapi/iron with a
// plain password). Each password must be at least [MinPasswordLen]
// characters long.
func New(passwords map[string]string, opts Options) (*Codec, error) {
	if len(passwords) == 0 {
		return nil, errors.New("iron: no password")
	}
	if len(passwords) > maxPasswordIDs {
		return nil, errors.New("iron: too many passwords")
	}
	c := &Codec{passwords: make(map[string]string, len(passwords)), ttl: opts.TTL, now: opts.Now, maxLen: opts.MaxLen}
	if c.ttl == 0 {
		c.ttl = DefaultTTL
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.maxLen == 0 {
		c.maxLen = DefaultMaxLen
	}
	if c.maxLen < 0 {
		return nil, errors.New("iron: negative MaxLen")
	}
	best := -1.0
	for id, pw := range passwords {
		if !isWord(id) {
			return nil, fmt.Errorf("iron: password id %q is not made of [A-Za-z0-9_]", id)
		}
		if n := len(utf16.Encode([]rune(pw))); n < MinPasswordLen {
			return nil, fmt.Errorf("iron: password %q is %d characters long, at least %d are required", id, n, MinPasswordLen)
		}
		c.passwords[id] = pw
		if len(passwords) == 1 {
			c.sealID = id
			continue
		}
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil || strconv.FormatUint(n, 10) != id {
			return nil, fmt.Errorf("iron: with several passwords, id %q must be a decimal integer", id)
		}
		if float64(n) > best {
			best, c.sealID = float64(n), id
		}
	}
	return c, nil
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z') {
			return false
		}
	}
	return true
}

var b64 = base64.RawURLEncoding.Strict()

// Open authenticates and decrypts a seal, with or without iron-session's
// "~2" suffix, and returns its JSON payload. Errors wrap
// sealed.ErrTooLarge, ErrMalformed, ErrUnknownKey (password id not
// configured), ErrInvalid (wrong password or tampered) or ErrExpired
// (more than [TimestampSkew] past its expiry).
func (c *Codec) Open(value string) ([]byte, error) {
	if len(value) > c.maxLen {
		return nil, fmt.Errorf("iron: value of %d bytes exceeds %d: %w", len(value), c.maxLen, sealed.ErrTooLarge)
	}
	if i := strings.IndexByte(value, '~'); i >= 0 {
		if value[i:] != versionSuffix {
			return nil, fmt.Errorf("iron: unknown seal version %q: %w", value[i:], sealed.ErrMalformed)
		}
		value = value[:i]
	}
	var parts [8]string
	if !split.Exact(value, "*", parts[:]) {
		return nil, fmt.Errorf("iron: seal does not have 8 fields: %w", sealed.ErrMalformed)
	}
	id, encSalt, ivB64, ctB64, expStr, macSalt, mac := parts[1], parts[2], parts[3], parts[4], parts[5], parts[6], parts[7]
	if parts[0] != prefix {
		return nil, fmt.Errorf("iron: not a Fe26.2 seal: %w", sealed.ErrMalformed)
	}
	var exp int64 = -1
	if expStr != "" {
		for i := 0; i < len(expStr); i++ {
			if expStr[i] < '0' || expStr[i] > '9' {
				return nil, fmt.Errorf("iron: bad expiry: %w", sealed.ErrMalformed)
			}
		}
		var err error
		if exp, err = strconv.ParseInt(expStr, 10, 64); err != nil {
			exp = math.MaxInt64 // out of range: far future, as JavaScript's parseInt
		}
	}
	if id == "" {
		id = "default"
	}
	pw, ok := c.passwords[id]
	if !ok {
		return nil, fmt.Errorf("iron: password id %q is not configured: %w", parts[1], sealed.ErrUnknownKey)
	}

	// Authenticate the first six fields before looking at them further.
	// An empty salt never verifies: iron would draw a random one.
	if macSalt == "" {
		return nil, fmt.Errorf("iron: empty mac salt: %w", sealed.ErrInvalid)
	}
	want, err := sign(pw, macSalt, value[:len(value)-len(macSalt)-len(mac)-2])
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(mac), []byte(want)) != 1 {
		return nil, fmt.Errorf("iron: bad mac: %w", sealed.ErrInvalid)
	}
	if exp >= 0 && exp <= c.now().UnixMilli()-TimestampSkew.Milliseconds() {
		return nil, fmt.Errorf("iron: seal expired: %w", sealed.ErrExpired)
	}

	iv, err := b64.DecodeString(ivB64)
	if err != nil || len(iv) != ivBytes {
		return nil, fmt.Errorf("iron: bad iv: %w", sealed.ErrMalformed)
	}
	ct, err := b64.DecodeString(ctB64)
	if err != nil || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("iron: bad ciphertext: %w", sealed.ErrMalformed)
	}
	if encSalt == "" {
		return nil, fmt.Errorf("iron: empty encryption salt: %w", sealed.ErrInvalid)
	}
	key, err := deriveKey(pw, encSalt)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("iron: %w", err)
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	if pad == 0 || pad > aes.BlockSize || subtle.ConstantTimeCompare(pt[len(pt)-pad:], bytesOf(byte(pad), pad)) != 1 {
		return nil, fmt.Errorf("iron: bad padding: %w", sealed.ErrInvalid)
	}
	pt = pt[:len(pt)-pad]
	if !json.Valid(pt) {
		return nil, fmt.Errorf("iron: payload is not JSON: %w", sealed.ErrMalformed)
	}
	return pt, nil
}

// OpenRequest reads the seal from req's cookie named cookieName (the
// iron-session cookieName option) and opens it with Open. Like iron-session
// v9, when that cookie is absent it joins the chunks <name>.0 ... <name>.3
// up to the first missing one (iron-session's opt-in chunk: true); raise
// MaxLen to read sessions larger than one cookie. Without any session
// cookie the error wraps both [http.ErrNoCookie] and sealed.ErrMalformed.
func (c *Codec) OpenRequest(req *http.Request, cookieName string) ([]byte, error) {
	if ck, err := req.Cookie(cookieName); err == nil && ck.Value != "" {
		return c.Open(ck.Value)
	}
	var b strings.Builder
	for i := range maxChunks {
		ck, err := req.Cookie(cookieName + "." + strconv.Itoa(i))
		if err != nil || ck.Value == "" {
			break
		}
		if b.Len()+len(ck.Value) > c.maxLen {
			return nil, fmt.Errorf("iron: session cookies exceed %d bytes: %w", c.maxLen, sealed.ErrTooLarge)
		}
		b.WriteString(ck.Value)
	}
	if b.Len() == 0 {
		return nil, fmt.Errorf("iron: no %s cookie: %w: %w", cookieName, sealed.ErrMalformed, http.ErrNoCookie)
	}
	return c.Open(b.String())
}

// Seal encrypts a JSON payload under the sealing password (see [New]) as
// iron-session's sealData does, "~2" suffix included, expiring TTL from
// now. Errors wrap sealed.ErrMalformed (payload not JSON) or
// sealed.ErrTooLarge (seal longer than MaxLen). The cookie iron-session
// would set adds its name and attributes to the seal's length, and
// iron-session refuses cookies over 4096 bytes.
func (c *Codec) Seal(payload []byte) (string, error) {
	if !json.Valid(payload) {
		return "", fmt.Errorf("iron: payload is not JSON: %w", sealed.ErrMalformed)
	}
	pw := c.passwords[c.sealID]
	var rnd [2*saltBytes + ivBytes]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", fmt.Errorf("iron: %w", err)
	}
	encSalt := hex.EncodeToString(rnd[:saltBytes])
	macSalt := hex.EncodeToString(rnd[saltBytes : 2*saltBytes])
	iv := rnd[2*saltBytes:]

	ct, err := encryptCBC(pw, encSalt, iv, payload)
	if err != nil {
		return "", err
	}

	exp := ""
	if c.ttl > 0 {
		exp = strconv.FormatInt(c.now().UnixMilli()+c.ttl.Milliseconds(), 10)
	}
	base := prefix + "*" + c.sealID + "*" + encSalt + "*" + b64.EncodeToString(iv) + "*" + b64.EncodeToString(ct) + "*" + exp
	mac, err := sign(pw, macSalt, base)
	if err != nil {
		return "", err
	}
	out := base + "*" + macSalt + "*" + mac + versionSuffix
	if len(out) > c.maxLen {
		return "", fmt.Errorf("iron: seal of %d bytes exceeds %d: %w", len(out), c.maxLen, sealed.ErrTooLarge)
	}
	return out, nil
}

// encryptCBC encrypts plaintext with AES-256-CBC and PKCS#7 padding under
// the key derived from password and salt.
func encryptCBC(password, salt string, iv, plaintext []byte) ([]byte, error) {
	key, err := deriveKey(password, salt)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("iron: %w", err)
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	ct := append(append(make([]byte, 0, len(plaintext)+pad), plaintext...), bytesOf(byte(pad), pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, ct)
	return ct, nil
}

// deriveKey is iron's generateKey for a password string: PBKDF2-HMAC-SHA1
// with the salt's text as salt, one iteration, 32 bytes.
// Only FIPS 140-only mode makes it fail.
func deriveKey(password, salt string) ([]byte, error) {
	k, err := pbkdf2.Key(sha1.New, password, []byte(salt), 1, keyBytes)
	if err != nil {
		return nil, fmt.Errorf("iron: PBKDF2: %w", err)
	}
	return k, nil
}

// sign returns the base64url HMAC-SHA256 of base under password and salt.
func sign(password, salt, base string) (string, error) {
	k, err := deriveKey(password, salt)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte(base))
	return b64.EncodeToString(m.Sum(nil)), nil
}

func bytesOf(b byte, n int) []byte {
	s := make([]byte, n)
	for i := range s {
		s[i] = b
	}
	return s
}
