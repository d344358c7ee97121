package sealed

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
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
// allocates 1.2 MB, so writers are only ever Reset, never rebuilt.
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
// BestSpeed it holds the plaintext several times over: its input window (the
// last block, up to 64 KiB), the BestSpeed encoder's copy of that block
// (prev) and its match table (16384 entries, each 4 bytes of the plaintext
// and their position), the block's tokens (literal bytes) and the bit
// writer's output buffer. Pushing other data through the writer overwrites
// the first ones but not the table: its entries are overwritten only where
// the new data happens to hash to them, so pieces of the plaintext would
// stay in every pooled writer. compress/flate offers no way to clear it, so
// scrubFlateWriter clears these buffers in place, at offsets found once by
// reflection. Clearing them is safe: the writer fills each before reading
// it again after a Reset, and an all-zero table entry is out of match range
// (like the stale entries Reset leaves). The rest of the writer (symbol
// frequencies and Huffman codes of the last block) holds statistics, not
// the plaintext.
//
// If a release of Go changes these fields, the layout is not found and
// writers are no longer pooled: each compression then allocates a new
// writer (1.2 MB). TestFlateWriterLayout fails on such a release.
type flateWriterLayout struct {
	window, tokens uintptr // compressor.window ([]byte), compressor.tokens ([]token, uint32)
	fast           uintptr // compressor.bestSpeed (*deflateFast)
	table, tableN  uintptr // deflateFast.table: offset, size in bytes
	prev           uintptr // deflateFast.prev ([]byte)
	bits           uintptr // compressor.w (*huffmanBitWriter)
	buf, bufN      uintptr // huffmanBitWriter.bytes: offset, size in bytes
}

var writerLayout, writerLayoutOK = findFlateWriterLayout()

// findFlateWriterLayout locates the buffers of a flate.Writer that
// scrubFlateWriter clears, checking each field's name and type.
func findFlateWriterLayout() (l flateWriterLayout, ok bool) {
	field := func(t reflect.Type, name string, kind reflect.Kind) (reflect.StructField, bool) {
		if t.Kind() != reflect.Struct {
			return reflect.StructField{}, false
		}
		f, ok := t.FieldByName(name)
		return f, ok && len(f.Index) == 1 && f.Type.Kind() == kind
	}
	// pointerFree: clearing memory of this type cannot hide a pointer from
	// the garbage collector.
	var pointerFree func(t reflect.Type) bool
	pointerFree = func(t reflect.Type) bool {
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
	d, ok1 := field(reflect.TypeFor[flate.Writer](), "d", reflect.Struct)
	window, ok2 := field(d.Type, "window", reflect.Slice)
	tokens, ok3 := field(d.Type, "tokens", reflect.Slice)
	fast, ok4 := field(d.Type, "bestSpeed", reflect.Pointer)
	bits, ok5 := field(d.Type, "w", reflect.Pointer)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) ||
		window.Type.Elem().Kind() != reflect.Uint8 || tokens.Type.Elem().Kind() != reflect.Uint32 {
		return l, false
	}
	table, ok1 := field(fast.Type.Elem(), "table", reflect.Array)
	prev, ok2 := field(fast.Type.Elem(), "prev", reflect.Slice)
	buf, ok3 := field(bits.Type.Elem(), "bytes", reflect.Array)
	if !(ok1 && ok2 && ok3) || !pointerFree(table.Type) ||
		prev.Type.Elem().Kind() != reflect.Uint8 || buf.Type.Elem().Kind() != reflect.Uint8 {
		return l, false
	}
	return flateWriterLayout{
		window: d.Offset + window.Offset, tokens: d.Offset + tokens.Offset,
		fast:  d.Offset + fast.Offset,
		table: table.Offset, tableN: table.Type.Size(),
		prev: prev.Offset,
		bits: d.Offset + bits.Offset,
		buf:  buf.Offset, bufN: buf.Type.Size(),
	}, true
}

// scrubFlateWriter clears the memory of w, a BestSpeed writer that was
// given n bytes since it was last scrubbed and then closed, that can hold
// them. It reports false, clearing nothing, if the layout of flate.Writer is
// not the one it knows: w must then not be reused for another session.
func scrubFlateWriter(w *flate.Writer, n int) bool {
	if !writerLayoutOK {
		return false
	}
	l := &writerLayout
	p := unsafe.Pointer(w)
	// The window, prev and the tokens hold at most one block (65535
	// bytes), written from their start, so the first n+1 entries cover them.
	clearPrefix(*(*[]byte)(unsafe.Add(p, l.window)), n+1)
	clearPrefix(*(*[]uint32)(unsafe.Add(p, l.tokens)), n+1)
	if fast := *(*unsafe.Pointer)(unsafe.Add(p, l.fast)); fast != nil {
		clear(unsafe.Slice((*byte)(unsafe.Add(fast, l.table)), l.tableN))
		clearPrefix(*(*[]byte)(unsafe.Add(fast, l.prev)), n+1)
	}
	if bits := *(*unsafe.Pointer)(unsafe.Add(p, l.bits)); bits != nil {
		clear(unsafe.Slice((*byte)(unsafe.Add(bits, l.buf)), l.bufN))
	}
	return true
}

// clearPrefix clears the first n elements of s's backing array, or all of
// it, whatever s's length.
func clearPrefix[E any](s []E, n int) {
	clear(s[:min(n, cap(s))])
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
