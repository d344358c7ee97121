package sealed

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unsafe"
)

// Compression (docs/FORMAT.md, "Compression"): when a Sealer's CompressAbove
// allows it, the plaintext is compressed with raw DEFLATE (RFC 1951) before
// sealing and flags bit 0x01 is set in the authenticated header. Open
// inflates such values after authenticating them, bounded by
// MaxDecompressed.

// DefaultMaxDecompressed is the default bound on the size of a decompressed
// plaintext: [Sealer.MaxDecompressed] when it is zero.
const DefaultMaxDecompressed = 64 << 10

func (s *Sealer) maxDecompressed() int {
	if s.MaxDecompressed <= 0 {
		return DefaultMaxDecompressed
	}
	return s.MaxDecompressed
}

// A deflater is a pooled flate writer with the buffer it writes to. NewWriter
// allocates 1.2 MB (in Go 1.27, 490 KB and 330 KB more on first use), so
// writers are only ever Reset, never rebuilt.
// BestSpeed: its Reset is cheap (higher levels clear 640 KB of hash tables
// on every Reset) and it takes a 2.4 KB JSON cart to 588 bytes; level 6
// makes that 455 bytes for twice the time.
type deflater struct {
	w    *flate.Writer
	out  sliceWriter
	used int // bytes of plaintext written to w since it was scrubbed
}

// sliceWriter is an io.Writer that appends to a slice.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

var deflaters = newReserve(func() *deflater {
	z := &deflater{out: sliceWriter{b: make([]byte, 0, 1024)}}
	z.w, _ = flate.NewWriter(nil, flate.BestSpeed) // the level is valid: no error
	return z
})

// reserveSize is how many flate writers and readers outlive garbage
// collections: at most 4 × 1.2 MB of writers stay allocated once
// compression has been used by 4 goroutines at a time.
const reserveSize = 4

// A reserve is a sync.Pool that keeps a few items out of the garbage
// collector's reach. Every second collection empties a sync.Pool, and a
// fresh flate writer costs 1.2 MB and about 180 µs, ten times compressing a
// 2 KB session, so a server that compresses now and then would otherwise pay
// that on most compressions.
type reserve[T any] struct {
	keep chan T
	pool sync.Pool
}

func newReserve[T any](fresh func() T) *reserve[T] {
	return &reserve[T]{keep: make(chan T, reserveSize), pool: sync.Pool{New: func() any { return fresh() }}}
}

func (r *reserve[T]) get() T {
	select {
	case x := <-r.keep:
		return x
	default:
		return r.pool.Get().(T)
	}
}

func (r *reserve[T]) put(x T) {
	select {
	case r.keep <- x:
	default:
		r.pool.Put(x)
	}
}

// release clears the compressed session and every copy of the plaintext
// inside the writer (they hold secrets) and pools z. Without a known writer
// layout (scrubFlateWriter), z is dropped instead.
func (z *deflater) release() {
	clear(z.out.b)
	if !scrubFlateWriter(z.w, z.used) {
		return // a flate.Writer of unknown layout: never reuse it
	}
	z.used = 0
	if cap(z.out.b) > 64<<10 {
		return // don't pin a buffer grown by an unusually large session
	}
	z.out.b = z.out.b[:0]
	deflaters.put(z)
}

