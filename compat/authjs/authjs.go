// Package authjs reads (and writes) the session cookies of Auth.js v5
// (@auth/core, next-auth v5) and NextAuth.js v4 (next-auth v4, JWT session
// strategy), so a Go service can take over those sessions or share them with
// the JavaScript application.
//
// Both formats are compact JWEs with "alg":"dir", so they give
// confidentiality and integrity: the claims cannot be read or changed
// without the secret. The key is derived from the application's secret
// (AUTH_SECRET / NEXTAUTH_SECRET) with HKDF-SHA256:
//
//   - Auth.js v5: enc A256CBC-HS512 (A256GCM is also accepted on Open, as
//     Auth.js does), salt = the session cookie's full name (with its
//     "__Secure-" prefix, if any), info = "Auth.js Generated Encryption Key
//     (<salt>)", 64 bytes. The protected header's "kid" is the RFC 7638
//     thumbprint of that key, which picks the secret when several are
//     configured (the first one seals). The cookie name is therefore part of
//     the key: a cookie only opens under the name it was sealed for.
//   - NextAuth v4: enc A256GCM, salt "", info "NextAuth.js Generated
//     Encryption Key", 32 bytes; no "kid".
//
// The plaintext is a JWT claims set (iat, exp, jti and the application's
// fields); Open checks "exp" and "nbf" with Auth.js's 15 second clock
// tolerance. Neither format binds a value to a user agent, and a copied
// cookie stays valid until its "exp": logging out only deletes the cookie.
//
// Cookies longer than about 4 KB are split by Auth.js into <name>.0,
// <name>.1, ...; OpenRequest joins them and Cookies splits a sealed value
// the same way.
package authjs

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/internal/split"
)

// Default cookie names. Auth.js and NextAuth use the "__Secure-" names when
// the site is served over https (useSecureCookies).
const (
	// CookieName is Auth.js v5's session cookie name over http.
	CookieName = "authjs.session-token"
	// SecureCookieName is Auth.js v5's session cookie name over https.
	SecureCookieName = "__Secure-authjs.session-token"
	// V4CookieName is NextAuth v4's session cookie name over http.
	V4CookieName = "next-auth.session-token"
	// V4SecureCookieName is NextAuth v4's session cookie name over https.
	V4SecureCookieName = "__Secure-next-auth.session-token"
)

// Defaults applied by [New] and [NewV4] to zero [Options] fields.
const (
	// DefaultMaxLen bounds a joined cookie value: Node's default limit on
	// all request headers together is 16 KiB.
	DefaultMaxLen = 4 * 4096
	// DefaultMaxAge is the lifetime Seal gives a session, as Auth.js's
	// session.maxAge default.
	DefaultMaxAge = 30 * 24 * time.Hour
)

const (
	clockTolerance = 15 // seconds, as Auth.js's decode
	chunkSizeV5    = 4096 - 160
	chunkSizeV4    = 4096 - 163
	maxChunks      = 64
)

// Options configures a [Codec]. The zero value selects the defaults.
type Options struct {
	// CookieName is the session cookie's name. Default: [CookieName] for
	// [New], [V4CookieName] for [NewV4]. For Auth.js v5 it is also the
	// HKDF salt, so it must be the exact name the application used,
	// "__Secure-" prefix included (see [SecureCookieName]).
	CookieName string
	// Now returns the current time. Default: time.Now.
	Now func() time.Time
	// MaxLen bounds the length of a (joined) value; longer values fail
	// with [sealed.ErrTooLarge] before any decoding, and Seal refuses to
	// produce them. Default: [DefaultMaxLen].
	MaxLen int
	// MaxAge is the lifetime Seal writes into "exp" and Cookies into
	// Max-Age. Default: [DefaultMaxAge].
	MaxAge time.Duration
}

// Codec opens and seals the session cookies of one Auth.js v5 or NextAuth
// v4 configuration. It is safe for concurrent use.
type Codec struct {
	v4        bool
	name      string
	now       func() time.Time
	maxLen    int
	maxAge    time.Duration
	chunkSize int
	keys      []secretKeys // in configuration order; keys[0] seals
}

