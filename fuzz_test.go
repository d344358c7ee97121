package sealed

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzOpen feeds arbitrary names and values to Open. It must never panic,
// must fail with exactly one error class, and may succeed only for a
// canonical value: one whose decoding re-encodes to the same string, so a
// sealed value has exactly one valid spelling. No value may open both
// without a purpose and with one. The seed corpus in testdata/fuzz/FuzzOpen
// holds values sealed with the key below.
func FuzzOpen(f *testing.F) {
	key, err := NewKey("k1", bytes.Repeat([]byte{1}, KeySize))
	if err != nil {
		f.Fatal(err)
	}
	ring, _ := NewKeyRing(key)
	s := NewSealer(ring)
	s.Now = func() time.Time { return time.Unix(1763726400, 0) }
	p := NewSealer(ring)
	p.Now = s.Now
	p.Purpose = "billing"
	f.Add("session", "")
	if v, err := p.Seal("session", []byte(`{"user":"alice"}`), time.Unix(1763726400+3600, 0)); err == nil {
		f.Add("session", v)
		f.Add("session\x00billing", v)
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		if _, _, perr := p.Open(name, value); perr == nil {
			if _, _, err := s.Open(name, value); err == nil {
				t.Fatalf("%q opened for %q both with purpose %q and without one", value, name, p.Purpose)
			}
		}
		pt, info, err := s.Open(name, value)
		if err != nil {
			n := 0
			for _, class := range errorClasses {
				if errors.Is(err, class) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error %v matches %d classes, want 1", err, n)
			}
			if pt != nil {
				t.Fatalf("plaintext returned with error %v", err)
			}
			if !errors.Is(err, ErrExpired) && info != (Info{}) {
				t.Fatalf("info %+v returned with error %v", info, err)
			}
			return
		}
		raw, err := base64.RawURLEncoding.DecodeString(value)
		if err != nil || base64.RawURLEncoding.EncodeToString(raw) != value {
			t.Fatalf("opened a non-canonical value %q", value)
		}
		if info.KeyID != "k1" || (raw[1]&flagDeflate == 0 && len(pt) != len(raw)-Overhead) {
			t.Fatalf("opened with info %+v and %d bytes from %d raw", info, len(pt), len(raw))
		}
	})
}

// FuzzOpenJWE feeds arbitrary values to the JWE envelope's Open: it must
// never panic and must fail with exactly one error class.
func FuzzOpenJWE(f *testing.F) {
	key, err := NewKey("k1", bytes.Repeat([]byte{1}, KeySize))
	if err != nil {
		f.Fatal(err)
	}
	ring, _ := NewKeyRing(key)
	s := NewJWESealer(ring)
	s.Now = func() time.Time { return time.Unix(1763726400, 0) }
	v, err := s.Seal("session", []byte(`{"user":"alice"}`), time.Unix(1763726400+3600, 0))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("session", v)
	f.Add("session", "eyJhbGciOiJkaXIifQ....")
	f.Fuzz(func(t *testing.T, name, value string) {
		pt, _, err := s.Open(name, value)
		if err == nil {
			return
		}
		n := 0
		for _, class := range errorClasses {
			if errors.Is(err, class) {
				n++
			}
		}
		if n != 1 || pt != nil {
			t.Fatalf("error %v matches %d classes (want 1), plaintext %q", err, n, pt)
		}
	})
}

// FuzzCanonicalBase64URL checks the JWE parts' canonical base64url test
// against the standard library: strict unpadded base64url decoding that
// succeeds on a string with no CR or LF (which the decoder skips), and
// re-encodes to the same string.
func FuzzCanonicalBase64URL(f *testing.F) {
	for _, s := range []string{"", "AA", "AB", "AAA", "AAB", "AAAA", "A", "AA==", "A\r\nA", "-_", "+/", "eyJhbGciOiJkaXIifQ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw, err := strictBase64.DecodeString(s)
		want := err == nil && !strings.ContainsAny(s, "\r\n") && base64.RawURLEncoding.EncodeToString(raw) == s
		if got := canonicalBase64URL(s); got != want {
			t.Fatalf("canonicalBase64URL(%q) = %v, want %v", s, got, want)
		}
	})
}
