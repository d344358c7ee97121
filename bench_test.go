package sealed_test

// Benchmarks for the core. Each group has a reference measured in the same
// run, so the ratios survive this machine's noise:
//
//	go test -run '^$' -bench . -count 8 . | tee /tmp/bench.txt
//	benchstat /tmp/bench.txt
//
// docs/PERFORMANCE.md records the results.

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"golang.org/x/crypto/chacha20poly1305"
)

// benchSession is the "small" session of docs/PERFORMANCE.md: about 200
// bytes of JSON.
type benchSession struct {
	UserID    int64     `json:"uid"`
	Email     string    `json:"email"`
	Roles     []string  `json:"roles"`
	CSRF      string    `json:"csrf"`
	IssuedAt  time.Time `json:"iat"`
	ExpiresAt time.Time `json:"exp"`
}

func newBenchSession() benchSession {
	return benchSession{
		UserID: 1234567, Email: "ada.lovelace@example.com", Roles: []string{"admin", "billing", "support"},
		CSRF:     "n2S0v6x8Qy1mR4tW7zC9bD3fG5hJ8kL0pQ2sU4wY6aE",
		IssuedAt: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC),
	}
}

var benchSizes = []int{200, 2048}

func benchSealer(b *testing.B) *sealed.Sealer {
	return benchSuiteSealer(b, sealed.XChaCha20Poly1305)
}

func benchSuiteSealer(b *testing.B, suite sealed.Suite) *sealed.Sealer {
	k, err := sealed.GenerateSuiteKey(suite, "k1")
	if err != nil {
		b.Fatal(err)
	}
	ring, _ := sealed.NewKeyRing(k)
	return sealed.NewSealer(ring)
}

// The reference does only what any sealed cookie must: a random nonce,
// XChaCha20-Poly1305, and one base64url pass.
type reference struct {
	aead interface {
		Seal(dst, nonce, plaintext, ad []byte) []byte
		Open(dst, nonce, ciphertext, ad []byte) ([]byte, error)
	}
}

func newReference(b *testing.B) reference {
	key := make([]byte, chacha20poly1305.KeySize)
	rand.Read(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		b.Fatal(err)
	}
	return reference{aead}
}

func (r reference) seal(pt []byte) string {
	out := make([]byte, chacha20poly1305.NonceSizeX, chacha20poly1305.NonceSizeX+len(pt)+chacha20poly1305.Overhead)
	rand.Read(out)
	out = r.aead.Seal(out, out, pt, nil)
	return base64.RawURLEncoding.EncodeToString(out)
}

func (r reference) open(v string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, err
	}
	return r.aead.Open(nil, raw[:chacha20poly1305.NonceSizeX], raw[chacha20poly1305.NonceSizeX:], nil)
}

var sinkString string
var sinkBytes []byte

func BenchmarkSeal(b *testing.B) {
	exp := time.Now().Add(time.Hour)
	for _, n := range benchSizes {
		pt := make([]byte, n)
		b.Run(fmt.Sprintf("size=%d/impl=reference", n), func(b *testing.B) {
			ref := newReference(b)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				sinkString = ref.seal(pt)
			}
		})
		b.Run(fmt.Sprintf("size=%d/impl=Seal", n), func(b *testing.B) {
			s := benchSealer(b)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				sinkString, _ = s.Seal("session", pt, exp)
			}
		})
		b.Run(fmt.Sprintf("size=%d/impl=AppendSeal", n), func(b *testing.B) {
			s := benchSealer(b)
			dst := make([]byte, 0, 4096)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				sinkBytes, _ = s.AppendSeal(dst[:0], "session", pt, exp)
			}
		})
		b.Run(fmt.Sprintf("size=%d/impl=AppendSeal-aes256gcm", n), func(b *testing.B) {
			s := benchSuiteSealer(b, sealed.AES256GCM)
			dst := make([]byte, 0, 4096)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				sinkBytes, _ = s.AppendSeal(dst[:0], "session", pt, exp)
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	exp := time.Now().Add(time.Hour)
	for _, n := range benchSizes {
		pt := make([]byte, n)
		b.Run(fmt.Sprintf("size=%d/impl=reference", n), func(b *testing.B) {
			ref := newReference(b)
			v := ref.seal(pt)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				sinkBytes, _ = ref.open(v)
			}
		})
		b.Run(fmt.Sprintf("size=%d/impl=Open", n), func(b *testing.B) {
			s := benchSealer(b)
			v, _ := s.Seal("session", pt, exp)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				sinkBytes, _, _ = s.Open("session", v)
			}
		})
		b.Run(fmt.Sprintf("size=%d/impl=AppendOpen", n), func(b *testing.B) {
			s := benchSealer(b)
			v, _ := s.Seal("session", pt, exp)
			dst := make([]byte, 0, 4096)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				sinkBytes, _, _ = s.AppendOpen(dst[:0], "session", v)
			}
		})
		b.Run(fmt.Sprintf("size=%d/impl=AppendOpen-aes256gcm", n), func(b *testing.B) {
			s := benchSuiteSealer(b, sealed.AES256GCM)
			v, _ := s.Seal("session", pt, exp)
			dst := make([]byte, 0, 4096)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				sinkBytes, _, _ = s.AppendOpen(dst[:0], "session", v)
			}
		})
	}
}

