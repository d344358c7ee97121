package compattest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/internal/itsdangerous"
)

// The vector of a [Suite]: the cookie value the framework itself sets for
// the session VectorSession, signed with VectorSecret at VectorTS.
const (
	VectorSecret  = "secret-key"
	VectorTS      = 1700000000
	VectorTSText  = "ZVPxAA" // VectorTS as itsdangerous writes it
	VectorSession = `{"user":"alice"}`
)

// A Timed codec opens and seals session cookies that itsdangerous signed
// with a timestamp and that hold a JSON object: *flask.Codec and
// *starlette.Codec.
type Timed interface {
	Open(value string) (payload []byte, issued time.Time, err error)
	Seal(payload []byte) (string, error)
}

// A Suite describes a Timed codec for the tests that every one passes:
// Test, and the fuzz targets FuzzOpen and FuzzOpenSigned.
type Suite[C Timed] struct {
	// New returns a codec for secret with opts, which convert to the
	// codec's own Options.
	New func(secret string, opts itsdangerous.Options) (C, error)
	// Key returns the key c signs with.
	Key func(c C) []byte
	// Vector is the framework's cookie value for VectorSession, signed
	// with VectorSecret at VectorTS.
	Vector string
	// DefaultMaxAge and DefaultMaxLen are the codec's defaults.
	DefaultMaxAge time.Duration
	DefaultMaxLen int
	// Payloads returns what to sign for the JSON js in FuzzOpenSigned: js
	// encoded as the codec may find it in a cookie, and js itself.
	Payloads func(js string) []string
	// Canonical, if set, returns the form in which a session opened from a
	// cookie and the same session sealed again and reopened must agree;
	// nil: they must be the same bytes.
	Canonical func(tb testing.TB, session []byte) string
	// Seeds are more seeds for FuzzOpen.
	Seeds []string
}