// secretKeys holds the keys derived from one secret.
type secretKeys struct {
	cbc    []byte // 64 bytes, A256CBC-HS512 (v5 only)
	gcm    []byte // 32 bytes, A256GCM
	cbcKID string // RFC 7638 SHA-512 thumbprint of cbc (v5 only)
	gcmKID string // RFC 7638 SHA-256 thumbprint of gcm (v5 only)
}

// New returns a Codec for Auth.js v5 session cookies. secrets are the
// application's secret option, in its order: with environment variables
// that is AUTH_SECRET_3, AUTH_SECRET_2, AUTH_SECRET_1, AUTH_SECRET (those
// set). The first seals, and a value's "kid" picks the one that opens it; a
// value without "kid" is tried against each (Auth.js tries only the first).
// Every secret must be non-empty.
func New(secrets []string, opts Options) (*Codec, error) {
	return newCodec(false, secrets, opts)
}

// NewV4 returns a Codec for NextAuth v4 session cookies (JWT strategy).
// secrets are NEXTAUTH_SECRET values; NextAuth v4 itself uses only one, but
// several may be given for rotation: the first seals and Open tries each.
func NewV4(secrets []string, opts Options) (*Codec, error) {
	return newCodec(true, secrets, opts)
}

func newCodec(v4 bool, secrets []string, opts Options) (*Codec, error) {
	if len(secrets) == 0 {
		return nil, errors.New("authjs: no secret")
	}
	c := &Codec{
		v4:        v4,
		name:      opts.CookieName,
		now:       opts.Now,
		maxLen:    opts.MaxLen,
		maxAge:    opts.MaxAge,
		chunkSize: chunkSizeV5,
	}
	if v4 {
		c.chunkSize = chunkSizeV4
	}
	if c.name == "" {
		c.name = CookieName
		if v4 {
			c.name = V4CookieName
		}
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.maxLen == 0 {
		c.maxLen = DefaultMaxLen
	}
	if c.maxLen < 0 {
		return nil, errors.New("authjs: negative MaxLen")
	}
	if c.maxAge == 0 {
		c.maxAge = DefaultMaxAge
	}
	if c.maxAge < 0 {
		return nil, errors.New("authjs: negative MaxAge")
	}
	for i, s := range secrets {
		if s == "" {
			return nil, fmt.Errorf("authjs: secret %d is empty", i)
		}
		var k secretKeys
		var err error
		if v4 {
			k.gcm, err = hkdf.Key(sha256.New, []byte(s), nil, "NextAuth.js Generated Encryption Key", 32)
		} else {
			info := "Auth.js Generated Encryption Key (" + c.name + ")"
			if k.cbc, err = hkdf.Key(sha256.New, []byte(s), []byte(c.name), info, 64); err == nil {
				k.gcm, err = hkdf.Key(sha256.New, []byte(s), []byte(c.name), info, 32)
			}
			k.cbcKID = thumbprint(k.cbc, sha512.New)
			k.gcmKID = thumbprint(k.gcm, sha256.New)
		}
		if err != nil {
			return nil, fmt.Errorf("authjs: deriving key: %w", err)
		}
		c.keys = append(c.keys, k)
	}
	return c, nil
}

// thumbprint is the RFC 7638 thumbprint of a symmetric JWK, as jose's
// calculateJwkThumbprint computes it: base64url(H(`{"k":"…","kty":"oct"}`)).
func thumbprint(key []byte, h func() hash.Hash) string {
	d := h()
	d.Write([]byte(`{"k":"` + base64.RawURLEncoding.EncodeToString(key) + `","kty":"oct"}`))
	return base64.RawURLEncoding.EncodeToString(d.Sum(nil))
}

// CookieName returns the name of the session cookie this Codec reads.
func (c *Codec) CookieName() string { return c.name }

var b64 = base64.RawURLEncoding.Strict()

// Open authenticates and decrypts one complete (joined) session cookie
// value and returns its JWT claims set, a JSON object. Errors wrap
// sealed.ErrTooLarge, ErrMalformed, ErrUnknownKey (a "kid" matching no
// secret), ErrInvalid (wrong secret, tampered, or "nbf" in the future) or
// ErrExpired.
func (c *Codec) Open(value string) (claims []byte, err error) {
	if len(value) > c.maxLen {
		return nil, fmt.Errorf("authjs: value of %d bytes exceeds %d: %w", len(value), c.maxLen, sealed.ErrTooLarge)
	}
	var parts [5]string
	if !split.Exact(value, ".", parts[:]) {
		return nil, fmt.Errorf("authjs: not a compact JWE: %w", sealed.ErrMalformed)
	}
	var dec [5][]byte
	for i, p := range parts {
		if dec[i], err = b64.DecodeString(p); err != nil {
			return nil, fmt.Errorf("authjs: JWE part %d is not base64url: %w", i, sealed.ErrMalformed)
		}
	}
	// Header member names are matched exactly (encoding/json would match
	// struct fields case-insensitively).
	var h map[string]json.RawMessage
	if !utf8.Valid(dec[0]) || json.Unmarshal(dec[0], &h) != nil || h == nil {
		return nil, fmt.Errorf("authjs: bad JWE header: %w", sealed.ErrMalformed)
	}
	alg, algOK := headerString(h, "alg")
	encName, encOK := headerString(h, "enc")
	_, zip := h["zip"]
	_, crit := h["crit"]
	if !algOK || !encOK || alg != "dir" || zip || crit || len(dec[1]) != 0 {
		return nil, fmt.Errorf("authjs: unsupported JWE header: %w", sealed.ErrMalformed)
	}
	var enc jose.ContentEncryption
	switch {
	case encName == "A256GCM":
		enc = jose.A256GCM
		if len(dec[2]) != 12 || len(dec[4]) != 16 {
			return nil, fmt.Errorf("authjs: bad A256GCM iv or tag: %w", sealed.ErrMalformed)
		}
	case encName == "A256CBC-HS512" && !c.v4:
		enc = jose.A256CBC_HS512
		if len(dec[2]) != 16 || len(dec[4]) != 32 || len(dec[3]) == 0 || len(dec[3])%16 != 0 {
			return nil, fmt.Errorf("authjs: bad A256CBC-HS512 iv, ciphertext or tag: %w", sealed.ErrMalformed)
		}
	default:
		return nil, fmt.Errorf("authjs: unsupported enc %q: %w", encName, sealed.ErrMalformed)
	}

	// Pick the candidate keys: by "kid" for v5 when present, else all.
	candidates := make([][]byte, 0, len(c.keys))
	if _, hasKID := h["kid"]; !c.v4 && hasKID {
		kid, ok := headerString(h, "kid")
		if !ok {
			return nil, fmt.Errorf("authjs: bad kid: %w", sealed.ErrMalformed)
		}
		for _, k := range c.keys {
			if enc == jose.A256GCM && k.gcmKID == kid {
				candidates = append(candidates, k.gcm)
			} else if enc == jose.A256CBC_HS512 && k.cbcKID == kid {
				candidates = append(candidates, k.cbc)
			}
		}
		if len(candidates) == 0 {
			return nil, fmt.Errorf("authjs: kid matches no secret: %w", sealed.ErrUnknownKey)
		}
	} else {
		for _, k := range c.keys {
			if enc == jose.A256GCM {
				candidates = append(candidates, k.gcm)
			} else {
				candidates = append(candidates, k.cbc)
			}
		}
	}

	plaintext, err := decrypt(value, enc, candidates)
	if err != nil {
		return nil, err
	}
	if err := c.checkClaims(plaintext); err != nil {
		return nil, err
	}
	return plaintext, nil
}

// headerString returns the string member name of a JWE header.
func headerString(h map[string]json.RawMessage, name string) (string, bool) {
	raw, ok := h[name]
	if !ok || len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// decrypt hands a pre-validated compact JWE to go-jose and tries each key.
func decrypt(value string, enc jose.ContentEncryption, keys [][]byte) (plaintext []byte, err error) {
	defer func() {
		// The input was validated above; this is only a last line of
		// defence so that no cookie can take the server down.
		if r := recover(); r != nil {
			plaintext, err = nil, fmt.Errorf("authjs: JWE rejected: %w", sealed.ErrMalformed)
		}
	}()
	obj, err := jose.ParseEncryptedCompact(value, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{enc})
	if err != nil {
		return nil, fmt.Errorf("authjs: parsing JWE: %w", sealed.ErrMalformed)
	}
	for _, k := range keys {
		if plaintext, err = obj.Decrypt(k); err == nil {
			return plaintext, nil
		}
	}
	return nil, fmt.Errorf("authjs: decryption failed: %w", sealed.ErrInvalid)
}

// checkClaims applies jose's jwtDecrypt claim checks as Auth.js configures
// them: a JSON object in UTF-8, numeric "iat", "nbf" and "exp" when present,
// nbf <= now+15s and exp > now-15s.
func (c *Codec) checkClaims(plaintext []byte) error {
	var set map[string]json.RawMessage
	if !utf8.Valid(plaintext) || json.Unmarshal(plaintext, &set) != nil || set == nil {
		return fmt.Errorf("authjs: claims are not a JSON object: %w", sealed.ErrMalformed)
	}
	var num [3]float64
	var has [3]bool
	for i, name := range [3]string{"iat", "nbf", "exp"} {
		raw, ok := set[name]
		if !ok {
			continue
		}
		if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
			return fmt.Errorf("authjs: %q claim is not a number: %w", name, sealed.ErrMalformed)
		}
		if err := json.Unmarshal(raw, &num[i]); err != nil {
			return fmt.Errorf("authjs: %q claim is not a number: %w", name, sealed.ErrMalformed)
		}
		has[i] = true
	}
	now := float64(c.now().Unix())
	if has[1] && num[1] > now+clockTolerance {
		return fmt.Errorf("authjs: token not valid before %v: %w", num[1], sealed.ErrInvalid)
	}
	if has[2] && num[2] <= now-clockTolerance {
		return fmt.Errorf("authjs: token expired: %w", sealed.ErrExpired)
	}
	return nil
}

// OpenRequest reads the session cookie from req, joining the chunks
// <name>.0, <name>.1, ... when Auth.js split it, and opens it with Open.
// Chunks are joined in numeric order and must be numbered 0..n-1. Without
// any session cookie the error wraps both [http.ErrNoCookie] and
// sealed.ErrMalformed. Unlike Auth.js's getToken, it does not look at an
// Authorization: Bearer header.
func (c *Codec) OpenRequest(req *http.Request) (claims []byte, err error) {
	var (
		plain    string
		hasPlain bool
		chunks   = map[int]string{}
		total    int
		maxIndex = -1
	)
	for _, ck := range req.Cookies() {
		if ck.Value == "" || !strings.HasPrefix(ck.Name, c.name) {
			continue
		}
		if ck.Name == c.name {
			if !hasPlain { // the first of duplicate names wins, as in Auth.js
				plain, hasPlain = ck.Value, true
				total += len(ck.Value)
			}
		} else {
			n, ok := chunkIndex(ck.Name[len(c.name):])
			if !ok {
				continue
			}
			if _, dup := chunks[n]; dup {
				continue
			}
			chunks[n] = ck.Value
			total += len(ck.Value)
			maxIndex = max(maxIndex, n)
		}
		if total > c.maxLen {
			return nil, fmt.Errorf("authjs: session cookies exceed %d bytes: %w", c.maxLen, sealed.ErrTooLarge)
		}
	}
	switch {
	case !hasPlain && len(chunks) == 0:
		return nil, fmt.Errorf("authjs: no %s cookie: %w: %w", c.name, sealed.ErrMalformed, http.ErrNoCookie)
	case hasPlain && len(chunks) > 0:
		return nil, fmt.Errorf("authjs: both %s and its chunks are set: %w", c.name, sealed.ErrMalformed)
	case hasPlain:
		return c.Open(plain)
	}
	if maxIndex != len(chunks)-1 {
		return nil, fmt.Errorf("authjs: %s chunks are not numbered 0..%d: %w", c.name, len(chunks)-1, sealed.ErrMalformed)
	}
	var b strings.Builder
	b.Grow(total)
	for i := range len(chunks) {
		b.WriteString(chunks[i])
	}
	return c.Open(b.String())
}

// chunkIndex parses the ".N" suffix of a chunk cookie's name: a canonical
// decimal below maxChunks.
func chunkIndex(suffix string) (int, bool) {
	digits, ok := strings.CutPrefix(suffix, ".")
	if !ok || digits == "" || len(digits) > 2 || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
		n = n*10 + int(digits[i]-'0')
	}
	return n, n < maxChunks
}

