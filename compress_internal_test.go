package sealed

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// These tests look inside pooled flate writers and readers, which
// compress_test.go (package sealed_test) cannot reach.

// reachableMemory returns every memory region reachable from root (a
// pointer): the objects it points to, the backing arrays of slices (to their
// capacity) and what those point to in turn, through interfaces too. It
// reads unexported fields with unsafe; it is for tests only.
func reachableMemory(root any) [][]byte {
	type node struct {
		p uintptr
		t reflect.Type
	}
	seen := make(map[node]bool)
	var regions [][]byte
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() || v.Type().Elem().Size() == 0 {
				return
			}
			if n := (node{v.Pointer(), v.Type()}); !seen[n] {
				seen[n] = true
				regions = append(regions, unsafe.Slice((*byte)(v.UnsafePointer()), v.Type().Elem().Size()))
				walk(v.Elem())
			}
		case reflect.Interface:
			if !v.IsNil() && v.Elem().Kind() == reflect.Pointer {
				walk(v.Elem())
			}
		case reflect.Slice:
			if v.Cap() == 0 || v.Type().Elem().Size() == 0 {
				return
			}
			if n := (node{v.Pointer(), v.Type()}); !seen[n] {
				seen[n] = true
				regions = append(regions, unsafe.Slice((*byte)(v.UnsafePointer()), uintptr(v.Cap())*v.Type().Elem().Size()))
				full := v.Slice3(0, v.Cap(), v.Cap())
				for i := range full.Len() {
					walk(full.Index(i))
				}
			}
		case reflect.Array:
			for i := range v.Len() {
				if k := v.Type().Elem().Kind(); k >= reflect.Bool && k <= reflect.Complex128 {
					return // numbers only: already in the enclosing region
				}
				walk(v.Index(i))
			}
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i))
			}
		}
	}
	walk(reflect.ValueOf(root))
	return regions
}

// leaks reports where a secret, or any 4-byte piece of it, occurs in the
// memory reachable from root. Four bytes is the unit of the BestSpeed
// encoder's match table, which keeps them with their positions.
func leaks(root any, secret string) []string {
	var found []string
	for _, r := range reachableMemory(root) {
		if n := bytes.Count(r, []byte(secret)); n > 0 {
			found = append(found, fmt.Sprintf("the secret itself %d times in a %d-byte region", n, len(r)))
		}
		pieces := 0
		for i := 0; i+4 <= len(secret); i++ {
			if bytes.Contains(r, []byte(secret[i:i+4])) {
				pieces++
			}
		}
		if pieces > 0 {
			found = append(found, fmt.Sprintf("%d of its %d 4-byte pieces in a %d-byte region", pieces, len(secret)-3, len(r)))
		}
	}
	return found
}

