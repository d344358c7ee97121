package jwe_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/jwe"
)

var (
	t0     = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	expiry = t0.Add(time.Hour)
)

func fixedKey(t testing.TB, id string, b byte) sealed.Key {
	t.Helper()
	k, err := sealed.NewKey(id, bytes.Repeat([]byte{b}, sealed.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newSealer(t *testing.T, primary sealed.Key, previous ...sealed.Key) *jwe.Sealer {
	t.Helper()
	ring, err := sealed.NewKeyRing(primary, previous...)
	if err != nil {
		t.Fatal(err)
	}
	s := jwe.NewSealer(ring)
	s.Now = func() time.Time { return t0 }
	return s
}

func TestJWERoundTrip(t *testing.T) {
	s := newSealer(t, fixedKey(t, "k1", 1))
	v, err := s.Seal("session", []byte(`{"user":"alice"}`), expiry)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(v, ".") != 4 {
		t.Fatalf("not compact JWE: %q", v)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(v[:strings.IndexByte(v, '.')])
	var h map[string]any
	if err := json.Unmarshal(hdr, &h); err != nil {
		t.Fatal(err)
	}
	if h["alg"] != "dir" || h["enc"] != "A256GCM" || h["kid"] != "k1" || h["cookie"] != "session" || h["exp"] != float64(expiry.Unix()) {
		t.Fatalf("protected header = %v", h)
	}
	pt, info, err := s.Open("session", v)
	if err != nil || string(pt) != `{"user":"alice"}` || info.KeyID != "k1" || !info.Expires.Equal(expiry) || info.Stale {
		t.Fatalf("Open = %q, %+v, %v", pt, info, err)
	}
}

func TestJWEErrors(t *testing.T) {
	k1, k2 := fixedKey(t, "k1", 1), fixedKey(t, "k2", 2)
	s := newSealer(t, k1)
	v, _ := s.Seal("session", []byte("data"), expiry)

	if _, info, err := newSealer(t, k2, k1).Open("session", v); err != nil || !info.Stale {
		t.Fatalf("previous key: %+v, %v", info, err)
	}
	parts := strings.Split(v, ".")
	flip := func(i int) string {
		p := append([]string(nil), parts...)
		b, _ := base64.RawURLEncoding.DecodeString(p[i])
		if len(b) == 0 {
			b = []byte{0}
		} else {
			b[len(b)/2] ^= 1
		}
		p[i] = base64.RawURLEncoding.EncodeToString(b)
		return strings.Join(p, ".")
	}
	cases := []struct {
		name, cookie, value string
		s                   *jwe.Sealer
		want                error
	}{
		{"other cookie", "admin", v, s, sealed.ErrInvalid},
		{"unknown key", "session", v, newSealer(t, k2), sealed.ErrUnknownKey},
		{"same id other secret", "session", v, newSealer(t, fixedKey(t, "k1", 9)), sealed.ErrInvalid},
		{"ciphertext", "session", flip(3), s, sealed.ErrInvalid},
		{"tag", "session", flip(4), s, sealed.ErrInvalid},
		{"iv", "session", flip(2), s, sealed.ErrInvalid},
		{"header", "session", flip(0), s, sealed.ErrMalformed},
		{"empty", "session", "", s, sealed.ErrMalformed},
		{"four parts", "session", strings.Join(parts[:4], "."), s, sealed.ErrMalformed},
		{"json form", "session", `{"protected":"x"}....`, s, sealed.ErrMalformed},
		{"garbage", "session", "a.b.c.d.e", s, sealed.ErrMalformed},
		{"huge", "session", strings.Repeat("a.", 5000), s, sealed.ErrTooLarge},
	}
	for _, c := range cases {
		if _, _, err := c.s.Open(c.cookie, c.value); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	late := newSealer(t, k1)
	late.Now = func() time.Time { return expiry }
	if _, info, err := late.Open("session", v); !errors.Is(err, sealed.ErrExpired) || !info.Expires.Equal(expiry) {
		t.Fatalf("expired: %+v, %v", info, err)
	}
	if _, err := s.Seal("session", make([]byte, 3000), expiry); !errors.Is(err, sealed.ErrTooLarge) {
		t.Fatalf("too large: %v", err)
	}
}

// A header edited to extend the expiry is caught: the header is the AAD.
func TestJWEHeaderIsAuthenticated(t *testing.T) {
	s := newSealer(t, fixedKey(t, "k1", 1))
	v, _ := s.Seal("session", []byte("data"), expiry)
	parts := strings.Split(v, ".")
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h map[string]any
	json.Unmarshal(hdr, &h)
	h["exp"] = float64(expiry.Add(24 * time.Hour).Unix())
	hdr, _ = json.Marshal(h)
	parts[0] = base64.RawURLEncoding.EncodeToString(hdr)
	if _, _, err := s.Open("session", strings.Join(parts, ".")); !errors.Is(err, sealed.ErrInvalid) {
		t.Fatalf("extended exp: %v, want ErrInvalid", err)
	}
}

// Each part of a compact JWE must be canonical unpadded base64url, as a v1
// value must be: a value has one spelling. A non-zero unused bit in the last
// character, padding, a line break or the standard alphabet in any part is
// ErrMalformed, found before the JOSE parser (which decodes leniently) sees
// the value; and with the protected header re-encoded for the AAD, the
// alias would otherwise authenticate.
func TestJWEOpenRejectsNonCanonicalBase64(t *testing.T) {
	s := newSealer(t, fixedKey(t, "k1", 1))
	v, err := s.Seal("session", []byte(`{"user":"alice"}`), expiry)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Open("session", v); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(v, ".")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	edit := func(i int, f func(string) string) string {
		p := append([]string(nil), parts...)
		p[i] = f(p[i])
		return strings.Join(p, ".")
	}
	// alias sets the lowest unused bit of the part's last character: the
	// same bytes to a lenient decoder.
	alias := func(part string) string {
		unused := map[int]int{2: 4, 3: 2}[len(part)%4]
		if unused == 0 {
			t.Fatalf("part %q has no unused bits", part)
		}
		c := strings.IndexByte(alphabet, part[len(part)-1])
		return part[:len(part)-1] + string(alphabet[c|1])
	}
	pad := func(part string) string { return part + strings.Repeat("=", (4-len(part)%4)%4) }
	type tc struct{ name, value string }
	var cases []tc
	for i, name := range []string{"protected header", "encrypted key", "iv", "ciphertext", "tag"} {
		p := parts[i]
		if n := len(p) % 4; n == 2 || n == 3 {
			cases = append(cases, tc{name + ": non-zero trailing bits", edit(i, alias)})
			cases = append(cases, tc{name + ": padding", edit(i, pad)})
		}
		cases = append(cases,
			tc{name + ": CR LF inside", edit(i, func(p string) string { return p[:len(p)/2] + "\r\n" + p[len(p)/2:] })},
			tc{name + ": trailing '='", edit(i, func(p string) string { return p + "=" })},
			tc{name + ": one character too many", edit(i, func(p string) string { return p + "AAAAA"[:1+(4-len(p)%4)%4] })},
		)
		if len(p) > 0 {
			cases = append(cases, tc{name + ": standard alphabet", edit(i, func(p string) string {
				return strings.NewReplacer("-", "+", "_", "/").Replace(p[:len(p)-1]) + "+" + p[len(p)-1:]
			})})
		}
	}
	if len(cases) < 20 {
		t.Fatalf("only %d cases: %q", len(cases), parts)
	}
	for _, c := range cases {
		if c.value == v {
			t.Fatalf("%s: unchanged value", c.name)
		}
		if pt, _, err := s.Open("session", c.value); !errors.Is(err, sealed.ErrMalformed) {
			t.Errorf("%s: Open = %q, %v; want ErrMalformed", c.name, pt, err)
		}
	}
}