// Codec returns a codec for secret with opts, failing tb if New fails.
func (s Suite[C]) Codec(tb testing.TB, secret string, opts itsdangerous.Options) C {
	tb.Helper()
	c, err := s.New(secret, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// atVector returns a codec for the vector's secret at the vector's time.
func (s Suite[C]) atVector(tb testing.TB) C {
	tb.Helper()
	return s.Codec(tb, VectorSecret, itsdangerous.Options{Now: At(VectorTS)})
}

func (s Suite[C]) canonical(tb testing.TB, session []byte) string {
	tb.Helper()
	if s.Canonical == nil {
		return string(session)
	}
	return s.Canonical(tb, session)
}

// Test runs the tests every Timed codec passes, as subtests of t.
func (s Suite[C]) Test(t *testing.T) {
	t.Run("Vector", s.testVector)
	t.Run("Tamper", s.testTamper)
	t.Run("Truncated", s.testTruncated)
	t.Run("WrongSecret", s.testWrongSecret)
	t.Run("Age", s.testAge)
	t.Run("TooLarge", s.testTooLarge)
	t.Run("Garbage", s.testGarbage)
	t.Run("Signed", s.testSigned)
	t.Run("Seal", s.testSeal)
	t.Run("New", s.testNew)
}

// testVector opens the framework's cookie, and seals the same session into
// the same bytes, whatever the spacing of the JSON given.
func (s Suite[C]) testVector(t *testing.T) {
	c := s.atVector(t)
	p, issued, err := c.Open(s.Vector)
	if err != nil {
		t.Fatal(err)
	}
	if string(p) != VectorSession {
		t.Errorf("payload = %s", p)
	}
	if !issued.Equal(time.Unix(VectorTS, 0)) || issued.Location() != time.UTC {
		t.Errorf("issued = %v", issued)
	}
	for _, in := range []string{VectorSession, `{"user": "alice"}`, " {\n\"user\" :\"alice\"} "} {
		got, err := c.Seal([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if got != s.Vector {
			t.Errorf("Seal(%q) = %q, want %q", in, got, s.Vector)
		}
	}
}

// testTamper changes each character of the vector: the signature catches
// it, unless the value no longer has the shape of one.
func (s Suite[C]) testTamper(t *testing.T) {
	c := s.atVector(t)
	v := s.Vector
	sigStart := strings.LastIndexByte(v, '.') + 1
	for i := range len(v) {
		for _, r := range "AZaz09-_+/=" {
			if byte(r) == v[i] {
				continue
			}
			_, _, err := c.Open(v[:i] + string(r) + v[i+1:])
			switch {
			case v[i] == '.' || i == len(v)-1:
				// The shape broken, or the signature's last character
				// (two spare bits): malformed or invalid.
				WantErr(t, err, sealed.ErrInvalid, sealed.ErrMalformed)
			case i >= sigStart && strings.ContainsRune("+/=", r):
				WantErr(t, err, sealed.ErrMalformed) // the signature is not base64url
			default:
				WantErr(t, err, sealed.ErrInvalid)
			}
		}
	}
}

// testTruncated opens every prefix and suffix of the vector.
func (s Suite[C]) testTruncated(t *testing.T) {
	c := s.atVector(t)
	for i := range len(s.Vector) {
		_, _, err := c.Open(s.Vector[:i])
		WantErr(t, err, sealed.ErrMalformed, sealed.ErrInvalid)
		_, _, err = c.Open(s.Vector[i+1:])
		WantErr(t, err, sealed.ErrMalformed, sealed.ErrInvalid)
	}
}

func (s Suite[C]) testWrongSecret(t *testing.T) {
	_, _, err := s.Codec(t, VectorSecret+"2", itsdangerous.Options{Now: At(VectorTS)}).Open(s.Vector)
	WantErr(t, err, sealed.ErrInvalid)
}

// testAge checks the age rule: whole seconds up to MaxAge, nothing signed
// in the future, no check with a negative MaxAge, and the signature first.
func (s Suite[C]) testAge(t *testing.T) {
	days := int64(s.DefaultMaxAge / time.Second)
	for _, tc := range []struct {
		maxAge time.Duration
		now    int64
		ok     bool
	}{
		{0, VectorTS, true},
		{0, VectorTS + days, true},
		{0, VectorTS + days + 1, false},
		{0, VectorTS - 1, false}, // signed in the future
		{time.Hour, VectorTS + 3600, true},
		{time.Hour, VectorTS + 3601, false},
		{time.Hour + 999*time.Millisecond, VectorTS + 3601, false}, // whole seconds
		{-1, VectorTS + 100*days, true},
		{-1, VectorTS - 1000, true},
	} {
		_, _, err := s.Codec(t, VectorSecret, itsdangerous.Options{MaxAge: tc.maxAge, Now: At(tc.now)}).Open(s.Vector)
		if tc.ok && err != nil {
			t.Errorf("MaxAge %v, now ts%+d: %v", tc.maxAge, tc.now-VectorTS, err)
		}
		if !tc.ok && !errors.Is(err, sealed.ErrExpired) {
			t.Errorf("MaxAge %v, now ts%+d: got %v, want ErrExpired", tc.maxAge, tc.now-VectorTS, err)
		}
	}
	// Expiry is checked only after the signature.
	_, _, err := s.Codec(t, "other", itsdangerous.Options{Now: At(VectorTS + 10*days)}).Open(s.Vector)
	WantErr(t, err, sealed.ErrInvalid)
}

// testTooLarge checks MaxLen, before anything else in Open and on Seal's
// result.
func (s Suite[C]) testTooLarge(t *testing.T) {
	c := s.atVector(t)
	_, _, err := c.Open(strings.Repeat("\x00", s.DefaultMaxLen+1))
	WantErr(t, err, sealed.ErrTooLarge)
	_, _, err = c.Open(strings.Repeat("A", s.DefaultMaxLen) + s.Vector)
	WantErr(t, err, sealed.ErrTooLarge)

	small := s.Codec(t, VectorSecret, itsdangerous.Options{Now: At(VectorTS), MaxLen: len(s.Vector) - 1})
	_, _, err = small.Open(s.Vector)
	WantErr(t, err, sealed.ErrTooLarge)
	_, err = small.Seal([]byte(VectorSession))
	WantErr(t, err, sealed.ErrTooLarge)
	exact := s.Codec(t, VectorSecret, itsdangerous.Options{Now: At(VectorTS), MaxLen: len(s.Vector)})
	if _, _, err := exact.Open(s.Vector); err != nil {
		t.Error(err)
	}
}

// testGarbage opens values that are not cookies of the codec, or are the
// vector slightly broken.
func (s Suite[C]) testGarbage(t *testing.T) {
	c := s.atVector(t)
	v := s.Vector
	n := len(v)
	for _, in := range []string{
		"", ".", "..", "...", "null", "a.b", "a.b.c", "{}", "\x00\xff.\n.\r",
		v + "=", v[:n-1], v + ".", v[:n-3] + "\n" + v[n-3:],
		strings.Replace(v, "."+VectorTSText+".", "."+VectorTSText+"..", 1),
		v[:strings.LastIndexByte(v, '.')+1] + "+" + v[strings.LastIndexByte(v, '.')+2:],
	} {
		_, _, err := c.Open(in)
		WantErr(t, err, sealed.ErrMalformed, sealed.ErrInvalid)
	}
	for _, in := range []string{"", "null"} {
		_, _, err := c.Open(in)
		WantErr(t, err, sealed.ErrMalformed)
	}
}

// testSigned signs, as a holder of the key could, JSON that is not a
// session, and good JSON with bad timestamps: longer than 8 bytes, over
// MaxInt64, not base64url. All are malformed; an empty timestamp is 0, as
// in itsdangerous.
func (s Suite[C]) testSigned(t *testing.T) {
	c := s.atVector(t)
	for name, js := range map[string]string{
		"bad json": `{"a":`,
		"trailing": `{"a":1} x`,
		"array":    `[1]`,
		"string":   `"s"`,
		"null":     `null`,
		"NaN":      `{"a":NaN}`,
		"bad utf8": "{\"a\":\"\xff\"}",
		"deep":     `{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + "}",
		"empty":    "",
	} {
		_, _, err := c.Open(SignTS(s.Key(c), s.Payloads(js)[0], VectorTSText))
		if !errors.Is(err, sealed.ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
	payload := s.Payloads(`{"a":1}`)[0]
	for _, ts := range []string{"AAAAAAAAAAAA", "gAAAAAAAAAA", "A", "!", "ZVPx=A"} {
		_, _, err := c.Open(SignTS(s.Key(c), payload, ts))
		if !errors.Is(err, sealed.ErrMalformed) {
			t.Errorf("timestamp %q: got %v, want ErrMalformed", ts, err)
		}
	}
	noAge := s.Codec(t, VectorSecret, itsdangerous.Options{MaxAge: -1})
	if _, issued, err := noAge.Open(SignTS(s.Key(c), payload, "")); err != nil || issued.Unix() != 0 {
		t.Errorf("empty timestamp: %v, %v", issued, err)
	}
}

// testSeal seals what is not a JSON object, and at times before and at
// 1970.
func (s Suite[C]) testSeal(t *testing.T) {
	c := s.atVector(t)
	for _, in := range []string{"", "null", "[]", `"s"`, "1", `{"a":`, `{"a":1}{}`, "{\"a\":\"\xff\"}"} {
		_, err := c.Seal([]byte(in))
		WantErr(t, err, sealed.ErrMalformed)
	}
	if _, err := s.Codec(t, VectorSecret, itsdangerous.Options{Now: At(-1)}).Seal([]byte(`{}`)); err == nil {
		t.Error("Seal before 1970: no error")
	}
	zero := s.Codec(t, VectorSecret, itsdangerous.Options{Now: At(0), MaxAge: -1})
	v, err := zero.Seal([]byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, issued, err := zero.Open(v); err != nil || issued.Unix() != 0 {
		t.Errorf("timestamp 0: %v %v", issued, err)
	}
}

// testNew checks that New refuses what it must.
func (s Suite[C]) testNew(t *testing.T) {
	for name, tc := range map[string]struct {
		secret string
		opts   itsdangerous.Options
	}{
		"empty secret":   {"", itsdangerous.Options{}},
		"sub-second age": {"k", itsdangerous.Options{MaxAge: 500 * time.Millisecond}},
		"negative len":   {"k", itsdangerous.Options{MaxLen: -1}},
	} {
		var zero C
		if c, err := s.New(tc.secret, tc.opts); err == nil || any(c) != any(zero) {
			t.Errorf("%s: New = %v, %v; want an error", name, c, err)
		}
	}
}

// FuzzOpen feeds arbitrary values to Open: it must fail with a sentinel,
// or return a JSON object that seals and opens again to the same session.
func (s Suite[C]) FuzzOpen(f *testing.F) {
	for _, seed := range append([]string{s.Vector, "", "a.b.c"}, s.Seeds...) {
		f.Add(seed)
	}
	c := s.atVector(f)
	f.Fuzz(func(t *testing.T, v string) {
		p, issued, err := c.Open(v)
		CheckOpen(t, "Open", p, err, IsObject)
		if err != nil {
			return
		}
		if issued.Unix() != VectorTS {
			t.Fatalf("issued %v", issued)
		}
		again, err := c.Seal(p)
		if err != nil {
			t.Fatalf("Seal(Open(v)): %v", err)
		}
		p2, _, err := c.Open(again)
		if err != nil || s.canonical(t, p2) != s.canonical(t, p) {
			t.Fatalf("Open(Seal(%s)) = %s, %v", p, p2, err)
		}
	})
}

// FuzzOpenSigned fuzzes what lies behind a valid signature (the payload's
// encoding, compression, JSON and tags), which FuzzOpen rarely reaches: it
// must fail as malformed or too large, or open to a session that seals
// and opens again to the same one.
func (s Suite[C]) FuzzOpenSigned(f *testing.F) {
	c := s.atVector(f)
	for _, seed := range []string{VectorSession, `{"a":[1,{"b":null}],"c":"\u00e9"}`, `[1]`, `{"x":{" t":[1]}}`, `{"x":{" di":{" b__":"y"}}}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, js string) {
		for _, payload := range s.Payloads(js) {
			p, _, err := c.Open(SignTS(s.Key(c), payload, VectorTSText))
			if err != nil {
				if !errors.Is(err, sealed.ErrMalformed) && !errors.Is(err, sealed.ErrTooLarge) {
					t.Fatalf("signed payload %q: %v", payload, err)
				}
				continue
			}
			again, err := c.Seal(p)
			if err != nil {
				if errors.Is(err, sealed.ErrTooLarge) {
					continue // re-encoding may grow it (ASCII escapes)
				}
				t.Fatalf("Seal(Open(v)) of %s: %v", p, err)
			}
			p2, _, err := c.Open(again)
			if err != nil || s.canonical(t, p2) != s.canonical(t, p) {
				t.Fatalf("Open(Seal(%s)) = %s, %v", p, p2, err)
			}
		}
	})
}
