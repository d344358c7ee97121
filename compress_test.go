package sealed_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/sealedcookie/sealed"
)

// cartJSON is a compressible ~2 KB session.
func cartJSON() []byte {
	var b strings.Builder
	b.WriteString(`{"uid":1234567,"email":"ada.lovelace@example.com","cart":[`)
	for i := range 30 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%06d","name":"Product number %d","qty":%d,"price":%d.99}`, 100000+37*i, i, i%4+1, 9+i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func flagsOf(t *testing.T, value string) byte {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		t.Fatal(err)
	}
	return raw[1]
}

func TestCompressionRoundTrip(t *testing.T) {
	k := fixedKey(t, "k1", 1)
	s := at(newSealer(t, k), t0)
	s.CompressAbove = 512
	plain := at(newSealer(t, k), t0) // compression off: still opens compressed values

	pt := cartJSON()
	v, err := s.Seal("session", pt, expiry)
	if err != nil {
		t.Fatal(err)
	}
	if flagsOf(t, v) != 0x01 || len(v) >= sealed.EncodedLen(len(pt))*2/3 {
		t.Fatalf("%d-byte JSON sealed to %d chars with flags %#x; want compressed (uncompressed: %d)",
			len(pt), len(v), flagsOf(t, v), sealed.EncodedLen(len(pt)))
	}
	for name, o := range map[string]*sealed.Sealer{"compressing": s, "plain": plain} {
		got, info, err := o.Open("session", v)
		if err != nil || !bytes.Equal(got, pt) || info.KeyID != "k1" || !info.Expires.Equal(expiry) {
			t.Fatalf("%s Open = %q, %+v, %v", name, got, info, err)
		}
		dst := []byte("prefix:")
		got, _, err = o.AppendOpen(dst, "session", v)
		if err != nil || string(got) != "prefix:"+string(pt) {
			t.Fatalf("%s AppendOpen = %q, %v", name, got, err)
		}
	}
	// AppendSeal compresses the same way.
	av, err := s.AppendSeal([]byte("x"), "session", pt, expiry)
	if err != nil || len(av) != len(v)+1 || flagsOf(t, string(av[1:])) != 0x01 {
		t.Fatalf("AppendSeal = %d chars, %v; want %d", len(av), err, len(v)+1)
	}
	if got, _, err := plain.Open("session", string(av[1:])); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Open(AppendSeal) = %v", err)
	}
}

func TestCompressionThreshold(t *testing.T) {
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	pt := cartJSON()
	for _, tc := range []struct {
		above int
		want  byte
	}{{0, 0}, {-1, 0}, {len(pt) + 1, 0}, {len(pt), 0x01}, {1, 0x01}} {
		s.CompressAbove = tc.above
		v, err := s.Seal("session", pt, expiry)
		if err != nil {
			t.Fatal(err)
		}
		if f := flagsOf(t, v); f != tc.want {
			t.Errorf("CompressAbove %d, %d-byte plaintext: flags %#x, want %#x", tc.above, len(pt), f, tc.want)
		}
		if tc.want == 0 && len(v) != sealed.EncodedLen(len(pt)) {
			t.Errorf("CompressAbove %d: %d chars, want the uncompressed %d", tc.above, len(v), sealed.EncodedLen(len(pt)))
		}
		if got, _, err := s.Open("session", v); err != nil || !bytes.Equal(got, pt) {
			t.Errorf("CompressAbove %d: Open: %v", tc.above, err)
		}
	}
}

// Data that DEFLATE cannot shrink is sealed as it is, unflagged.
func TestCompressionIncompressible(t *testing.T) {
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	s.CompressAbove = 1
	for _, n := range []int{1, 10, 1000, 2500} {
		pt := make([]byte, n)
		rand.Read(pt)
		v, err := s.Seal("session", pt, expiry)
		if err != nil {
			t.Fatal(err)
		}
		if flagsOf(t, v) != 0 || len(v) != sealed.EncodedLen(n) {
			t.Fatalf("%d random bytes: flags %#x, %d chars; want 0, %d", n, flagsOf(t, v), len(v), sealed.EncodedLen(n))
		}
		if got, _, err := s.Open("session", v); err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("%d random bytes: Open: %v", n, err)
		}
	}
}

// A value that inflates past MaxDecompressed fails with ErrTooLarge. Only a
// key holder can produce one (the header and payload are authenticated),
// for example a server configured with a higher bound.
func TestCompressionBomb(t *testing.T) {
	k := fixedKey(t, "k1", 1)
	big := at(newSealer(t, k), t0)
	big.CompressAbove, big.MaxDecompressed = 1, 16<<20
	bomb := make([]byte, 4<<20) // 4 MiB of zeros: about 20 KB of DEFLATE
	big.MaxLen = 1 << 20
	v, err := big.Seal("session", bomb, expiry)
	if err != nil {
		t.Fatal(err)
	}
	if flagsOf(t, v) != 0x01 {
		t.Fatal("bomb not compressed")
	}
	if got, _, err := big.Open("session", v); err != nil || len(got) != len(bomb) {
		t.Fatalf("opened under its own bound: %d bytes, %v", len(got), err)
	}

	small := at(newSealer(t, k), t0)
	small.MaxLen = 1 << 20 // let it reach decompression
	if got, info, err := small.Open("session", v); !errors.Is(err, sealed.ErrTooLarge) || got != nil || info != (sealed.Info{}) {
		t.Fatalf("Open under the default bound = %d bytes, %+v, %v; want ErrTooLarge", len(got), info, err)
	}
	dst := make([]byte, 3, 8)
	if got, _, err := small.AppendOpen(dst, "session", v); !errors.Is(err, sealed.ErrTooLarge) || len(got) != 3 {
		t.Fatalf("AppendOpen = %d bytes, %v; want dst back and ErrTooLarge", len(got), err)
	}

	// The bound is inclusive.
	exact := at(newSealer(t, k), t0)
	exact.CompressAbove, exact.MaxDecompressed = 1, 1000
	v = mustSeal(t, exact, "session", make([]byte, 1000), expiry)
	if got, _, err := exact.Open("session", v); err != nil || len(got) != 1000 || flagsOf(t, v) != 0x01 {
		t.Fatalf("plaintext of exactly MaxDecompressed: %d bytes, %v", len(got), err)
	}
	exact.MaxDecompressed = 999
	if _, _, err := exact.Open("session", v); !errors.Is(err, sealed.ErrTooLarge) {
		t.Fatalf("one byte over MaxDecompressed: %v", err)
	}
	// Seal does not compress what its own Open would refuse.
	v = mustSeal(t, exact, "session", make([]byte, 1000), expiry)
	if flagsOf(t, v) != 0 {
		t.Fatal("sealed a compressed plaintext above MaxDecompressed")
	}
}

