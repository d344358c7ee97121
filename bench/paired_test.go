package bench

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// BenchmarkPaired measures the targets as ratios that survive a
// shared, noisy machine: each iteration runs a batch of round trips of
// every contender in turn, so a burst of load from other processes falls on
// all of them alike instead of on whichever BenchmarkCodecs happened to be
// measuring. It reports each contender's mean round trip (ns/rt-IMPL) and
// the target ratios (x-...) as metrics; its own ns/op is the sum and
// means nothing by itself.
//
//	go test -run '^$' -bench Paired -count 6 | tee /tmp/paired.txt
//	benchstat /tmp/paired.txt
func BenchmarkPaired(b *testing.B) {
	small, large := NewSmall(), NewLarge()
	b.Run("size=small", func(b *testing.B) {
		cs := append(contenders[Small](b, false), envelope[Small](b, &small), aeadOnly[Small](b, &small))
		t := paired(b, &small, cs)
		b.ReportMetric(t["gorilla-gob"]/t["sealed-json"], "x-json-faster-than-gorilla-gob")
		b.ReportMetric(t["gorilla-json"]/t["sealed-json"], "x-json-faster-than-gorilla-json")
		b.ReportMetric(t["sealed-json"]/t["floor"], "x-json-time-vs-floor")
		b.ReportMetric(t["gorilla-gob"]/t["sealed-binary"], "x-binary-faster-than-gorilla-gob")
		b.ReportMetric(t["gorilla-gob"]/t["envelope"], "x-envelope-faster-than-gorilla-gob")
		jsonRatios(b, t)
	})
	b.Run("size=large", func(b *testing.B) {
		t := paired(b, &large, contenders[Large](b, true))
		b.ReportMetric(t["gorilla-json"]/t["sealed-json"], "x-json-faster-than-gorilla-json")
		b.ReportMetric(t["sealed-json"]/t["floor"], "x-json-time-vs-floor")
		jsonRatios(b, t)
	})
}

// jsonRatios reports the other JSON libraries' round trips (all sealed the
// same way) against sealed-json's, and, where the toolchain has
// encoding/json/v2 (Go 1.27), against json-v2's: above 1 is slower.
func jsonRatios(b *testing.B, t map[string]float64) {
	v2, hasV2 := t["json-v2"]
	for name, ns := range t {
		peer, ok := strings.CutPrefix(name, "json-")
		if !ok {
			continue
		}
		b.ReportMetric(ns/t["sealed-json"], "x-"+peer+"-time-vs-sealed-json")
		if hasV2 && peer != "v2" {
			b.ReportMetric(ns/v2, "x-"+peer+"-time-vs-v2")
		}
	}
}

// paired returns the mean round-trip time in nanoseconds of each contender,
// also reported as a metric.
func paired[T any](b *testing.B, in *T, cs []contender[T]) map[string]float64 {
	const batch = 8
	total := make([]time.Duration, len(cs))
	for b.Loop() {
		for i, c := range cs {
			start := time.Now()
			for range batch {
				v, err := c.encode(in)
				var out T
				if err == nil {
					err = c.decode(v, &out)
				}
				if err != nil {
					b.Fatalf("%s: %v", c.name, err)
				}
			}
			total[i] += time.Since(start)
		}
	}
	mean := map[string]float64{}
	for i, c := range cs {
		mean[c.name] = float64(total[i].Nanoseconds()) / float64(b.N*batch)
		b.ReportMetric(mean[c.name], "ns/rt-"+c.name)
	}
	return mean
}

// envelope is what a codec that cost nothing would leave: Sealer.Seal and
// Sealer.Open of the session's binary encoding, made once. It bounds how
// fast any codec can make a round trip.
func envelope[T any](tb testing.TB, v *T) contender[T] {
	s := newSealer(tb)
	pt, err := (*SmallBin)(any(v).(*Small)).AppendBinary(nil)
	if err != nil {
		tb.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	return contender[T]{
		name:   "envelope",
		encode: func(*T) (string, error) { return s.Seal(cookieName, pt, exp) },
		decode: func(v string, _ *T) error { _, _, err := s.Open(cookieName, v); return err },
	}
}

// aeadOnly is XChaCha20-Poly1305 alone on the same bytes, into reused
// buffers: no nonce generation, no header, no base64.
func aeadOnly[T any](tb testing.TB, v *T) contender[T] {
	aead, _ := chacha20poly1305.NewX(key32(6))
	pt, _ := (*SmallBin)(any(v).(*Small)).AppendBinary(nil)
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	ct := make([]byte, 0, len(pt)+chacha20poly1305.Overhead)
	out := make([]byte, 0, len(pt))
	return contender[T]{
		name: "aead",
		encode: func(*T) (string, error) {
			ct = aead.Seal(ct[:0], nonce, pt, nil)
			return "", nil
		},
		decode: func(string, *T) error {
			_, err := aead.Open(out[:0], nonce, ct, nil)
			return err
		},
	}
}
