package sealed

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
)

// Compression (docs/FORMAT.md, "Compression"): when a Sealer's CompressAbove
// allows it, the plaintext is compressed with raw DEFLATE (RFC 1951) before
// sealing and flags bit 0x01 is set in the authenticated header. Open
// inflates such values after authenticating them, bounded by
// MaxDecompressed.

// flagDeflate is the header flag of a value whose plaintext was compressed
// with raw DEFLATE before sealing.
const flagDeflate = 0x01

// knownFlags are the flags Open accepts.
const knownFlags = flagDeflate

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
	w   *flate.Writer
	out sliceWriter
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

// release clears the compressed session (it holds secrets) and pools z.
func (z *deflater) release() {
	clear(z.out.b)
	if cap(z.out.b) > 64<<10 {
		return // don't pin a buffer grown by an unusually large session
	}
	z.out.b = z.out.b[:0]
	deflaters.put(z)
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
	src bytes.Reader
	r   io.ReadCloser
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
	defer inflaters.put(z)
	z.src.Reset(src)
	if err := z.r.(flate.Resetter).Reset(&z.src, nil); err != nil {
		return dst, err // unreachable: Reset fails only on a dictionary
	}
	start := len(dst)
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
