// Package flask reads and writes Flask's default session cookies (those of
// flask.sessions.SecureCookieSessionInterface), so that a Go service can
// take over or share a Flask session.
//
// # Format
//
// Flask serializes the session dict with its tagged JSON (compact, keys
// sorted, non-ASCII escaped), encodes it as unpadded base64url, and signs it
// with itsdangerous's URLSafeTimedSerializer:
//
//	["."] base64url(json or zlib(json)) "." base64url(timestamp) "." base64url(HMAC-SHA1(key, everything before the last "."))
//
// where key = HMAC-SHA1(SECRET_KEY, "cookie-session") (salt "cookie-session",
// key derivation "hmac") and the timestamp is the signing time in whole
// Unix seconds as big-endian bytes with leading zero bytes dropped. A
// leading "." marks a zlib-compressed payload, used when it is shorter.
// Flask verifies with SECRET_KEY and each of SECRET_KEY_FALLBACKS, and
// rejects a cookie more than PERMANENT_SESSION_LIFETIME old (31 days by
// default) or signed in the future, whether or not the session is
// permanent.
//
// # Tagged JSON
//
// Flask's tagged JSON wraps Python types that JSON lacks in one-key
// objects. [Codec.Open] resolves the default tags into plain JSON:
//
//	{" t": [...]}       tuple             -> the array
//	{" b": "base64"}    bytes             -> the standard base64 string (padded)
//	{" d": "http-date"} datetime          -> an RFC 3339 string in UTC, e.g. "2015-10-21T07:28:00Z"
//	                                         (null if the date does not parse, as werkzeug's parse_date)
//	{" u": "hex"}       uuid.UUID         -> "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lowercase)
//	{" m": "html"}      markupsafe.Markup -> the string
//	{" di": {"K__": v}} one-key dict whose key K is a tag -> {"K": v}
//
// Any other object, including one tagged by an application's own
// registered tag, is left as is. The mapping loses the Python types: a
// session opened and sealed again carries strings and arrays where Flask
// had datetimes, bytes and tuples. [Codec.Seal] writes plain JSON and
// escapes only one-key objects whose key is a tag name (with " di"), as
// Flask does.
//
// [Codec.Open] is stricter than itsdangerous in what it parses, never in what
// it trusts: it takes only the canonical base64 that Flask writes (itsdangerous
// also skips stray characters), JSON nested at most 500 deep, and no NaN or
// Infinity.
//
// # What it protects
//
// The cookie is SIGNED, NOT ENCRYPTED: anyone who holds it can decode (and
// decompress) the payload and read the whole session. The signature only
// stops a client from forging or altering a session without the secret key,
// and the timestamp only bounds how long a copied cookie stays valid;
// nothing revokes a cookie earlier. Keep secrets out of such sessions.
//
// # Use
//
// Create a [Codec] with the application's SECRET_KEY (and
// SECRET_KEY_FALLBACKS) and PERMANENT_SESSION_LIFETIME (see [Options]);
// [Codec.Open] verifies a cookie value and returns the session as a JSON
// object, and [Codec.Seal] signs a JSON object into a cookie value that
// Flask accepts. Errors wrap the sentinels of package sealed
// ([sealed.ErrMalformed], [sealed.ErrInvalid], [sealed.ErrExpired],
// [sealed.ErrTooLarge]); test them with errors.Is. Each one means there is
// no valid session, as Flask itself treats a bad cookie as an empty session.
package flask

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/internal/itsdangerous"
	"github.com/sealedcookie/sealed/compat/internal/pyjson"
)

// DefaultMaxAge is Flask's default PERMANENT_SESSION_LIFETIME: 31 days.
const DefaultMaxAge = 31 * 24 * time.Hour

// DefaultMaxLen is the default bound on a cookie value's length: the usual
// browser limit for one cookie.
const DefaultMaxLen = 4096

// DefaultCookieName is Flask's default SESSION_COOKIE_NAME.
const DefaultCookieName = "session"

// MaxDecompressed bounds the JSON inside a compressed cookie: Open stops
// inflating past it (sealed.ErrTooLarge), which defeats zlib bombs, and
// Seal refuses a session whose JSON is longer.
const MaxDecompressed = 64 << 10

// salt is SecureCookieSessionInterface.salt.
const salt = "cookie-session"

// Options configures a [Codec]. The zero value matches Flask's defaults.
type Options struct {
	// MaxAge is PERMANENT_SESSION_LIFETIME. Zero means DefaultMaxAge (31
	// days); a negative value means no age check (Flask always checks).
	// It is counted in whole seconds, so a positive value under one second
	// is an error.
	MaxAge time.Duration

	// Now returns the current time, for the age check and for Seal's
	// timestamp. Nil means time.Now.
	Now func() time.Time

	// MaxLen bounds the length of a cookie value: Open rejects a longer
	// one before decoding anything and Seal refuses to produce one. Zero
	// means DefaultMaxLen; negative is an error.
	MaxLen int
}

