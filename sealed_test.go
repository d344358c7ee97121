package sealed_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// mustSeal seals pt with s, failing the test if Seal does.
func mustSeal(t testing.TB, s *sealed.Sealer, name string, pt []byte, exp time.Time) string {
	t.Helper()
	v, err := s.Seal(name, pt, exp)
	if err != nil {
		t.Fatalf("Seal(%q, %d bytes): %v", name, len(pt), err)
	}
	return v
}

// fixedKey returns a key whose secret is a repeated byte, for tests.
func fixedKey(t testing.TB, id string, b byte) sealed.Key {
	t.Helper()
	k, err := sealed.NewKey(id, bytes.Repeat([]byte{b}, sealed.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newSealer(t testing.TB, primary sealed.Key, previous ...sealed.Key) *sealed.Sealer {
	t.Helper()
	ring, err := sealed.NewKeyRing(primary, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return sealed.NewSealer(ring)
}

var (
	t0     = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	expiry = t0.Add(time.Hour)
)

func at(s *sealed.Sealer, now time.Time) *sealed.Sealer {
	s.Now = func() time.Time { return now }
	return s
}

func TestSealOpenRoundTrip(t *testing.T) {
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	for _, n := range []int{0, 1, 2, 3, 200, 2048, 2946} {
		pt := bytes.Repeat([]byte{'x'}, n)
		v, err := s.Seal("session", pt, expiry)
		if err != nil {
			t.Fatalf("Seal(%d bytes): %v", n, err)
		}
		if len(v) != sealed.EncodedLen(n) {
			t.Errorf("len = %d, EncodedLen = %d", len(v), sealed.EncodedLen(n))
		}
		got, info, err := s.Open("session", v)
		if err != nil {
			t.Fatalf("Open(%d bytes): %v", n, err)
		}
		if !bytes.Equal(got, pt) {
			t.Fatalf("Open(%d bytes) returned other plaintext", n)
		}
		if info.KeyID != "k1" || !info.Expires.Equal(expiry) || info.Stale {
			t.Errorf("info = %+v", info)
		}
	}
}

func TestSealIsRandomized(t *testing.T) {
	s := newSealer(t, fixedKey(t, "k1", 1))
	a := mustSeal(t, s, "session", []byte("same"), expiry)
	b := mustSeal(t, s, "session", []byte("same"), expiry)
	if a == b {
		t.Fatal("two seals of the same plaintext are identical: nonce not random")
	}
}

func TestSealOutputIsCookieSafe(t *testing.T) {
	s := newSealer(t, fixedKey(t, "k1", 1))
	v := mustSeal(t, s, "session", bytes.Repeat([]byte{0xff}, 300), expiry)
	c := &http.Cookie{Name: "session", Value: v}
	if err := c.Valid(); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(v, "=+/") {
		t.Fatalf("value is not unpadded base64url: %q", v)
	}
}

func TestEnvelopeOverhead(t *testing.T) {
	s := newSealer(t, fixedKey(t, "k1", 1))
	for _, n := range []int{0, 1, 2, 3, 100, 1000, 2900} {
		v, err := s.Seal("session", make([]byte, n), expiry)
		if err != nil {
			t.Fatal(err)
		}
		if len(v) != sealed.EncodedLen(n) {
			t.Errorf("%d bytes seal to %d characters, EncodedLen says %d", n, len(v), sealed.EncodedLen(n))
		}
		raw, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(raw) != n+sealed.Overhead {
			t.Errorf("%d bytes seal to %d raw bytes, want %d + Overhead", n, len(raw), n)
		}
		if d := len(v) - base64.RawURLEncoding.EncodedLen(n); d > 72 {
			t.Errorf("the envelope adds %d characters to %d bytes, want at most 72", d, n)
		}
	}
}

// A 4096-byte Set-Cookie with the usual attributes must carry 2,900 bytes.
func TestCookieCapacity(t *testing.T) {
	s := newSealer(t, fixedKey(t, "k1", 1))
	v, err := s.Seal("session", make([]byte, 2900), expiry)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Cookie{Name: "session", Value: v, Path: "/", MaxAge: 86400,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}
	if n := len(c.String()); n > 4096 {
		t.Fatalf("Set-Cookie for 2900 bytes is %d bytes, want <= 4096", n)
	}
}

func TestRotation(t *testing.T) {
	old, cur := fixedKey(t, "old", 1), fixedKey(t, "new", 2)
	before := at(newSealer(t, old), t0)
	after := at(newSealer(t, cur, old), t0)

	v := mustSeal(t, before, "session", []byte("hi"), expiry)
	got, info, err := after.Open("session", v)
	if err != nil || string(got) != "hi" {
		t.Fatalf("Open after rotation = %q, %v", got, err)
	}
	if !info.Stale || info.KeyID != "old" {
		t.Fatalf("info = %+v, want stale with key old", info)
	}
	resealed := mustSeal(t, after, "session", got, info.Expires)
	if _, info, _ := after.Open("session", resealed); info.Stale || info.KeyID != "new" {
		t.Fatalf("re-sealed info = %+v, want fresh with key new", info)
	}

	retired := at(newSealer(t, cur), t0)
	if _, _, err := retired.Open("session", v); !errors.Is(err, sealed.ErrUnknownKey) {
		t.Fatalf("Open with retired key: %v, want ErrUnknownKey", err)
	}
}

func TestSameIDOtherSecretIsInvalid(t *testing.T) {
	a := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	b := at(newSealer(t, fixedKey(t, "k1", 2)), t0)
	v := mustSeal(t, a, "session", []byte("hi"), expiry)
	if _, _, err := b.Open("session", v); !errors.Is(err, sealed.ErrInvalid) {
		t.Fatalf("got %v, want ErrInvalid", err)
	}
}

func TestWrongCookieName(t *testing.T) {
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	v := mustSeal(t, s, "session", []byte("hi"), expiry)
	for _, name := range []string{"other", "Session", "session ", ""} {
		if _, _, err := s.Open(name, v); !errors.Is(err, sealed.ErrInvalid) {
			t.Errorf("Open(%q): %v, want ErrInvalid", name, err)
		}
	}
}

func TestExpiry(t *testing.T) {
	s := newSealer(t, fixedKey(t, "k1", 1))
	v := mustSeal(t, s, "session", []byte("hi"), expiry)

	at(s, expiry.Add(-time.Second))
	if _, _, err := s.Open("session", v); err != nil {
		t.Fatalf("one second before expiry: %v", err)
	}
	at(s, expiry)
	_, info, err := s.Open("session", v)
	if !errors.Is(err, sealed.ErrExpired) {
		t.Fatalf("at expiry: %v, want ErrExpired", err)
	}
	if !info.Expires.Equal(expiry) || info.KeyID != "k1" {
		t.Errorf("expired info = %+v", info)
	}
	s.ClockSkew = 30 * time.Second
	at(s, expiry.Add(29*time.Second))
	if _, _, err := s.Open("session", v); err != nil {
		t.Fatalf("within skew: %v", err)
	}
	at(s, expiry.Add(30*time.Second))
	if _, _, err := s.Open("session", v); !errors.Is(err, sealed.ErrExpired) {
		t.Fatalf("past skew: %v, want ErrExpired", err)
	}
}

// The expiry is authenticated: moving it forward breaks the value.
func TestExpiryIsAuthenticated(t *testing.T) {
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	v := mustSeal(t, s, "session", []byte("hi"), expiry)
	raw, _ := base64.RawURLEncoding.DecodeString(v)
	raw[13]++ // low byte of the expiry
	if _, _, err := s.Open("session", base64.RawURLEncoding.EncodeToString(raw)); !errors.Is(err, sealed.ErrInvalid) {
		t.Fatalf("extended expiry: %v, want ErrInvalid", err)
	}
}

func TestSealRejectsZeroExpiry(t *testing.T) {
	s := newSealer(t, fixedKey(t, "k1", 1))
	if _, err := s.Seal("session", nil, time.Time{}); err == nil {
		t.Fatal("Seal with zero expiry succeeded")
	}
}

func TestSealTooLarge(t *testing.T) {
	s := newSealer(t, fixedKey(t, "k1", 1))
	if _, err := s.Seal("session", make([]byte, 2946), expiry); err != nil {
		t.Fatalf("2946 bytes (largest that fits the default): %v", err)
	}
	_, err := s.Seal("session", make([]byte, 2947), expiry)
	if !errors.Is(err, sealed.ErrTooLarge) {
		t.Fatalf("2947 bytes: %v, want ErrTooLarge", err)
	}
	if _, err := s.AppendSeal(nil, "session", make([]byte, 2947), expiry); !errors.Is(err, sealed.ErrTooLarge) {
		t.Fatalf("AppendSeal 2947 bytes: %v, want ErrTooLarge", err)
	}
	s.MaxLen = 10000
	if _, err := s.Seal("session", make([]byte, 5000), expiry); err != nil {
		t.Fatalf("5000 bytes with MaxLen 10000: %v", err)
	}
}

func TestOpenTooLargeBeforeDecoding(t *testing.T) {
	s := newSealer(t, fixedKey(t, "k1", 1))
	big := strings.Repeat("A", 1<<20)
	if _, _, err := s.Open("session", big); !errors.Is(err, sealed.ErrTooLarge) {
		t.Fatalf("1 MiB: %v, want ErrTooLarge", err)
	}
	// Garbage that would not decode also reports the size first.
	if _, _, err := s.Open("session", strings.Repeat("!", 5000)); !errors.Is(err, sealed.ErrTooLarge) {
		t.Fatalf("5000 bad characters: %v, want ErrTooLarge", err)
	}
	s.MaxLen = 100
	v := mustSeal(t, newSealer(t, fixedKey(t, "k1", 1)), "session", make([]byte, 100), expiry)
	if _, _, err := s.Open("session", v); !errors.Is(err, sealed.ErrTooLarge) {
		t.Fatalf("value over MaxLen 100: %v, want ErrTooLarge", err)
	}
}

func TestOpenMalformed(t *testing.T) {
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	v := mustSeal(t, s, "session", []byte("hello, world!"), expiry) // 67 raw bytes: padding would apply
	raw, _ := base64.RawURLEncoding.DecodeString(v)
	reencode := func(f func([]byte) []byte) string {
		return base64.RawURLEncoding.EncodeToString(f(bytes.Clone(raw)))
	}
	// A value whose length leaves trailing bits: find one that is not a
	// multiple of 3 bytes, then set the unused low bits of its last character.
	short := mustSeal(t, s, "session", []byte("x"), expiry) // 55 bytes -> 74 chars, 2 spare bits
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", short[len(short)-1])
	trailing := short[:len(short)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last|1])

	cases := map[string]string{
		"empty":             "",
		"short":             v[:20],
		"one char":          "A",
		"padding":           v + "==",
		"padded":            base64.URLEncoding.EncodeToString(raw),
		"std alphabet":      strings.NewReplacer("-", "+", "_", "/").Replace(v) + "+/",
		"CRLF inside":       v[:30] + "\r\n" + v[30:],
		"LF inside":         v[:30] + "\n" + v[30:],
		"space":             v[:30] + " " + v[30:],
		"dot":               v + ".",
		"trailing bits":     trailing,
		"impossible length": v + "AAA", // 93 characters: 1 mod 4
		"non-ASCII":         v[:30] + "é" + v[32:],
		"version 0":         reencode(func(b []byte) []byte { b[0] = 0; return b }),
		"version 2":         reencode(func(b []byte) []byte { b[0] = 2; return b }), // an xchacha key
		"version 3":         reencode(func(b []byte) []byte { b[0] = 3; return b }),
		"unknown flags":     reencode(func(b []byte) []byte { b[1] = 2; return b }),
		"quoted":            `"` + v + `"`,
		"NUL":               v[:30] + "\x00" + v[31:],
		"percent-encoded":   v[:30] + "%41" + v[33:],
		"only header size":  base64.RawURLEncoding.EncodeToString(raw[:40]),
	}
	if trailing == short {
		t.Fatal("test bug: trailing-bits case equals the valid value")
	}
	for name, value := range cases {
		t.Run(name, func(t *testing.T) {
			_, info, err := s.Open("session", value)
			if !errors.Is(err, sealed.ErrMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
			if info != (sealed.Info{}) {
				t.Errorf("info = %+v on error, want zero", info)
			}
		})
	}
}

// Every single-bit change to the raw value is detected, with the error its
// position implies.
func TestEveryBitFlip(t *testing.T) {
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	v := mustSeal(t, s, "session", []byte("a session of some length"), expiry)
	raw, _ := base64.RawURLEncoding.DecodeString(v)
	for i := range raw {
		for bit := range 8 {
			b := bytes.Clone(raw)
			b[i] ^= 1 << bit
			_, _, err := s.Open("session", base64.RawURLEncoding.EncodeToString(b))
			var want error
			switch {
			case i == 1 && bit == 0:
				want = sealed.ErrInvalid // the compression flag: known, and authenticated
			case i < 2:
				want = sealed.ErrMalformed // version, unknown flags
			case i < 6:
				want = sealed.ErrUnknownKey // key identifier
			default:
				want = sealed.ErrInvalid // expiry, nonce, ciphertext, tag
			}
			if !errors.Is(err, want) {
				t.Fatalf("flip byte %d bit %d: %v, want %v", i, bit, err, want)
			}
		}
	}
}

func TestTruncationAndExtension(t *testing.T) {
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	v := mustSeal(t, s, "session", []byte("a session of some length"), expiry)
	raw, _ := base64.RawURLEncoding.DecodeString(v)
	for n := range len(raw) {
		if _, _, err := s.Open("session", base64.RawURLEncoding.EncodeToString(raw[:n])); err == nil {
			t.Fatalf("truncated to %d bytes: opened", n)
		}
		if _, _, err := s.Open("session", v[:n]); err == nil {
			t.Fatalf("truncated to %d characters: opened", n)
		}
	}
	for _, extra := range []string{"AAAA", "A", "AA", "AAA"} {
		if _, _, err := s.Open("session", v+extra); err == nil {
			t.Fatalf("extended by %q: opened", extra)
		}
	}
	ext := append(bytes.Clone(raw), 0)
	if _, _, err := s.Open("session", base64.RawURLEncoding.EncodeToString(ext)); !errors.Is(err, sealed.ErrInvalid) {
		t.Fatalf("extended by one byte: %v, want ErrInvalid", err)
	}
}

func TestAppendForms(t *testing.T) {
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	prefix := []byte("session=")
	out, err := s.AppendSeal(bytes.Clone(prefix), "session", []byte("payload"), expiry)
	if err != nil || !bytes.HasPrefix(out, prefix) {
		t.Fatalf("AppendSeal = %q, %v", out, err)
	}
	value := string(out[len(prefix):])
	pt, _, err := s.AppendOpen([]byte("pt:"), "session", value)
	if err != nil || string(pt) != "pt:payload" {
		t.Fatalf("AppendOpen = %q, %v", pt, err)
	}
	dst := []byte("keep")
	got, _, err := s.AppendOpen(dst, "other", value)
	if !errors.Is(err, sealed.ErrInvalid) || string(got) != "keep" {
		t.Fatalf("AppendOpen wrong name = %q, %v; want dst unchanged and ErrInvalid", got, err)
	}
	at(s, expiry)
	got, _, err = s.AppendOpen(dst, "session", value)
	if !errors.Is(err, sealed.ErrExpired) || string(got) != "keep" {
		t.Fatalf("AppendOpen expired = %q, %v; want dst unchanged and ErrExpired", got, err)
	}
}

func TestAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector; scripts/test.sh runs this without -race")
	}
	for _, purpose := range []string{"", "billing", strings.Repeat("p", sealed.MaxPurposeLen)} {
		s := newSealer(t, fixedKey(t, "k1", 1))
		s.Purpose = purpose
		pt := make([]byte, 200)
		v := mustSeal(t, s, "session", pt, expiry.Add(24*time.Hour*365*10))
		dst := make([]byte, 0, 4096)
		for name, f := range map[string]func(){
			"Seal":       func() { _, _ = s.Seal("session", pt, expiry) },
			"Open":       func() { _, _, _ = s.Open("session", v) },
			"AppendSeal": func() { _, _ = s.AppendSeal(dst[:0], "session", pt, expiry) },
			"AppendOpen": func() { _, _, _ = s.AppendOpen(dst[:0], "session", v) },
		} {
			want := 1.0
			if strings.HasPrefix(name, "Append") {
				want = 0
			}
			if got := testing.AllocsPerRun(200, f); got > want {
				t.Errorf("%s (purpose %d bytes): %v allocations, want <= %v", name, len(purpose), got, want)
			}
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	old, cur := fixedKey(t, "old", 1), fixedKey(t, "new", 2)
	s := newSealer(t, cur, old)
	stale := mustSeal(t, newSealer(t, old), "session", []byte("old"), expiry.Add(time.Hour*24*365*10))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				pt := []byte(strings.Repeat("x", g*10+i))
				v, err := s.Seal("session", pt, time.Now().Add(time.Hour))
				if err != nil {
					t.Error(err)
					return
				}
				got, _, err := s.Open("session", v)
				if err != nil || !bytes.Equal(got, pt) {
					t.Errorf("round trip: %v", err)
					return
				}
				if _, info, err := s.Open("session", stale); err != nil || !info.Stale {
					t.Errorf("stale open: %+v %v", info, err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := s.Stats()
	if st.Sealed["new"] != 1600 || st.Opened["new"] != 1600 || st.Opened["old"] != 1600 || st.Stale != 1600 {
		t.Errorf("stats = %+v", st)
	}
}

func TestStatsCountFailures(t *testing.T) {
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	other := at(newSealer(t, fixedKey(t, "k2", 2)), t0)
	v := mustSeal(t, s, "session", []byte("x"), expiry)
	foreign := mustSeal(t, other, "session", []byte("x"), expiry)
	s.Open("other-name", v)
	s.Open("session", foreign)
	s.Open("session", "garbage")
	s.Open("session", strings.Repeat("A", 5000))
	at(s, expiry)
	s.Open("session", v)
	st := s.Stats()
	want := sealed.Stats{Invalid: 1, UnknownKey: 1, Malformed: 1, TooLarge: 1, Expired: 1}
	if st.Invalid != want.Invalid || st.UnknownKey != want.UnknownKey || st.Malformed != want.Malformed ||
		st.TooLarge != want.TooLarge || st.Expired != want.Expired || st.Sealed["k1"] != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// Two applications that share a key ring and a cookie name but set different
// purposes do not accept each other's values, nor values of an application
// that sets none; each still opens its own.
func TestPurposeIsolatesApplications(t *testing.T) {
	k := fixedKey(t, "shared", 1)
	billing := at(newSealer(t, k), t0)
	billing.Purpose = "billing"
	admin := at(newSealer(t, k), t0)
	admin.Purpose = "admin"
	plain := at(newSealer(t, k), t0) // no purpose: v1 values as before
	apps := map[string]*sealed.Sealer{"billing": billing, "admin": admin, "none": plain}
	for from, sealer := range apps {
		v, err := sealer.Seal("session", []byte(`{"user":"alice","role":"admin"}`), expiry)
		if err != nil {
			t.Fatalf("%s: Seal: %v", from, err)
		}
		for to, opener := range apps {
			_, _, err := opener.Open("session", v)
			if from == to {
				if err != nil {
					t.Errorf("sealed by %s, opened by %s: %v", from, to, err)
				}
			} else if !errors.Is(err, sealed.ErrInvalid) {
				t.Errorf("sealed by %s, opened by %s: %v, want ErrInvalid", from, to, err)
			}
		}
	}
}

// The purpose and the cookie name are separated by a NUL byte, which no
// cookie name contains: Seal refuses a name with one, and Open fails for it,
// so (name, purpose) = ("session", "billing") and ("session\x00billing", "")
// can never share additional data.
func TestCookieNameWithNUL(t *testing.T) {
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	for _, name := range []string{"session\x00billing", "\x00", "a\x00"} {
		if v, err := s.Seal(name, []byte("x"), expiry); err == nil {
			t.Errorf("Seal(%q) = %q, want an error", name, v)
		}
		if _, err := s.AppendSeal(nil, name, []byte("x"), expiry); err == nil {
			t.Errorf("AppendSeal(%q): no error", name)
		}
	}
	billing := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	billing.Purpose = "billing"
	v, err := billing.Seal("session", []byte("x"), expiry)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Open("session\x00billing", v); !errors.Is(err, sealed.ErrInvalid) {
		t.Errorf("a purposed value opened under a name spelling out its purpose: %v, want ErrInvalid", err)
	}
	if _, _, err := s.AppendOpen(nil, "session\x00billing", v); !errors.Is(err, sealed.ErrInvalid) {
		t.Errorf("AppendOpen: %v, want ErrInvalid", err)
	}
}

// A purpose is at most MaxPurposeLen bytes: Seal refuses a longer one, and
// Open fails with ErrInvalid (no value can have been sealed with it).
func TestPurposeBound(t *testing.T) {
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	s.Purpose = strings.Repeat("p", sealed.MaxPurposeLen)
	v, err := s.Seal("session", []byte("x"), expiry)
	if err != nil {
		t.Fatalf("Seal with a %d-byte purpose: %v", len(s.Purpose), err)
	}
	if _, _, err := s.Open("session", v); err != nil {
		t.Fatalf("Open with a %d-byte purpose: %v", len(s.Purpose), err)
	}
	s.Purpose += "p"
	if _, err := s.Seal("session", []byte("x"), expiry); err == nil || errors.Is(err, sealed.ErrTooLarge) {
		t.Errorf("Seal with a %d-byte purpose: %v, want a configuration error", len(s.Purpose), err)
	}
	if _, err := s.AppendSeal(nil, "session", []byte("x"), expiry); err == nil {
		t.Errorf("AppendSeal with a %d-byte purpose: no error", len(s.Purpose))
	}
	if _, _, err := s.Open("session", v); !errors.Is(err, sealed.ErrInvalid) || !strings.Contains(err.Error(), "Purpose") {
		t.Errorf("Open with a %d-byte purpose: %v, want ErrInvalid naming Purpose", len(s.Purpose), err)
	}
}

// Expiries at the ends of int64 compare exactly: expiry + ClockSkew is
// never computed, so it cannot overflow into the past (docs/FORMAT.md,
// "Opening", step 8).
func TestExpiryExtremes(t *testing.T) {
	k := fixedKey(t, "k1", 1)
	s := at(newSealer(t, k), t0)
	s.ClockSkew = time.Hour
	far := mustSeal(t, s, "session", []byte("x"), time.Unix(math.MaxInt64, 0))
	if _, info, err := s.Open("session", far); err != nil || info.Expires.Unix() != math.MaxInt64 {
		t.Errorf("expiry MaxInt64 with a skew: %v, expires %d", err, info.Expires.Unix())
	}
	past := mustSeal(t, s, "session", []byte("x"), time.Unix(math.MinInt64, 0))
	if _, _, err := s.Open("session", past); !errors.Is(err, sealed.ErrExpired) {
		t.Errorf("expiry MinInt64: %v", err)
	}
	// The boundary, with a skew: valid strictly before expiry + skew.
	v := mustSeal(t, s, "session", []byte("x"), t0.Add(time.Minute))
	for _, tc := range []struct {
		at   time.Duration
		open bool
	}{{time.Minute + time.Hour - time.Nanosecond, true}, {time.Minute + time.Hour, false}} {
		s.Now = func() time.Time { return t0.Add(tc.at) }
		if _, _, err := s.Open("session", v); (err == nil) != tc.open {
			t.Errorf("at expiry+skew%+v: %v", tc.at-time.Minute-time.Hour, err)
		}
	}
}
