package sealed_test

// The JSON codec against encoding/json's own functions, on the small
// session of docs/PERFORMANCE.md and a 2 KB one with a 30-item cart. On
// Go 1.27 the codec decodes through encoding/json/v2 (codec_jsonv2.go):
//
//	go test -run '^$' -bench 'JSONCodec' -count 8 . | tee /tmp/json-126.txt
//	GOTOOLCHAIN=go1.27.3 go test -run '^$' -bench 'JSONCodec' -count 8 . | tee /tmp/json-127.txt
//	benchstat -col /impl /tmp/json-127.txt
//
// docs/PERFORMANCE.md records the results.

import (
	"encoding/json"
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

// BenchmarkJSONCodec measures decoding with json.Unmarshal (impl=encoding-json)
// and with the codec (impl=sealed), and the codec's Typed round trip
// (envelope included); compare with benchstat -col /impl.
func BenchmarkJSONCodec(b *testing.B) {
	small, large := newBenchSession(), newBenchLarge()
	b.Run("size=small", func(b *testing.B) { benchJSONCodec(b, &small) })
	b.Run("size=large", func(b *testing.B) { benchJSONCodec(b, &large) })
}

func benchJSONCodec[T any](b *testing.B, v *T) {
	codec := sealed.JSON[T]()
	enc, err := codec.Append(nil, v)
	if err != nil {
		b.Fatal(err)
	}
	for _, impl := range []struct {
		name   string
		decode func([]byte, *T) error
	}{{"encoding-json", func(b []byte, v *T) error { return json.Unmarshal(b, v) }}, {"sealed", codec.Decode}} {
		b.Run("op=decode/impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				var out T
				if err := impl.decode(enc, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("op=typed/impl=sealed", func(b *testing.B) {
		t := sealed.NewTyped(benchSealer(b), codec)
		exp := time.Now().Add(time.Hour)
		b.ReportAllocs()
		for b.Loop() {
			s, _ := t.Seal("session", v, exp)
			if _, _, err := t.Open("session", s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPairedJSONCodec decodes with json.Unmarshal and with the codec in
// alternating batches (see PairedRun): x-sealed-vs-encoding-json is the
// codec's time over json.Unmarshal's, 1 where the codec is json.Unmarshal
// (Go 1.26).
//
//	GOTOOLCHAIN=go1.27.3 go test -run '^$' -bench 'PairedJSONCodec' -count 8 . | tee /tmp/pj.txt
//	benchstat /tmp/pj.txt
func BenchmarkPairedJSONCodec(b *testing.B) {
	small, large := newBenchSession(), newBenchLarge()
	b.Run("size=small", func(b *testing.B) { pairedJSONCodec(b, &small) })
	b.Run("size=large", func(b *testing.B) { pairedJSONCodec(b, &large) })
}

func pairedJSONCodec[T any](b *testing.B, v *T) {
	codec := sealed.JSON[T]()
	enc, err := codec.Append(nil, v)
	if err != nil {
		b.Fatal(err)
	}
	sealed.PairedRun(b, "encoding-json", "sealed",
		func() { var out T; _ = json.Unmarshal(enc, &out) },
		func() { var out T; _ = codec.Decode(enc, &out) })
}
