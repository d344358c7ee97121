package interop_test

import (
	"bytes"
	"compress/flate"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// TestInflateAgrees: the package's pure-JavaScript inflate and Go's
// compress/flate (through Sealer.Open) agree on compressed values whose
// DEFLATE streams are valid, truncated, extended, bit-flipped or corrupt:
// the same plaintext, or the same error class (malformed, or too_large
// past the 65536-byte bound). JavaScript seals each stream as it is
// (sealDeflated), so both sides open the same authentic value and only
// inflating differs.
func TestInflateAgrees(t *testing.T) {
	ring := newRing(t, newKey(t, "z1"))
	const maxLen = 1 << 20
	var streams [][]byte
	rng := rand.New(rand.NewPCG(1, 2))
	var inputs [][]byte
	inputs = append(inputs,
		[]byte{},
		[]byte(`{"user":"alice","n":3}`),
		[]byte(strings.Repeat(`{"sku":"A-1","qty":1},`, 120)),
		randomish(3000),
		make([]byte, 65536),   // inflates to the bound exactly
		make([]byte, 65537),   // one byte over
		make([]byte, 200_000), // a bomb
		[]byte(blob(5000)),
	)
	for _, in := range inputs {
		for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
			var b bytes.Buffer
			w, _ := flate.NewWriter(&b, level)
			w.Write(in)
			w.Close()
			base := b.Bytes()
			streams = append(streams, base, append(bytes.Clone(base), 0), append(bytes.Clone(base), 0x03, 0x00))
			if len(base) < 64 {
				for n := range len(base) {
					streams = append(streams, base[:n])
				}
			} else {
				for range 8 {
					streams = append(streams, base[:rng.IntN(len(base))])
				}
			}
			for range 60 {
				c := bytes.Clone(base)
				if len(c) == 0 {
					break
				}
				c[rng.IntN(len(c))] ^= 1 << rng.IntN(8)
				streams = append(streams, c)
			}
			for range 10 {
				c := bytes.Clone(base)
				if len(c) == 0 {
					break
				}
				c[rng.IntN(len(c))] = byte(rng.IntN(256))
				streams = append(streams, c)
			}
		}
	}
	// Hand-made streams: reserved block type; a stored block whose length
	// and complement disagree; a fixed block whose first symbol is a match
	// (a distance before any output); a stored block that is not final and
	// no block after it. Random bytes then exercise block headers, and the
	// bit flips above the Huffman code checks (incomplete and
	// over-subscribed codes).
	streams = append(streams,
		[]byte{0x07},
		[]byte{0x01, 0x01, 0x00, 0x00, 0x00, 0x41},
		[]byte{0x03, 0x02, 0x00},
		[]byte{0x01, 0x00, 0x00, 0xff, 0xff},
	)
	for range 400 { // random bytes: mostly invalid headers
		b := make([]byte, 1+rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		streams = append(streams, b)
	}

	expires := clock.Add(time.Hour).Unix()
	keys := sealed.FormatKeyRing(ring)
	seals := make([]jsReq, len(streams))
	for i, s := range streams {
		seals[i] = jsReq{Op: "sealDeflated", Keys: keys, Name: "session", Deflated: hex.EncodeToString(s), Expires: expires, MaxLen: maxLen}
	}
	var sealedValues []jsResp
	js(t, seals, &sealedValues)
	opens := make([]jsReq, len(streams))
	for i, r := range sealedValues {
		if r.Error != "" {
			t.Fatalf("sealDeflated %d: %s", i, r.Message)
		}
		opens[i] = jsReq{Op: "open", Keys: keys, Name: "session", Value: r.Value, Now: clock.Unix(), MaxLen: maxLen}
	}
	var opened []jsResp
	js(t, opens, &opened)
	s := fixedSealer(ring)
	s.MaxLen = maxLen
	counts := map[string]int{}
	for i, r := range opened {
		pt, _, err := s.Open("session", opens[i].Value)
		want := class(err)
		counts[want]++
		if r.Error != want {
			t.Errorf("stream %d (%x): JavaScript %q (%s), Go %q (%v)", i, streams[i], r.Error, r.Message, want, err)
			continue
		}
		if want == "" && r.Plaintext != hex.EncodeToString(pt) {
			t.Errorf("stream %d: plaintexts differ", i)
		}
	}
	t.Logf("%d streams: %v", len(streams), counts)
}