// scrubCases are plaintexts that hold a secret (a CSRF token): a session
// that compresses well, one that does not (the writer still read it), and
// ones spanning several flate blocks and wrapping the reader's 32 KB
// window.
func scrubCases() (secret string, cases map[string][]byte) {
	h := sha256.Sum256([]byte("sealed: pool scrub test"))
	secret = base64.RawURLEncoding.EncodeToString(append(h[:], h[:16]...)) // 64 characters
	session := func(items int) []byte {
		var b strings.Builder
		b.WriteString(`{"uid":1234567,"csrf":"` + secret + `","cart":[`)
		for i := range items {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"sku":"SKU-%06d","qty":%d}`, 100000+37*i, i%4+1)
			if i%700 == 699 {
				b.WriteString(`,"` + secret + `"`)
			}
		}
		b.WriteString(`],"csrf2":"` + secret + `"}`)
		return []byte(b.String())
	}
	noise := make([]byte, 900)
	for i := range noise {
		noise[i] = byte(i*i*7 + i*131 + i>>3)
	}
	return secret, map[string][]byte{
		"2 KB session":             session(60),
		"incompressible":           append(append(noise[:450:450], secret...), noise[450:]...),
		"40 KB session":            session(1400),
		"120 KB session, 2 blocks": session(4200),
	}
}

// fromReserve runs use, which takes an item from r and puts it back, and
// returns that item, still pooled: it empties the reserve first, so that the
// item lands there, and then restores it.
func fromReserve[T any](t *testing.T, r *reserve[T], use func()) T {
	t.Helper()
	var saved []T
	for len(r.keep) > 0 {
		saved = append(saved, <-r.keep)
	}
	use()
	var x T
	select {
	case x = <-r.keep:
	default:
		t.Fatal("nothing went back to the pool")
	}
	r.put(x)
	for _, y := range saved {
		r.put(y)
	}
	return x
}

// TestPooledFlateKeepsNoPlaintext compresses and inflates sessions holding
// a secret, then looks at every byte reachable from the writer and reader
// that went back to the pool: neither the secret nor any 4-byte piece of it
// may remain (window, previous block, tokens, match table, bit buffer,
// history).
func TestPooledFlateKeepsNoPlaintext(t *testing.T) {
	secret, cases := scrubCases()
	for name, pt := range cases {
		t.Run(name, func(t *testing.T) {
			s := &Sealer{CompressAbove: 1, MaxDecompressed: 1 << 20}
			var compressed []byte
			w := fromReserve(t, deflaters, func() {
				out, flags, z := s.deflate(pt)
				compressed = bytes.Clone(out)
				if z != nil {
					z.release()
				}
				if flags == 0 && name != "incompressible" {
					t.Fatal("did not compress")
				}
			})
			if l := leaks(w, secret); len(l) > 0 {
				t.Errorf("pooled flate writer holds %s", strings.Join(l, "; "))
			}
			if name == "incompressible" {
				return // nothing to inflate
			}
			// Inflate it whole, stop it as too large half way, and cut it
			// short: the reader has decoded ahead of what inflate read.
			for _, c := range []struct {
				name  string
				src   []byte
				limit int
				want  error
			}{
				{"whole", compressed, 1 << 20, nil},
				{"too large", compressed, len(pt) / 2, ErrTooLarge},
				{"truncated", compressed[:len(compressed)*3/4], 1 << 20, ErrMalformed},
			} {
				r := fromReserve(t, inflaters, func() {
					got, err := inflate(nil, c.src, c.limit)
					if !errors.Is(err, c.want) || (c.want == nil && !bytes.Equal(got, pt)) {
						t.Fatalf("inflate %s: %v, want %v", c.name, err, c.want)
					}
				})
				if l := leaks(r, secret); len(l) > 0 {
					t.Errorf("pooled flate reader (%s) holds %s", c.name, strings.Join(l, "; "))
				}
			}
		})
	}
}

// TestFlateWriterLayout: compress/flate's writer still has the fields that
// scrubFlateWriter clears. If a Go release changes them, writers are no
// longer pooled (each compression allocates 1.2 MB) until compress.go
// learns the new layout.
func TestFlateWriterLayout(t *testing.T) {
	if !writerLayoutOK {
		t.Fatal("compress/flate's Writer has an unknown layout: deflaters are not pooled; update findFlateWriterLayout")
	}
}

// A scrubbed writer compresses exactly as a new one does, session after
// session: clearing its buffers changes no output.
func TestScrubbedFlateWriterOutput(t *testing.T) {
	_, cases := scrubCases()
	inputs := [][]byte{cartJSONInternal(), nil, []byte("x"), bytes.Repeat([]byte("ab"), 40), []byte(strings.Repeat("0123456789", 20))}
	for _, pt := range cases {
		inputs = append(inputs, pt)
	}
	inputs = append(inputs, inputs...) // and again, after the big ones
	z := deflaters.get()
	for i, pt := range inputs {
		z.w.Reset(&z.out)
		z.used = len(pt)
		z.w.Write(pt)
		z.w.Close()
		got := bytes.Clone(z.out.b)
		clear(z.out.b)
		z.out.b = z.out.b[:0]
		if !scrubFlateWriter(z.w, z.used) {
			t.Fatal("unknown flate.Writer layout")
		}
		var want bytes.Buffer
		fresh, _ := flate.NewWriter(&want, flate.BestSpeed)
		fresh.Write(pt)
		fresh.Close()
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("input %d (%d bytes): the scrubbed writer's output differs from a new writer's", i, len(pt))
		}
		back, err := inflate(nil, got, 1<<20)
		if err != nil || !bytes.Equal(back, pt) {
			t.Fatalf("input %d: round trip: %v", i, err)
		}
	}
	deflaters.put(z)
}

// cartJSONInternal is a compressible session like compress_test.go's.
func cartJSONInternal() []byte {
	var b strings.Builder
	b.WriteString(`{"uid":1234567,"cart":[`)
	for i := range 30 {
		fmt.Fprintf(&b, `{"sku":"SKU-%06d","qty":%d},`, 100000+37*i, i%4+1)
	}
	b.WriteString(`{}]}`)
	return []byte(b.String())
}

// BenchmarkDeflateScrubPaired measures what scrubbing costs per session on
// a shared, noisy machine: each iteration compresses (or inflates) a 2 KB
// cart in a small batch the way compress.go did before scrubbing, then in
// a batch the way it does now (scrubbing the writer or reader before
// pooling it), so that load from elsewhere falls on both alike.
// It reports each side's mean (ns/op-unscrubbed, ns/op-scrubbed) and their
// ratio; its own ns/op is the sum and means nothing by itself.
//
//	go test -run '^$' -bench DeflateScrubPaired -count 6 .
func BenchmarkDeflateScrubPaired(b *testing.B) {
	_, cases := scrubCases()
	pt := cases["2 KB session"]
	s := &Sealer{CompressAbove: 1}
	out, _, z := s.deflate(pt)
	compressed := bytes.Clone(out)
	z.release()
	dst := make([]byte, 0, 8192)
	b.Run("op=deflate", func(b *testing.B) {
		PairedRun(b, "unscrubbed", "scrubbed",
			func() { // before: Reset, compress, clear the output, pool
				z := deflaters.get()
				z.w.Reset(&z.out)
				z.w.Write(pt)
				z.w.Close()
				clear(z.out.b)
				z.out.b = z.out.b[:0]
				deflaters.put(z)
			},
			func() { _, _, z := s.deflate(pt); z.release() })
	})
	b.Run("op=inflate", func(b *testing.B) {
		PairedRun(b, "unscrubbed", "scrubbed",
			func() { // before: Reset, inflate, pool
				z := inflaters.get()
				z.src.Reset(compressed)
				z.r.(flate.Resetter).Reset(&z.src, nil)
				n, _ := io.ReadFull(z.r, dst[:len(pt)])
				if n != len(pt) {
					b.Fatal("short")
				}
				inflaters.put(z)
			},
			func() {
				if _, err := inflate(dst[:0], compressed, DefaultMaxDecompressed); err != nil {
					b.Fatal(err)
				}
			})
	})
}
