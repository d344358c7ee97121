package sealed

import (
	"bytes"
	"encoding/base64"
	"errors"
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
