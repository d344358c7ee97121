package sealed_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// fipsKey returns an AES256GCM key whose secret is a repeated byte.
func fipsKey(t testing.TB, id string, b byte) sealed.Key {
	t.Helper()
	k, err := sealed.NewSuiteKey(sealed.AES256GCM, id, bytes.Repeat([]byte{b}, sealed.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// An AES256GCM key seals version 2 values that open like version 1 ones:
// every path (Seal, AppendSeal, compressed, with a purpose), and every
// failure class.
func TestAES256GCMSuite(t *testing.T) {
	k := fipsKey(t, "f1", 7)
	if k.Suite() != sealed.AES256GCM || k.Suite().String() != "aes256gcm" {
		t.Fatalf("suite %v", k.Suite())
	}
	for _, tc := range []struct {
		name     string
		purpose  string
		compress int
		pt       []byte
	}{
		{"short", "", 0, []byte(`{"user":"alice"}`)},
		{"empty", "", 0, nil},
		{"purpose", "billing", 0, []byte("x")},
		{"compressed", "", 16, bytes.Repeat([]byte("the same words "), 100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := at(newSealer(t, k), t0)
			s.Purpose, s.CompressAbove = tc.purpose, tc.compress
			v := mustSeal(t, s, "session", tc.pt, expiry)
			raw, _ := base64.RawURLEncoding.DecodeString(v)
			if raw[0] != 2 {
				t.Fatalf("version byte %d", raw[0])
			}
			if tc.compress == 0 && len(raw) != len(tc.pt)+sealed.Overhead+4 {
				t.Errorf("%d raw bytes for %d of plaintext", len(raw), len(tc.pt))
			}
			if again := mustSeal(t, s, "session", tc.pt, expiry); again == v {
				t.Error("two seals are equal: the salt or nonce is not random")
			}
			got, info, err := s.Open("session", v)
			if err != nil || !bytes.Equal(got, tc.pt) || info.KeyID != "f1" || !info.Expires.Equal(expiry) {
				t.Fatalf("Open = %q, %+v, %v", got, info, err)
			}
			b, _, err := s.AppendOpen([]byte("x"), "session", v)
			if err != nil || !bytes.Equal(b[1:], tc.pt) {
				t.Fatalf("AppendOpen = %q, %v", b, err)
			}
			// Every byte flipped fails, as does another name or purpose.
			for i := range raw {
				bad := bytes.Clone(raw)
				bad[i] ^= 0x01
				if _, _, err := s.Open("session", base64.RawURLEncoding.EncodeToString(bad)); err == nil {
					t.Fatalf("flipped byte %d opened", i)
				}
			}
			if _, _, err := s.Open("other", v); !errors.Is(err, sealed.ErrInvalid) {
				t.Errorf("another name: %v", err)
			}
			other := at(newSealer(t, k), t0)
			other.Purpose = tc.purpose + "x"
			if _, _, err := other.Open("session", v); !errors.Is(err, sealed.ErrInvalid) {
				t.Errorf("another purpose: %v", err)
			}
			if _, _, err := at(newSealer(t, fipsKey(t, "f1", 8)), t0).Open("session", v); !errors.Is(err, sealed.ErrInvalid) {
				t.Errorf("another secret: %v", err)
			}
			late := at(newSealer(t, k), expiry)
			late.Purpose = tc.purpose
			if _, _, err := late.Open("session", v); !errors.Is(err, sealed.ErrExpired) {
				t.Errorf("expired: %v", err)
			}
		})
	}
}

// A ring may hold keys of both suites: values of each open, and a value
// whose header names a key of the other suite is malformed.
func TestMixedSuites(t *testing.T) {
	x, f := fixedKey(t, "x1", 1), fipsKey(t, "f1", 2)
	toFIPS, err := sealed.NewKeyRing(f, x)
	if err != nil {
		t.Fatal(err)
	}
	old := mustSeal(t, at(newSealer(t, x), t0), "session", []byte("old"), expiry)
	s := at(sealed.NewSealer(toFIPS), t0)
	if pt, info, err := s.Open("session", old); err != nil || string(pt) != "old" || !info.Stale {
		t.Fatalf("an XChaCha value under a FIPS primary: %q %+v %v", pt, info, err)
	}
	fresh := mustSeal(t, s, "session", []byte("new"), expiry)
	if pt, info, err := s.Open("session", fresh); err != nil || string(pt) != "new" || info.Stale {
		t.Fatalf("a FIPS value: %q %+v %v", pt, info, err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(old)
	raw[0] = 2 // claims version 2 under x1, an XChaCha key
	if _, _, err := s.Open("session", base64.RawURLEncoding.EncodeToString(raw)); !errors.Is(err, sealed.ErrMalformed) {
		t.Errorf("a version 2 header naming an XChaCha key: %v", err)
	}
}

// The key ring's text form names a non-default suite after the secret,
// and round-trips it.
func TestParseKeyRingSuite(t *testing.T) {
	f := fipsKey(t, "f1", 2)
	x := fixedKey(t, "x1", 1)
	ring, _ := sealed.NewKeyRing(f, x)
	text := sealed.FormatKeyRing(ring)
	if !strings.Contains(text, ":aes256gcm,") || strings.Count(text, ":") != 3 {
		t.Fatalf("FormatKeyRing = %s", strings.Split(text, ":")[0]) // not the secret
	}
	back, err := sealed.ParseKeyRing(text)
	if err != nil || back.Primary().Suite() != sealed.AES256GCM || back.Keys()[1].Suite() != sealed.XChaCha20Poly1305 {
		t.Fatalf("ParseKeyRing: %v", err)
	}
	v := mustSeal(t, sealed.NewSealer(ring), "s", []byte("x"), time.Now().Add(time.Hour))
	if _, _, err := sealed.NewSealer(back).Open("s", v); err != nil {
		t.Fatal(err)
	}
	if _, err := sealed.ParseKeyRing("f1:" + strings.Split(text, ":")[1] + ":rot13"); err == nil || strings.Contains(err.Error(), "rot13") {
		t.Errorf("unknown suite: %v", err)
	}
}

// A Manager whose primary key is AES256GCM keeps sessions in version 2
// values, chunked by their real length.
func TestManagerAES256GCM(t *testing.T) {
	f := newFixture(t, sealed.Options{}, fipsKey(t, "f1", 3))
	c := newClient(t, f.app())
	for _, n := range []int{10, 5000, f.m.MaxSessionLen() - 40} {
		c.do("POST", "/put?user=a&blob="+strconv.Itoa(n))
		if got := c.body("GET", "/get"); !strings.Contains(got, `"user":"a"`) {
			t.Fatalf("blob %d: get = %.40q", n, got)
		}
	}
	f.hook.expectNone(t)
}
