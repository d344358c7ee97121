package sealed_test

// JSON against JSONv2 (encoding/json against encoding/json/v2 where the
// toolchain has it), on the small session of docs/PERFORMANCE.md and a
// 2 KB one with a 30-item cart:
//
//	go test -run '^$' -bench 'JSONCodecs' -count 8 . | tee /tmp/jsonv2.txt
//	GOTOOLCHAIN=go1.27.3 go test -run '^$' -bench 'JSONCodecs' -count 8 . | tee /tmp/jsonv2-127.txt
//	benchstat -col /codec /tmp/jsonv2-127.txt
//
// docs/CODECS.md records the results.

import (
	"fmt"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

type benchItem struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	Qty        int    `json:"qty"`
	PriceCents int64  `json:"price"`
}

// benchLarge is benchSession plus a 30-item cart: about 2 KB of JSON.
type benchLarge struct {
	benchSession
	Cart []benchItem `json:"cart"`
}

func newBenchLarge() benchLarge {
	l := benchLarge{benchSession: newBenchSession()}
	for i := range 30 {
		l.Cart = append(l.Cart, benchItem{
			SKU: fmt.Sprintf("SKU-%06d", 100000+37*i), Name: fmt.Sprintf("Product number %d", i),
			Qty: i%4 + 1, PriceCents: int64(999 + 100*i),
		})
	}
	return l
}

// BenchmarkJSONCodecs measures Append, Decode and a Typed round trip (with
// the envelope) of each JSON codec alone; compare with benchstat -col /codec.
func BenchmarkJSONCodecs(b *testing.B) {
	small, large := newBenchSession(), newBenchLarge()
	b.Run("size=small", func(b *testing.B) { benchJSONCodecs(b, &small) })
	b.Run("size=large", func(b *testing.B) { benchJSONCodecs(b, &large) })
}

func benchJSONCodecs[T any](b *testing.B, v *T) {
	exp := time.Now().Add(time.Hour)
	for _, c := range []struct {
		name  string
		codec sealed.Codec[T]
	}{{"JSON", sealed.JSON[T]()}, {"JSONv2", sealed.JSONv2[T]()}} {
		enc, err := c.codec.Append(nil, v)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("op=append/codec="+c.name, func(b *testing.B) {
			dst := make([]byte, 0, 4096)
			b.ReportAllocs()
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				dst, _ = c.codec.Append(dst[:0], v)
			}
		})
		b.Run("op=decode/codec="+c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				var out T
				if err := c.codec.Decode(enc, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("op=typed/codec="+c.name, func(b *testing.B) {
			t := sealed.NewTyped(benchSealer(b), c.codec)
			b.ReportAllocs()
			for b.Loop() {
				s, _ := t.Seal("session", v, exp)
				if _, _, err := t.Open("session", s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPairedJSONCodecs runs JSON and JSONv2 in alternating batches
// (see PairedRun): x-JSONv2-vs-JSON is JSONv2's time over JSON's.
//
//	GOTOOLCHAIN=go1.27.3 go test -run '^$' -bench 'PairedJSONCodecs' -count 8 . | tee /tmp/pj.txt
//	benchstat /tmp/pj.txt
func BenchmarkPairedJSONCodecs(b *testing.B) {
	small, large := newBenchSession(), newBenchLarge()
	b.Run("size=small", func(b *testing.B) { pairedJSONCodecs(b, &small) })
	b.Run("size=large", func(b *testing.B) { pairedJSONCodecs(b, &large) })
}

func pairedJSONCodecs[T any](b *testing.B, v *T) {
	v1, v2 := sealed.JSON[T](), sealed.JSONv2[T]()
	enc, err := v1.Append(nil, v)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, 0, 4096)
	b.Run("op=append", func(b *testing.B) {
		sealed.PairedRun(b, "JSON", "JSONv2",
			func() { dst, _ = v1.Append(dst[:0], v) },
			func() { dst, _ = v2.Append(dst[:0], v) })
	})
	b.Run("op=decode", func(b *testing.B) {
		sealed.PairedRun(b, "JSON", "JSONv2",
			func() { var out T; _ = v1.Decode(enc, &out) },
			func() { var out T; _ = v2.Decode(enc, &out) })
	})
	exp := time.Now().Add(time.Hour)
	t1, t2 := sealed.NewTyped(benchSealer(b), v1), sealed.NewTyped(benchSealer(b), v2)
	b.Run("op=typed", func(b *testing.B) {
		sealed.PairedRun(b, "JSON", "JSONv2",
			func() { s, _ := t1.Seal("session", v, exp); _, _, _ = t1.Open("session", s) },
			func() { s, _ := t2.Seal("session", v, exp); _, _, _ = t2.Open("session", s) })
	})
}