// What a flate.Writer keeps after Close. Reset does not clear it, and at
// BestSpeed it holds the plaintext several times over, in buffers that
// differ between releases of Go:
//
//   - Up to Go 1.26 (compressor.bestSpeed, a *deflateFast): the input window
//     (the last block, up to 64 KiB), the block's tokens (a literal token
//     is a plaintext byte), the encoder's copy of the block (prev), its
//     match table (16384 entries, each 4 bytes of the plaintext and their
//     position) and the bit writer's output buffer.
//   - Go 1.27 (a new compress/flate, after github.com/klauspost/compress):
//     the input window, the block's tokens (an array in the compressor),
//     the level 1 encoder behind the compressor.fast interface (a
//     *fastEncL1) with its history (hist: every block since Reset, in a
//     320 KB array that Reset keeps) and its match table (32768 entries),
//     and the bit writer's output buffer. The table's entries are positions
//     only, but each is stored at the hash of the 5 bytes at its position,
//     so which entries are set says something about the plaintext: enough
//     to test guesses about a token next to JSON an attacker can predict.
//
// Pushing other data through the writer overwrites the first buffers but
// not the tables: their entries are overwritten only where the new data
// happens to hash to them, so pieces of the plaintext would stay in every
// pooled writer. compress/flate offers no way to clear any of it, so
// scrubFlateWriter clears these buffers in place, at offsets found once by
// reflection (flateLayouts names them). Clearing them is safe: the writer
// fills each before reading it again after a Reset, and an all-zero table
// entry is out of match range (like the stale entries Reset leaves; Go
// 1.27's encoder itself zeroes entries to put them out of range). The rest
// of the writer holds statistics, not the plaintext: the symbol frequencies
// of the last block (how often each byte value occurred, in no order) and
// the Huffman codes built from them. (Go 1.27's tokens keep such
// histograms too, cleared after every block.)
//
// If a release of Go changes these fields, no layout is found and writers
// are no longer pooled: each compression then allocates a new writer
// (1.2 MB; 800 KB in Go 1.27). TestFlateWriterLayout fails on such a
// release, and TestPooledFlateKeepsNoPlaintext on one that adds a buffer
// holding the plaintext.
var flateLayouts = []flateLayoutSpec{{
	release: "go1.26",
	ptrs:    []flatePointerSpec{{path: "d.bestSpeed"}, {path: "d.w"}}, // *deflateFast, *huffmanBitWriter
	regions: []flateRegionSpec{
		{via: -1, path: "d.window", elem: reflect.Uint8},           // []byte
		{via: -1, path: "d.tokens", elem: reflect.Uint32},          // []token
		{via: 0, path: "prev", elem: reflect.Uint8},                // []byte
		{via: 0, path: "table", elem: reflect.Struct, whole: true}, // [16384]tableEntry{val uint32; offset int32}
		{via: 1, path: "bytes", elem: reflect.Uint8, whole: true},  // [248]byte
	},
}, {
	release: "go1.27",
	ptrs:    []flatePointerSpec{{path: "d.fast", impl: "fastEncL1"}, {path: "d.w"}}, // fastEnc, *huffmanBitWriter
	regions: []flateRegionSpec{
		{via: -1, path: "d.window", elem: reflect.Uint8},           // []byte
		{via: -1, path: "d.tokens.tokens", elem: reflect.Uint32},   // [65536]token
		{via: 0, path: "fastGen.hist", elem: reflect.Uint8},        // []byte
		{via: 0, path: "table", elem: reflect.Struct, whole: true}, // [32768]tableEntry{offset int32}
		{via: 1, path: "bytes", elem: reflect.Uint8, whole: true},  // [264]byte
	},
}}

// A flateLayoutSpec names the buffers of a release's flate.Writer that hold
// the plaintext.
type flateLayoutSpec struct {
	release string             // the first release of Go with this layout
	ptrs    []flatePointerSpec // the objects, besides the Writer, that hold buffers
	regions []flateRegionSpec
}

// A flatePointerSpec names a pointer field of flate.Writer by its path
// (field names, dot-separated), or an interface field and the struct type
// of compress/flate that it must hold a pointer to.
type flatePointerSpec struct {
	path string
	impl string // for an interface: the name of the struct type
}

// A flateRegionSpec names a buffer of pointer-free elements of kind elem,
// a slice or an array, by its path in the Writer (via -1) or in the object
// that ptrs[via] points to. Unless whole, it is written from its start
// after a Reset, with at most one element per byte of plaintext plus one
// (an end-of-block token): scrubbing a writer given n bytes clears its
// first n+1 elements (of its backing array, whatever a slice's length),
// and all of it otherwise.
type flateRegionSpec struct {
	via   int
	path  string
	elem  reflect.Kind
	whole bool
}

// maxFlatePointers bounds the pointers a layout follows.
const maxFlatePointers = 2

// A flateWriterLayout is a flateLayoutSpec resolved to offsets.
type flateWriterLayout struct {
	release string
	ptrs    []flatePointer
	regions []flateRegion
}