// Codec opens and seals Flask session cookie values. It is safe for
// concurrent use.
type Codec struct {
	core *itsdangerous.Codec // what Flask and Starlette share
}

// New returns a Codec for Flask's SECRET_KEY secret and, optionally, its
// SECRET_KEY_FALLBACKS. Seal signs with secret; Open accepts a value signed
// with secret or any fallback. No secret may be empty.
func New(secret string, opts Options, fallbacks ...string) (*Codec, error) {
	derive := func(s string) []byte { return itsdangerous.HMACKey(salt, s) }
	c, err := itsdangerous.NewCodec("flask", derive, append([]string{secret}, fallbacks...), itsdangerous.Options(opts), DefaultMaxAge, DefaultMaxLen)
	if err != nil {
		return nil, err
	}
	return &Codec{c}, nil
}

// Open verifies a session cookie value and returns the session as a compact
// JSON object with Flask's tags resolved (see the package documentation),
// keys in the cookie's order, and the time it was signed. A value longer
// than MaxLen fails with sealed.ErrTooLarge before any decoding, as does a
// compressed payload that inflates past MaxDecompressed; a bad signature
// fails with sealed.ErrInvalid; a value too old or signed in the future
// with sealed.ErrExpired; anything else that is not a signed JSON object
// (including JSON using Python's NaN or Infinity, and a malformed tag) with
// sealed.ErrMalformed.
func (c *Codec) Open(value string) (payload []byte, issued time.Time, err error) {
	data, issued, err := c.core.Unsign(value)
	if err != nil {
		return nil, time.Time{}, err
	}
	compressed := strings.HasPrefix(data, ".")
	if compressed {
		data = data[1:]
	}
	if !itsdangerous.IsBase64URL(data) {
		return nil, time.Time{}, c.core.Malformed("payload is not base64url")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(data)
	if err != nil {
		return nil, time.Time{}, c.core.Malformed("payload is not base64url")
	}
	if compressed {
		if raw, err = inflate(raw); err != nil {
			return nil, time.Time{}, fmt.Errorf("flask: %w", err)
		}
	}
	v, err := pyjson.Parse(raw)
	if err != nil {
		return nil, time.Time{}, c.core.Malformed("%v", err)
	}
	if v, err = untag(v); err != nil {
		return nil, time.Time{}, c.core.Malformed("%v", err)
	}
	if err := c.core.CheckObject(v); err != nil {
		return nil, time.Time{}, err
	}
	return v.Append(nil, pyjson.Style{ItemSep: ",", KeySep: ":"}), issued, nil
}

// Seal signs payload, which must be a JSON object, into a session cookie
// value with the current time as its timestamp. It writes the JSON as Flask
// would for the same dict (tagged JSON, compact, keys sorted, a repeated key
// keeping its last value, non-ASCII escaped; numbers keep their text) and
// compresses it with zlib when that is shorter, as itsdangerous does. An
// uncompressed value is byte for byte the one Flask sets for the same
// session and second; a compressed one may differ in its zlib bytes but
// opens the same. A payload that is not a JSON object fails with
// sealed.ErrMalformed; a value that would exceed MaxLen, or JSON longer
// than MaxDecompressed, with sealed.ErrTooLarge.
func (c *Codec) Seal(payload []byte) (string, error) {
	v, err := c.core.ParseObject(payload)
	if err != nil {
		return "", err
	}
	js := tag(v).Append(nil, pyjson.Style{ItemSep: ",", KeySep: ":", ASCII: true, SortKeys: true})
	if len(js) > MaxDecompressed {
		return "", fmt.Errorf("flask: %w: session JSON %d bytes > %d", sealed.ErrTooLarge, len(js), MaxDecompressed)
	}
	var zb bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&zb, 6) // zlib.compress's default level
	zw.Write(js)
	zw.Close()
	var data string
	if zb.Len() < len(js)-1 {
		data = "." + base64.RawURLEncoding.EncodeToString(zb.Bytes())
	} else {
		data = base64.RawURLEncoding.EncodeToString(js)
	}
	return c.core.Sign(data)
}

// inflate decompresses a zlib stream of at most MaxDecompressed bytes.
func inflate(b []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: zlib: %v", sealed.ErrMalformed, err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, MaxDecompressed+1))
	if err != nil {
		return nil, fmt.Errorf("%w: zlib: %v", sealed.ErrMalformed, err)
	}
	if len(out) > MaxDecompressed {
		return nil, fmt.Errorf("%w: payload inflates past %d bytes", sealed.ErrTooLarge, MaxDecompressed)
	}
	return out, nil
}