// Seal encrypts a JWT claims set (a JSON object) as the JavaScript library
// does on sign-in or session update: it sets "iat" to now, "exp" to now +
// MaxAge and a fresh random "jti", overriding any given, and encrypts under
// the first secret (v5: A256CBC-HS512 with "kid"; v4: A256GCM). The result
// opens with Auth.js's / NextAuth's decode. Use [Codec.Cookies] to split it
// into cookies. Errors wrap sealed.ErrMalformed (claims not a JSON object)
// or sealed.ErrTooLarge (result longer than MaxLen).
func (c *Codec) Seal(claims []byte) (string, error) {
	var set map[string]json.RawMessage
	if json.Unmarshal(claims, &set) != nil || set == nil {
		return "", fmt.Errorf("authjs: claims are not a JSON object: %w", sealed.ErrMalformed)
	}
	now := c.now().Unix()
	exp := now + int64(math.Ceil(c.maxAge.Seconds()))
	jti, err := uuid4()
	if err != nil {
		return "", err
	}
	set["iat"] = json.RawMessage(strconv.FormatInt(now, 10))
	set["exp"] = json.RawMessage(strconv.FormatInt(exp, 10))
	set["jti"] = json.RawMessage(`"` + jti + `"`)
	payload, err := json.Marshal(set)
	if err != nil {
		return "", fmt.Errorf("authjs: encoding claims: %w", sealed.ErrMalformed)
	}

	k := c.keys[0]
	rcpt := jose.Recipient{Algorithm: jose.DIRECT, Key: k.gcm}
	enc := jose.A256GCM
	if !c.v4 {
		rcpt = jose.Recipient{Algorithm: jose.DIRECT, Key: k.cbc, KeyID: k.cbcKID}
		enc = jose.A256CBC_HS512
	}
	e, err := jose.NewEncrypter(enc, rcpt, nil)
	if err != nil {
		return "", fmt.Errorf("authjs: %w", err)
	}
	obj, err := e.Encrypt(payload)
	if err != nil {
		return "", fmt.Errorf("authjs: %w", err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("authjs: %w", err)
	}
	if len(out) > c.maxLen {
		return "", fmt.Errorf("authjs: sealed value of %d bytes exceeds %d: %w", len(out), c.maxLen, sealed.ErrTooLarge)
	}
	return out, nil
}

func uuid4() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", fmt.Errorf("authjs: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	const hx = "0123456789abcdef"
	b := make([]byte, 0, 36)
	for i, x := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hx[x>>4], hx[x&15])
	}
	return string(b), nil
}