type flatePointer struct {
	off  uintptr        // of the field in the Writer
	itab unsafe.Pointer // for an interface: the type word it must hold
}

type flateRegion struct {
	via   int
	off   uintptr // of the field in its object
	slice bool
	size  uintptr // of an array, in bytes
	elem  uintptr // size of an element
	whole bool
}

var (
	writerLayoutOnce sync.Once
	writerLayout     *flateWriterLayout // nil if unknown
)

// flateLayout returns the layout of w, a BestSpeed writer, or nil if it is
// unknown. The first call finds it, reading the dynamic types of w's
// interface fields (finding it at init would take a writer of its own, 1 MB
// of garbage in every program); later calls must check them, as
// flateBuffers does.
func flateLayout(w *flate.Writer) *flateWriterLayout {
	writerLayoutOnce.Do(func() { writerLayout = findFlateWriterLayout(w) })
	return writerLayout
}

// findFlateWriterLayout resolves the first of flateLayouts that w's type
// matches, checking the name and type of each field on the way.
func findFlateWriterLayout(w *flate.Writer) *flateWriterLayout {
	for _, spec := range flateLayouts {
		if l := spec.resolve(w); l != nil {
			return l
		}
	}
	return nil
}

func (spec *flateLayoutSpec) resolve(w *flate.Writer) *flateWriterLayout {
	if len(spec.ptrs) > maxFlatePointers {
		return nil
	}
	l := &flateWriterLayout{release: spec.release}
	writer := reflect.ValueOf(w).Elem()
	var objects []reflect.Type // the struct type each pointer leads to
	for _, ps := range spec.ptrs {
		off, f, ok := fieldPath(writer.Type(), ps.path)
		if !ok {
			return nil
		}
		var p flatePointer
		p.off = off
		switch {
		case ps.impl == "" && f.Type.Kind() == reflect.Pointer:
			objects = append(objects, f.Type.Elem())
		case ps.impl != "" && f.Type.Kind() == reflect.Interface:
			// The dynamic type, from w: a pointer to the named struct.
			// The interface value is two words, the type's (an itab,
			// which scrubbing checks) and the pointer, as reflect sees.
			v := writer.FieldByIndex(f.Index)
			if v.IsNil() {
				return nil
			}
			d := v.Elem()
			words := (*[2]unsafe.Pointer)(unsafe.Add(unsafe.Pointer(w), off))
			if d.Kind() != reflect.Pointer || d.Type().Elem().Name() != ps.impl ||
				d.Type().Elem().PkgPath() != "compress/flate" ||
				words[0] == nil || words[1] != d.UnsafePointer() {
				return nil
			}
			p.itab = words[0]
			objects = append(objects, d.Type().Elem())
		default:
			return nil
		}
		l.ptrs = append(l.ptrs, p)
	}
	for _, rs := range spec.regions {
		in := writer.Type()
		if rs.via >= len(objects) {
			return nil
		} else if rs.via >= 0 {
			in = objects[rs.via]
		}
		off, f, ok := fieldPath(in, rs.path)
		if !ok || (f.Type.Kind() != reflect.Slice && f.Type.Kind() != reflect.Array) ||
			f.Type.Elem().Kind() != rs.elem || !pointerFree(f.Type.Elem()) {
			return nil
		}
		r := flateRegion{via: rs.via, off: off, elem: f.Type.Elem().Size(), whole: rs.whole}
		if f.Type.Kind() == reflect.Slice {
			r.slice = true
		} else {
			r.size = f.Type.Size()
		}
		l.regions = append(l.regions, r)
	}
	return l
}

// fieldPath finds a field of struct type t by its path (field names,
// dot-separated, no promoted fields), and its offset in t.
func fieldPath(t reflect.Type, path string) (off uintptr, f reflect.StructField, ok bool) {
	var index []int
	for name := range strings.SplitSeq(path, ".") {
		if t.Kind() != reflect.Struct {
			return 0, f, false
		}
		if f, ok = t.FieldByName(name); !ok || len(f.Index) != 1 {
			return 0, f, false
		}
		off += f.Offset
		index = append(index, f.Index[0])
		t = f.Type
	}
	f.Index = index
	return off, f, true
}