// tags are the keys of Flask's default TaggedJSONSerializer tags.
var tags = map[string]bool{" di": true, " t": true, " b": true, " m": true, " u": true, " d": true}

// tag escapes v the way TaggedJSONSerializer.tag does for plain JSON: a
// one-key object whose key is a tag becomes {" di": {key + "__": value}}.
func tag(v *pyjson.Value) *pyjson.Value {
	switch v.Kind {
	case pyjson.Array:
		out := &pyjson.Value{Kind: pyjson.Array, Items: make([]*pyjson.Value, len(v.Items))}
		for i, item := range v.Items {
			out.Items[i] = tag(item)
		}
		return out
	case pyjson.Object:
		if len(v.Members) == 1 && tags[v.Members[0].Key] {
			m := v.Members[0]
			inner := &pyjson.Value{Kind: pyjson.Object, Members: []pyjson.Member{{Key: m.Key + "__", Value: tag(m.Value)}}}
			return &pyjson.Value{Kind: pyjson.Object, Members: []pyjson.Member{{Key: " di", Value: inner}}}
		}
		out := &pyjson.Value{Kind: pyjson.Object, Members: make([]pyjson.Member, len(v.Members))}
		for i, m := range v.Members {
			out.Members[i] = pyjson.Member{Key: m.Key, Value: tag(m.Value)}
		}
		return out
	}
	return v
}

// untag resolves tags bottom-up, as TaggedJSONSerializer._untag_scan does,
// mapping each tagged value to plain JSON (see the package documentation).
func untag(v *pyjson.Value) (*pyjson.Value, error) {
	var err error
	switch v.Kind {
	case pyjson.Array:
		for i := range v.Items {
			if v.Items[i], err = untag(v.Items[i]); err != nil {
				return nil, err
			}
		}
		return v, nil
	case pyjson.Object:
		for i := range v.Members {
			if v.Members[i].Value, err = untag(v.Members[i].Value); err != nil {
				return nil, err
			}
		}
		if len(v.Members) != 1 || !tags[v.Members[0].Key] {
			return v, nil
		}
		return resolve(v.Members[0].Key, v.Members[0].Value)
	}
	return v, nil
}

// resolve maps the (already untagged) value of tag key to plain JSON.
func resolve(key string, x *pyjson.Value) (*pyjson.Value, error) {
	switch key {
	case " t":
		if x.Kind != pyjson.Array {
			return nil, errors.New(`" t" tag: not an array`)
		}
		return x, nil
	case " m":
		if x.Kind != pyjson.String {
			return nil, errors.New(`" m" tag: not a string`)
		}
		return x, nil
	case " b":
		if x.Kind != pyjson.String {
			return nil, errors.New(`" b" tag: not a string`)
		}
		b, err := base64.StdEncoding.DecodeString(x.Text)
		if err != nil {
			return nil, errors.New(`" b" tag: not base64`)
		}
		return pyjson.Str(base64.StdEncoding.EncodeToString(b)), nil
	case " u":
		if x.Kind != pyjson.String {
			return nil, errors.New(`" u" tag: not a string`)
		}
		u, ok := parseUUID(x.Text)
		if !ok {
			return nil, errors.New(`" u" tag: not a UUID`)
		}
		return pyjson.Str(u), nil
	case " d":
		if x.Kind != pyjson.String {
			return nil, errors.New(`" d" tag: not a string`)
		}
		t, err := http.ParseTime(x.Text)
		if err != nil {
			t, err = time.Parse(time.RFC1123Z, x.Text)
		}
		if err != nil {
			// werkzeug's parse_date returns None for a bad date.
			return &pyjson.Value{Kind: pyjson.Null}, nil
		}
		return pyjson.Str(t.UTC().Format(time.RFC3339)), nil
	default: // " di"
		if x.Kind != pyjson.Object || len(x.Members) == 0 {
			return nil, errors.New(`" di" tag: not a non-empty object`)
		}
		// TagDict.to_python keeps the first key, minus its last two
		// characters.
		m := x.Members[0]
		k := []rune(m.Key)
		k = k[:max(len(k)-2, 0)]
		return &pyjson.Value{Kind: pyjson.Object, Members: []pyjson.Member{{Key: string(k), Value: m.Value}}}, nil
	}
}

// parseUUID accepts what Python's uuid.UUID(hex) does (optional "urn:",
// "uuid:", braces and hyphens around 32 hex digits) and returns the
// canonical lowercase hyphenated form.
func parseUUID(s string) (string, bool) {
	s = strings.ReplaceAll(s, "urn:", "")
	s = strings.ReplaceAll(s, "uuid:", "")
	s = strings.Trim(s, "{}")
	s = strings.ReplaceAll(s, "-", "")
	if len(s) != 32 {
		return "", false
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return "", false
	}
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}