// The flags byte is in the authenticated header: setting or clearing the
// compression flag fails authentication.
func TestCompressionFlagTampered(t *testing.T) {
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	s.CompressAbove = 1
	for _, pt := range [][]byte{cartJSON(), []byte("\x07\x07\x07\x07 incompressible")} {
		v := mustSeal(t, s, "session", pt, expiry)
		raw, _ := base64.RawURLEncoding.DecodeString(v)
		raw[1] ^= 0x01
		_, info, err := s.Open("session", base64.RawURLEncoding.EncodeToString(raw))
		if !errors.Is(err, sealed.ErrInvalid) || info != (sealed.Info{}) {
			t.Fatalf("flags %#x -> %#x: %v, want ErrInvalid", raw[1]^1, raw[1], err)
		}
	}
}

func TestCompressionExpired(t *testing.T) {
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	s.CompressAbove = 1
	v := mustSeal(t, s, "session", cartJSON(), expiry)
	s = at(s, expiry)
	got, info, err := s.Open("session", v)
	if !errors.Is(err, sealed.ErrExpired) || got != nil || info.KeyID != "k1" {
		t.Fatalf("Open after expiry = %d bytes, %+v, %v", len(got), info, err)
	}
}

func TestCompressionTyped(t *testing.T) {
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	s.CompressAbove = 256
	type cart struct{ Items []string }
	in := cart{}
	for i := range 50 {
		in.Items = append(in.Items, fmt.Sprintf("item-%03d", i))
	}
	typed := sealed.NewTyped(s, sealed.JSON[cart]())
	v, err := typed.Seal("session", &in, expiry)
	if err != nil || flagsOf(t, v) != 0x01 {
		t.Fatalf("Seal: %v, flags %#x", err, flagsOf(t, v))
	}
	out, _, err := typed.Open("session", v)
	if err != nil || len(out.Items) != 50 || out.Items[49] != "item-049" {
		t.Fatalf("Open = %+v, %v", out, err)
	}
}

// Pooled writers and readers: compressing into and inflating out of buffers
// with room costs no allocation, and turning compression on does not touch
// the uncompressed path.
func TestCompressionAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector; scripts/test.sh runs this without -race")
	}
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	s.CompressAbove = 512
	pt := cartJSON()
	v := mustSeal(t, s, "session", pt, expiry)
	small := make([]byte, 200)
	sv := mustSeal(t, s, "session", small, expiry)
	dst := make([]byte, 0, 8192)
	for _, tc := range []struct {
		name string
		want float64
		f    func()
	}{
		{"AppendSeal compressed", 0, func() { _, _ = s.AppendSeal(dst[:0], "session", pt, expiry) }},
		{"AppendOpen compressed", 0, func() { _, _, _ = s.AppendOpen(dst[:0], "session", v) }},
		{"Open compressed", 1, func() { _, _, _ = s.Open("session", v) }},
		{"Seal below threshold", 1, func() { _, _ = s.Seal("session", small, expiry) }},
		{"AppendSeal below threshold", 0, func() { _, _ = s.AppendSeal(dst[:0], "session", small, expiry) }},
		{"AppendOpen uncompressed", 0, func() { _, _, _ = s.AppendOpen(dst[:0], "session", sv) }},
	} {
		if got := testing.AllocsPerRun(100, tc.f); got > tc.want {
			t.Errorf("%s: %v allocations, want <= %v", tc.name, got, tc.want)
		}
	}
}

// Flate writers (1.2 MB each) and readers survive garbage collections,
// which empty sync.Pools: compressing or inflating right after two
// collections allocates a few small buffers, not a new writer or reader.
func TestCompressionAllocationsAfterGC(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector; scripts/test.sh runs this without -race")
	}
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	s.CompressAbove = 512
	pt := cartJSON()
	v := mustSeal(t, s, "session", pt, expiry)
	dst := make([]byte, 0, 8192)
	for name, f := range map[string]func(){
		"AppendSeal": func() { _, _ = s.AppendSeal(dst[:0], "session", pt, expiry) },
		"AppendOpen": func() { _, _, _ = s.AppendOpen(dst[:0], "session", v) },
	} {
		f()
		// The least of three tries: other goroutines can only add.
		least := uint64(math.MaxUint64)
		for range 3 {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.GC()
			runtime.ReadMemStats(&before)
			f()
			runtime.ReadMemStats(&after)
			least = min(least, after.TotalAlloc-before.TotalAlloc)
		}
		if least > 32<<10 {
			t.Errorf("%s after two GCs allocated %d bytes, want < 32 KiB (a flate writer is 1.2 MB, 800 KB in Go 1.27; a reader 40 KB)", name, least)
		}
	}
}