// pointerFree reports whether memory of type t holds no pointer, so that
// clearing it cannot hide one from the garbage collector.
func pointerFree(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Int32, reflect.Int64, reflect.Uint64:
		return true
	case reflect.Array:
		return pointerFree(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !pointerFree(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

// scrubFlateWriter clears the memory of w, a BestSpeed writer that was
// given n bytes since it was last scrubbed and then closed, that can hold
// them. It reports false, clearing nothing, if the layout of flate.Writer is
// not one it knows: w must then not be reused for another session.
func scrubFlateWriter(w *flate.Writer, n int) bool {
	return flateBuffers(w, n, clearBytes)
}

func clearBytes(b []byte) { clear(b) }

// flateBuffers calls f with each buffer of w (see scrubFlateWriter) that
// can hold the n bytes, after checking w's layout: it reports false,
// without calling f, if the layout is unknown or w's interface fields hold
// other types than the ones it was found with.
func flateBuffers(w *flate.Writer, n int, f func([]byte)) bool {
	l := flateLayout(w)
	if l == nil {
		return false
	}
	p := unsafe.Pointer(w)
	var objects [maxFlatePointers]unsafe.Pointer
	for i, ptr := range l.ptrs {
		word := unsafe.Add(p, ptr.off)
		if ptr.itab != nil {
			words := (*[2]unsafe.Pointer)(word)
			if words[0] != ptr.itab {
				return false // another encoder than BestSpeed's
			}
			word = unsafe.Pointer(&words[1])
		}
		if objects[i] = *(*unsafe.Pointer)(word); objects[i] == nil {
			return false // not a BestSpeed writer
		}
	}
	for _, r := range l.regions {
		base := p
		if r.via >= 0 {
			base = objects[r.via]
		}
		data, size := unsafe.Add(base, r.off), r.size
		if r.slice {
			s := *(*[]byte)(data) // the header of a slice of any element type
			data, size = unsafe.Pointer(unsafe.SliceData(s)), uintptr(cap(s))*r.elem
		}
		if !r.whole && n >= 0 && uintptr(n) < size/r.elem {
			size = (uintptr(n) + 1) * r.elem
		}
		if size > 0 {
			f(unsafe.Slice((*byte)(data), size))
		}
	}
	return true
}

// deflate returns what to seal in place of plaintext, with its header flags.
// When it compresses, z holds the result and must be released once the
// result has been sealed; otherwise it returns plaintext, 0 and nil. It
// compresses only when CompressAbove allows it, the plaintext is within
// MaxDecompressed (so the value will open again), and the result is shorter.
func (s *Sealer) deflate(plaintext []byte) (out []byte, flags byte, z *deflater) {
	if s.CompressAbove <= 0 || len(plaintext) < s.CompressAbove || len(plaintext) > s.maxDecompressed() {
		return plaintext, 0, nil
	}
	z = deflaters.get()
	z.w.Reset(&z.out)
	z.used = len(plaintext)
	// Writes to a sliceWriter cannot fail, so neither can the flate writer.
	_, _ = z.w.Write(plaintext)
	_ = z.w.Close()
	if len(z.out.b) >= len(plaintext) {
		z.release()
		return plaintext, 0, nil
	}
	return z.out.b, flagDeflate, z
}

// An inflater is a pooled flate reader with the reader it reads from.
type inflater struct {
	src   bytes.Reader
	r     io.ReadCloser
	zeros zeroBlock
	one   [1]byte // scrub's read buffer (a local would escape)
}

// historySize is the size of a flate reader's history window.
const historySize = 32 << 10

// scrub clears the plaintext from z after it inflated n bytes. A flate
// reader keeps its last 32 KiB of output in its history window, written
// from its start, and Reset does not clear it; so scrub inflates a stored
// block of min(n, 32 KiB) zeros, which the reader copies straight into the
// window, all at once. (Reset clears the Huffman tables and input bits.)
func (z *inflater) scrub(n int) {
	z.src.Reset(nil)
	z.zeros.reset(min(n, historySize))
	_ = z.r.(flate.Resetter).Reset(&z.zeros, nil) // fails only on a dictionary
	_, _ = z.r.Read(z.one[:])
}

// A zeroBlock reads as a final stored DEFLATE block (RFC 1951, 3.2.4) of n
// zero bytes. It is a flate.Reader, so the flate reader reads it directly.
type zeroBlock struct {
	header [5]byte
	off    int // bytes read, header included
	n      int
}

func (z *zeroBlock) reset(n int) {
	// BFINAL = 1, BTYPE = 00 (stored), the rest of the byte unused; then
	// LEN and its complement, little-endian.
	z.header = [5]byte{0x01, byte(n), byte(n >> 8), ^byte(n), ^byte(n >> 8)}
	z.off, z.n = 0, n
}

func (z *zeroBlock) ReadByte() (byte, error) {
	if z.off >= len(z.header)+z.n {
		return 0, io.EOF
	}
	var b byte
	if z.off < len(z.header) {
		b = z.header[z.off]
	}
	z.off++
	return b, nil
}

func (z *zeroBlock) Read(p []byte) (int, error) {
	if z.off >= len(z.header)+z.n {
		return 0, io.EOF
	}
	k := 0
	if z.off < len(z.header) {
		k = copy(p, z.header[z.off:])
	}
	zeros := min(len(p)-k, len(z.header)+z.n-z.off-k)
	clear(p[k : k+zeros])
	z.off += k + zeros
	return k + zeros, nil
}

var inflaters = newReserve(func() *inflater {
	z := new(inflater)
	z.r = flate.NewReader(&z.src)
	return z
})

var errTrailingDeflate = errors.New("data after the final DEFLATE block")

// inflate appends the decompression of src to dst. A stream that does not
// decode, ends early or is followed by other data is ErrMalformed; one that
// decompresses to more than limit bytes is ErrTooLarge, detected after
// writing at most limit+1 bytes.
func inflate(dst, src []byte, limit int) ([]byte, error) {
	z := inflaters.get()
	start := len(dst)
	// The reader decodes ahead into its window: unless the stream was read
	// to its end, scrub all of the window.
	decoded := historySize
	defer func() {
		z.scrub(decoded)
		inflaters.put(z)
	}()
	z.src.Reset(src)
	if err := z.r.(flate.Resetter).Reset(&z.src, nil); err != nil {
		return dst, err // unreachable: Reset fails only on a dictionary
	}
	for {
		if len(dst) == cap(dst) {
			// Grow geometrically, but never past the bound: a bomb costs
			// at most limit+1 bytes of memory.
			n := len(dst) - start // <= limit, checked below
			dst = slices.Grow(dst, min(max(n, 2*len(src), 512), limit+1-n))
		}
		end := min(cap(dst), start+limit+1)
		n, err := z.r.Read(dst[len(dst):end])
		dst = dst[:len(dst)+n]
		if len(dst)-start > limit {
			clear(dst[start:])
			return dst[:start], fmt.Errorf("%w: decompressed plaintext exceeds %d bytes", ErrTooLarge, limit)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			clear(dst[start:])
			return dst[:start], fmt.Errorf("%w: compressed plaintext does not inflate: %v", ErrMalformed, err)
		}
	}
	decoded = len(dst) - start // read to the end: all of it
	if z.src.Len() != 0 {
		clear(dst[start:])
		return dst[:start], fmt.Errorf("%w: %v", ErrMalformed, errTrailingDeflate)
	}
	return dst, nil
}

// inflateOpened finishes opening a compressed value: pt is its authenticated
// plaintext, still compressed, in Open's scratch buffer (cleared here). The
// result is appended to dst, or returned in a new exactly-sized slice if
// exact. On failure it returns dst and an empty Info, like every failure
// before authentication.
func (s *Sealer) inflateOpened(dst, pt []byte, exact bool, info Info) ([]byte, Info, error) {
	defer clear(pt)
	if !exact {
		out, err := inflate(dst, pt, s.maxDecompressed())
		if err != nil {
			return dst, Info{}, err
		}
		return out, info, nil
	}
	p := getScratch(0)
	tmp, err := inflate((*p)[:0], pt, s.maxDecompressed())
	*p = tmp
	if err != nil {
		putScratch(p)
		return nil, Info{}, err
	}
	out := bytes.Clone(tmp)
	clear(tmp)
	putScratch(p)
	return out, info, nil
}
