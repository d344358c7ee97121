package sealed

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"runtime"
	"slices"
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
	session := func(items int) []byte { return sessionWith(secret, items) }
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

// sessionWith returns a JSON session of items cart items holding the secret
// at its start, its end and after every 700 items.
func sessionWith(secret string, items int) []byte {
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
// may remain (window, previous block or history, tokens, match table, bit
// buffer; the reader's history). The writer's walk must cover every buffer
// that scrubFlateWriter knows of (through the encoder interface of Go 1.27
// too), and those must be all zeros.
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
			if p := scrubbedBufferProblems(w); len(p) > 0 {
				t.Errorf("pooled flate writer: %s", strings.Join(p, "; "))
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

// scrubbedBufferProblems checks the writer of z, scrubbed since its last
// session: every buffer scrubFlateWriter clears (all of it, not only what
// the last session could have written) must be all zeros and inside the
// memory that reachableMemory(z) walks.
func scrubbedBufferProblems(z *deflater) []string {
	var bufs [][]byte
	if !flateBuffers(z.w, math.MaxInt, func(b []byte) { bufs = append(bufs, b) }) {
		return []string{"unknown flate.Writer layout"}
	}
	walked := reachableMemory(z)
	var problems []string
	for i, b := range bufs {
		if n := len(b) - bytes.Count(b, []byte{0}); n > 0 {
			problems = append(problems, fmt.Sprintf("buffer %d (%d bytes) has %d non-zero bytes", i, len(b), n))
		}
		start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		if !slices.ContainsFunc(walked, func(r []byte) bool {
			rs := uintptr(unsafe.Pointer(unsafe.SliceData(r)))
			return rs <= start && start+uintptr(len(b)) <= rs+uintptr(len(r))
		}) {
			problems = append(problems, fmt.Sprintf("buffer %d (%d bytes) is outside the memory walked", i, len(b)))
		}
	}
	return problems
}

// TestFlateWriterLayout: compress/flate's writer still has the fields that
// scrubFlateWriter clears. If a Go release changes them, writers are no
// longer pooled (each compression allocates 1.2 MB, 800 KB in Go 1.27)
// until compress.go learns the new layout. A release that flateLayouts
// names must get its own layout.
func TestFlateWriterLayout(t *testing.T) {
	z := deflaters.get()
	defer deflaters.put(z)
	l := flateLayout(z.w)
	if l == nil {
		t.Fatal("compress/flate's Writer has an unknown layout: deflaters are not pooled; update flateLayouts")
	}
	t.Logf("%s: compress/flate writer layout of %s, %d buffers", runtime.Version(), l.release, len(l.regions))
	for _, spec := range flateLayouts {
		v, ok := strings.CutPrefix(runtime.Version(), spec.release)
		if ok && (v == "" || v[0] < '0' || v[0] > '9') && l.release != spec.release {
			t.Errorf("%s has the layout of %s, want %s's", runtime.Version(), l.release, spec.release)
		}
	}
}

// scrubFlateWriter refuses writers of other levels (other encoders, or
// none), clearing nothing: their buffers are not the ones it knows.
func TestScrubFlateWriterRefusesOtherLevels(t *testing.T) {
	z := deflaters.get() // the layout is found on a BestSpeed writer
	defer deflaters.put(z)
	if flateLayout(z.w) == nil {
		t.Skip("unknown flate.Writer layout")
	}
	pt := cartJSONInternal()
	for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, 2, 4, flate.DefaultCompression, 9} {
		w, err := flate.NewWriter(io.Discard, level)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(pt)
		w.Close()
		if flateBuffers(w, len(pt), func([]byte) { t.Errorf("level %d: cleared a buffer", level) }) {
			t.Errorf("level %d: scrubFlateWriter accepted the writer", level)
		}
	}
}

// stateDiffs compares the memory reachable from a and b, two pointers of
// the same type, number by number (slices to their capacity, through
// pointers and interfaces; not the addresses themselves, nor the lengths of
// slices), and reports where they differ. It skips the struct fields and
// types named in skip.
func stateDiffs(a, b any, skip map[string]bool) []string {
	var diffs []string
	seen := make(map[[2]uintptr]bool)
	var walk func(a, b reflect.Value, path string)
	walk = func(a, b reflect.Value, path string) {
		if len(diffs) >= 10 {
			return
		}
		differ := func(format string, args ...any) {
			diffs = append(diffs, path+": "+fmt.Sprintf(format, args...))
		}
		switch a.Kind() {
		case reflect.Pointer:
			if a.IsNil() || b.IsNil() {
				if a.IsNil() != b.IsNil() {
					differ("nil in one only")
				}
				return
			}
			if k := [2]uintptr{a.Pointer(), b.Pointer()}; !seen[k] {
				seen[k] = true
				walk(a.Elem(), b.Elem(), "(*"+path+")")
			}
		case reflect.Interface:
			if a.IsNil() || b.IsNil() || a.Elem().Type() != b.Elem().Type() {
				if a.IsNil() != b.IsNil() || (!a.IsNil() && a.Elem().Type() != b.Elem().Type()) {
					differ("different dynamic types")
				}
				return
			}
			walk(a.Elem(), b.Elem(), path)
		case reflect.Slice:
			if a.Cap() != b.Cap() {
				differ("capacity %d and %d", a.Cap(), b.Cap())
				return
			}
			if a.Cap() == 0 {
				return
			}
			walk(sliceArray(a), sliceArray(b), path+"[:cap]")
		case reflect.Array:
			if numbersOnly(a.Type()) && a.CanAddr() && b.CanAddr() {
				if x, y := memoryOf(a), memoryOf(b); !bytes.Equal(x, y) {
					n, first := 0, -1
					for i := range x {
						if x[i] != y[i] {
							n++
							if first < 0 {
								first = i
							}
						}
					}
					differ("%d of its %d bytes differ, the first at byte %d", n, len(x), first)
				}
				return
			}
			for i := range a.Len() {
				walk(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		case reflect.Struct:
			if skip[a.Type().Name()] {
				return
			}
			for i := range a.NumField() {
				if name := a.Type().Field(i).Name; !skip[name] {
					walk(a.Field(i), b.Field(i), path+"."+name)
				}
			}
		case reflect.Func, reflect.Chan, reflect.Map, reflect.UnsafePointer:
			// Code and runtime objects: no session data here.
		case reflect.Bool:
			if a.Bool() != b.Bool() {
				differ("%v and %v", a.Bool(), b.Bool())
			}
		case reflect.String:
			if a.String() != b.String() {
				differ("%q and %q", a.String(), b.String())
			}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if a.Int() != b.Int() {
				differ("%d and %d", a.Int(), b.Int())
			}
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			if a.Uint() != b.Uint() {
				differ("%d and %d", a.Uint(), b.Uint())
			}
		case reflect.Float32, reflect.Float64:
			if math.Float64bits(a.Float()) != math.Float64bits(b.Float()) {
				differ("%v and %v", a.Float(), b.Float())
			}
		default:
			differ("cannot compare a %v", a.Kind())
		}
	}
	walk(reflect.ValueOf(a), reflect.ValueOf(b), "")
	return diffs
}

// numbersOnly reports whether t is made of numbers (and booleans) only.
func numbersOnly(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return numbersOnly(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !numbersOnly(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

// memoryOf returns the memory of v, which must be addressable.
func memoryOf(v reflect.Value) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(v.UnsafeAddr())), v.Type().Size())
}

// sliceArray returns the backing array of the slice s, to its capacity.
func sliceArray(s reflect.Value) reflect.Value {
	return reflect.NewAt(reflect.ArrayOf(s.Cap(), s.Type().Elem()), s.UnsafePointer()).Elem()
}

// A scrubbed writer compresses exactly as a new one does, session after
// session: clearing its buffers changes no output. And it keeps none of
// them, a 400 KB session included (Go 1.27's history buffer, 320 KB,
// wraps).
func TestScrubbedFlateWriterOutput(t *testing.T) {
	secret, cases := scrubCases()
	inputs := [][]byte{cartJSONInternal(), nil, []byte("x"), bytes.Repeat([]byte("ab"), 40), []byte(strings.Repeat("0123456789", 20))}
	for _, pt := range cases {
		inputs = append(inputs, pt)
	}
	inputs = append(inputs, sessionWith(secret, 14000))
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
		if l := leaks(z, secret); len(l) > 0 {
			t.Errorf("input %d (%d bytes): the scrubbed writer holds %s", i, len(pt), strings.Join(l, "; "))
		}
		if p := scrubbedBufferProblems(z); len(p) > 0 {
			t.Errorf("input %d (%d bytes): %s", i, len(pt), strings.Join(p, "; "))
		}
	}
	deflaters.put(z)
}

// flateStatistics names the fields and types of compress/flate's writer
// (Go 1.26 and 1.27) that hold the symbol frequencies of the last block and
// the Huffman codes built from them: statistics that scrubFlateWriter
// leaves.
var flateStatistics = map[string]bool{
	"literalFreq": true, "offsetFreq": true, "codegenFreq": true, "codegen": true, // huffmanBitWriter
	"huffmanEncoder": true,
}

// TestScrubbedFlateWriterForgetsTheSecret: what a session leaves in a
// scrubbed writer, statistics aside, does not depend on the order of the
// secret's characters. Two writers given the same sessions, but for the
// secret reversed in one, end up identical number for number but for
// flateStatistics and the lengths of slices (Go 1.26's tokens: a count),
// which differ where the encoder found other matches.
// This catches traces of the plaintext that are not copies of it, which
// TestPooledFlateKeepsNoPlaintext cannot see: Go 1.27's match table holds
// positions only, each stored at the hash of the 5 bytes there.
func TestScrubbedFlateWriterForgetsTheSecret(t *testing.T) {
	secret, cases := scrubCases()
	reversed := []byte(secret)
	slices.Reverse(reversed)
	for name, pt := range cases {
		t.Run(name, func(t *testing.T) {
			var ws [2]*flate.Writer
			for i, in := range [][]byte{pt, bytes.ReplaceAll(pt, []byte(secret), reversed)} {
				ws[i], _ = flate.NewWriter(nil, flate.BestSpeed)
				for range 2 { // a new writer, then a scrubbed one
					ws[i].Reset(io.Discard)
					ws[i].Write(in)
					ws[i].Close()
					if d := stateDiffs(ws[0], ws[0], nil); i == 0 && len(d) > 0 {
						t.Fatal("a writer differs from itself:", d)
					}
					if !scrubFlateWriter(ws[i], len(in)) {
						t.Fatal("unknown flate.Writer layout")
					}
				}
			}
			if d := stateDiffs(ws[0], ws[1], flateStatistics); len(d) > 0 {
				t.Errorf("the scrubbed writers differ: %s", strings.Join(d, "; "))
			}
			// The comparison sees what scrubbing clears: a session later,
			// unscrubbed, the writers differ.
			for i, in := range [][]byte{pt, bytes.ReplaceAll(pt, []byte(secret), reversed)} {
				ws[i].Reset(io.Discard)
				ws[i].Write(in)
				ws[i].Close()
			}
			if len(stateDiffs(ws[0], ws[1], flateStatistics)) == 0 {
				t.Error("unscrubbed writers are alike: stateDiffs sees nothing")
			}
		})
	}
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
