// Package cbor provides a [sealed.Codec] that encodes sessions as CBOR
// (RFC 8949) with github.com/fxamacker/cbor/v2.
//
// It is a separate module so that applications which do not use it never
// build the dependency. CBOR is binary, keeps field names, is an IETF
// standard with libraries in every language, and its values are usually
// 10-25% smaller than JSON. See docs/CODECS.md in the sealed repository for
// measurements.
//
// Struct fields are named by their `cbor` tag, falling back to the `json`
// tag and then the Go field name, so a type already tagged for JSON gets the
// same short keys. A time.Time is encoded as an RFC 3339 string with
// nanoseconds, like encoding/json does, so it round-trips exactly; use
// [CodecWith] with [EncOptions] and Time set to cbor.TimeUnix for smaller
// whole-second times.
package cbor

import (
	"bytes"
	"sync"

	"github.com/fxamacker/cbor/v2"
	"github.com/sealedcookie/sealed"
)

// Decoding limits of [DecOptions]. A sealed session is small (a cookie
// carries under 3 KB, and [sealed.Sealer] bounds decompressed plaintexts
// to 64 KiB by default), so these bounds are far above any real session and
// far below what would let a payload allocate much more than its size.
const (
	MaxNestedLevels  = 16
	MaxArrayElements = 16384
	MaxMapPairs      = 16384
)

// DecOptions returns the decoding options [Codec] uses: the limits above,
// indefinite-length items forbidden (no encoder of sessions needs them),
// and everything else at the library's defaults. Start from it to adjust.
func DecOptions() cbor.DecOptions {
	return cbor.DecOptions{
		MaxNestedLevels:  MaxNestedLevels,
		MaxArrayElements: MaxArrayElements,
		MaxMapPairs:      MaxMapPairs,
		IndefLength:      cbor.IndefLengthForbidden,
	}
}

// EncOptions returns the encoding options [Codec] uses: times as RFC 3339
// strings with nanoseconds, everything else at the library's defaults
// (shortest integer and length encodings).
func EncOptions() cbor.EncOptions {
	return cbor.EncOptions{Time: cbor.TimeRFC3339Nano}
}

var defaultEnc, defaultDec = func() (cbor.EncMode, cbor.DecMode) {
	enc, err := EncOptions().EncMode()
	if err != nil {
		panic(err) // the options are constant and valid
	}
	dec, err := DecOptions().DecMode()
	if err != nil {
		panic(err)
	}
	return enc, dec
}()

// Codec returns a [sealed.Codec] for T that uses CBOR with [EncOptions] and
// [DecOptions]. Decode rejects trailing data after the value.
func Codec[T any]() sealed.Codec[T] { return codec[T]{enc: defaultEnc, dec: defaultDec} }

// CodecWith returns a [sealed.Codec] for T that uses the given modes. Build
// dec from [DecOptions] to keep the limits. Decode uses dec.Unmarshal,
// which rejects trailing data.
func CodecWith[T any](enc cbor.EncMode, dec cbor.DecMode) sealed.Codec[T] {
	if enc == nil || dec == nil {
		panic("sealed/codec/cbor: CodecWith with a nil mode")
	}
	return codec[T]{enc: enc, dec: dec}
}

type codec[T any] struct {
	enc cbor.EncMode
	dec cbor.DecMode
}

// buffers hold encodings between the encoder and dst.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Append appends the CBOR encoding of *v to dst.
func (c codec[T]) Append(dst []byte, v *T) ([]byte, error) {
	ub, ok := c.enc.(cbor.UserBufferEncMode)
	if !ok {
		b, err := c.enc.Marshal(v)
		if err != nil {
			return dst, err
		}
		return append(dst, b...), nil
	}
	buf := buffers.Get().(*bytes.Buffer)
	defer func() {
		clear(buf.Bytes()) // sessions hold secrets
		buf.Reset()
		if buf.Cap() <= 64<<10 {
			buffers.Put(buf)
		}
	}()
	if err := ub.MarshalToBuffer(v, buf); err != nil {
		return dst, err
	}
	return append(dst, buf.Bytes()...), nil
}

// Decode decodes data into *v, within the limits of the decoding mode, and
// rejects anything after the value.
func (c codec[T]) Decode(data []byte, v *T) error { return c.dec.Unmarshal(data, v) }
