package jwe

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// FuzzOpen feeds arbitrary names and values to Open: it must never panic,
// must fail with exactly one error class, and may succeed only for the cookie
// name the seed was sealed for, under its key, with a value whose every part
// is canonical base64url (one spelling per value). The seed corpus is in
// testdata/fuzz/FuzzOpen.
func FuzzOpen(f *testing.F) {
	key, err := sealed.NewKey("k1", bytes.Repeat([]byte{1}, sealed.KeySize))
	if err != nil {
		f.Fatal(err)
	}
	ring, _ := sealed.NewKeyRing(key)
	s := NewSealer(ring)
	s.Now = func() time.Time { return time.Unix(1763726400, 0) }
	v, err := s.Seal("session", []byte(`{"user":"alice"}`), time.Unix(1763726400+3600, 0))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("session", v)
	f.Add("session", "eyJhbGciOiJkaXIifQ....")
	f.Fuzz(func(t *testing.T, name, value string) {
		pt, info, err := s.Open(name, value)
		if err == nil {
			if name != "session" || info.KeyID != "k1" || info.Stale {
				t.Fatalf("opened for %q with %+v", name, info)
			}
			for part := range strings.SplitSeq(value, ".") {
				if !canonicalBase64URL(part) {
					t.Fatalf("opened %q, whose part %q is not canonical", value, part)
				}
			}
			again, _, err := s.Open(name, value)
			if err != nil || !bytes.Equal(again, pt) {
				t.Fatalf("a second Open gave %q, %v; the first %q", again, err, pt)
			}
			return
		}
		n := 0
		for _, class := range []error{sealed.ErrMalformed, sealed.ErrUnknownKey, sealed.ErrInvalid, sealed.ErrExpired, sealed.ErrTooLarge} {
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
		raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
		want := err == nil && !strings.ContainsAny(s, "\r\n") && base64.RawURLEncoding.EncodeToString(raw) == s
		if got := canonicalBase64URL(s); got != want {
			t.Fatalf("canonicalBase64URL(%q) = %v, want %v", s, got, want)
		}
	})
}
