package sealed_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

func newJWESealer(t *testing.T, primary sealed.Key, previous ...sealed.Key) *sealed.JWESealer {
	t.Helper()
	ring, err := sealed.NewKeyRing(primary, previous...)
	if err != nil {
		t.Fatal(err)
	}
	s := sealed.NewJWESealer(ring)
	s.Now = func() time.Time { return t0 }
	return s
}

func TestJWERoundTrip(t *testing.T) {
	s := newJWESealer(t, fixedKey(t, "k1", 1))
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
	s := newJWESealer(t, k1)
	v, _ := s.Seal("session", []byte("data"), expiry)

	if _, info, err := newJWESealer(t, k2, k1).Open("session", v); err != nil || !info.Stale {
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
		s                   *sealed.JWESealer
		want                error
	}{
		{"other cookie", "admin", v, s, sealed.ErrInvalid},
		{"unknown key", "session", v, newJWESealer(t, k2), sealed.ErrUnknownKey},
		{"same id other secret", "session", v, newJWESealer(t, fixedKey(t, "k1", 9)), sealed.ErrInvalid},
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
	late := newJWESealer(t, k1)
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
	s := newJWESealer(t, fixedKey(t, "k1", 1))
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