// BenchmarkTypedRoundTrip encodes, seals, opens and decodes the ~200-byte
// session: the whole cost of a session write plus a read.
func BenchmarkTypedRoundTrip(b *testing.B) {
	exp := time.Now().Add(time.Hour)
	sess := newBenchSession()
	b.Run("impl=reference", func(b *testing.B) {
		ref := newReference(b)
		b.ReportAllocs()
		for b.Loop() {
			pt, _ := json.Marshal(&sess)
			v := ref.seal(pt)
			out, _ := ref.open(v)
			var got benchSession
			if err := json.Unmarshal(out, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=Typed", func(b *testing.B) {
		t := sealed.NewTyped(benchSealer(b), sealed.JSON[benchSession]())
		b.ReportAllocs()
		for b.Loop() {
			v, _ := t.Seal("session", &sess, exp)
			if _, _, err := t.Open("session", v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBinaryRoundTrip is BenchmarkTypedRoundTrip with the Binary codec
// and the example's hand-written encoding (example_codec_test.go): what is
// left of a round trip when the codec costs almost nothing.
func BenchmarkBinaryRoundTrip(b *testing.B) {
	exp := time.Now().Add(time.Hour)
	sess := appSession{
		UserID: 1234567, Email: "ada.lovelace@example.com", Roles: []string{"admin", "billing", "support"},
		IssuedAt: time.Unix(1763726400, 0), ExpiresAt: time.Unix(1763812800, 0),
	}
	t := sealed.NewTyped(benchSealer(b), sealed.Binary[appSession]())
	b.ReportAllocs()
	for b.Loop() {
		v, _ := t.Seal("session", &sess, exp)
		if _, _, err := t.Open("session", v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompression seals and opens a ~2 KB JSON cart with compression
// off and on (CompressAbove 512), reporting the cookie length.
func BenchmarkCompression(b *testing.B) {
	exp := time.Now().Add(time.Hour)
	pt := cartJSON()
	for _, above := range []int{0, 512} {
		s := benchSealer(b)
		s.CompressAbove = above
		v, _ := s.Seal("session", pt, exp)
		dst := make([]byte, 0, 4096)
		b.Run(fmt.Sprintf("compressAbove=%d/op=AppendSeal", above), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(pt)))
			for b.Loop() {
				sinkBytes, _ = s.AppendSeal(dst[:0], "session", pt, exp)
			}
			b.ReportMetric(float64(len(v)), "cookie-chars")
		})
		b.Run(fmt.Sprintf("compressAbove=%d/op=AppendOpen", above), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(pt)))
			for b.Loop() {
				sinkBytes, _, _ = s.AppendOpen(dst[:0], "session", v)
			}
			b.ReportMetric(float64(len(v)), "cookie-chars")
		})
	}
}

// BenchmarkPairedCore measures the core's targets as ratios that survive a
// shared, noisy machine: each iteration runs a small batch of the reference
// and then of ours, so a burst of load from elsewhere falls on both alike.
// It reports each side's mean time per operation (ns/op-ref, ns/op-ours) and
// their ratio (x-ours-vs-ref, lower is better; the targets are 1.15 for Seal
// and Open and 1.2 for the typed round trip). Its own ns/op is the sum of
// both sides and means nothing by itself.
//
//	go test -run '^$' -bench PairedCore -count 8 . | tee /tmp/paired.txt
//	benchstat /tmp/paired.txt
func BenchmarkPairedCore(b *testing.B) {
	exp := time.Now().Add(time.Hour)
	ref := newReference(b)
	s := benchSealer(b)
	for _, n := range benchSizes {
		pt := make([]byte, n)
		b.Run(fmt.Sprintf("op=Seal/size=%d", n), func(b *testing.B) {
			sealed.PairedRun(b, "ref", "ours",
				func() { sinkString = ref.seal(pt) },
				func() { sinkString, _ = s.Seal("session", pt, exp) })
		})
		refValue := ref.seal(pt)
		value, _ := s.Seal("session", pt, exp)
		b.Run(fmt.Sprintf("op=Open/size=%d", n), func(b *testing.B) {
			sealed.PairedRun(b, "ref", "ours",
				func() { sinkBytes, _ = ref.open(refValue) },
				func() { sinkBytes, _, _ = s.Open("session", value) })
		})
	}
	// The FIPS suite next to the default: x-aes256gcm-vs-xchacha is what a
	// version 2 value costs relative to a version 1 value.
	fips := benchSuiteSealer(b, sealed.AES256GCM)
	for _, n := range benchSizes {
		pt := make([]byte, n)
		b.Run(fmt.Sprintf("op=Seal/suite=aes256gcm/size=%d", n), func(b *testing.B) {
			sealed.PairedRun(b, "xchacha", "aes256gcm",
				func() { sinkString, _ = s.Seal("session", pt, exp) },
				func() { sinkString, _ = fips.Seal("session", pt, exp) })
		})
		value, _ := s.Seal("session", pt, exp)
		fipsValue, _ := fips.Seal("session", pt, exp)
		b.Run(fmt.Sprintf("op=Open/suite=aes256gcm/size=%d", n), func(b *testing.B) {
			sealed.PairedRun(b, "xchacha", "aes256gcm",
				func() { sinkBytes, _, _ = s.Open("session", value) },
				func() { sinkBytes, _, _ = fips.Open("session", fipsValue) })
		})
	}
	sess := newBenchSession()
	typed := sealed.NewTyped(s, sealed.JSON[benchSession]())
	b.Run("op=TypedRoundTrip/size=200", func(b *testing.B) {
		sealed.PairedRun(b, "ref", "ours",
			func() {
				pt, _ := json.Marshal(&sess)
				out, _ := ref.open(ref.seal(pt))
				var got benchSession
				if err := json.Unmarshal(out, &got); err != nil {
					b.Fatal(err)
				}
			},
			func() {
				v, _ := typed.Seal("session", &sess, exp)
				if _, _, err := typed.Open("session", v); err != nil {
					b.Fatal(err)
				}
			})
	})
}