// Cookies returns the Set-Cookie entries that store a sealed value as the
// JavaScript library would: one cookie named CookieName, or, when the value
// is longer than one chunk (3936 characters for v5, 3933 for v4), cookies
// named <name>.0, <name>.1, ... Attributes are Auth.js's: Path=/, HttpOnly,
// SameSite=Lax, Secure for a "__Secure-" name, and Max-Age = MaxAge. If req
// is not nil, session cookies it carries that the new set does not replace
// (the plain cookie or stale chunks) are expired too. An empty value
// expires all of them (sign-out).
func (c *Codec) Cookies(value string, req *http.Request) []*http.Cookie {
	mk := func(name, v string, maxAge int) *http.Cookie {
		return &http.Cookie{
			Name: name, Value: v, Path: "/", MaxAge: maxAge,
			HttpOnly: true, SameSite: http.SameSiteLaxMode,
			Secure: strings.HasPrefix(c.name, "__Secure-"),
		}
	}
	age := int(math.Ceil(c.maxAge.Seconds()))
	var out []*http.Cookie
	set := map[string]bool{}
	switch {
	case value == "":
	case len(value) <= c.chunkSize:
		out = append(out, mk(c.name, value, age))
		set[c.name] = true
	default:
		for i := 0; len(value) > 0; i++ {
			n := min(c.chunkSize, len(value))
			name := c.name + "." + strconv.Itoa(i)
			out = append(out, mk(name, value[:n], age))
			set[name] = true
			value = value[n:]
		}
	}
	if req != nil {
		for _, ck := range req.Cookies() {
			if set[ck.Name] || !strings.HasPrefix(ck.Name, c.name) {
				continue
			}
			if _, ok := chunkIndex(ck.Name[len(c.name):]); ck.Name == c.name || ok {
				out = append(out, mk(ck.Name, "", -1))
				set[ck.Name] = true
			}
		}
	}
	return out
}
