// Package msgpack provides a [sealed.Codec] that encodes sessions as
// MessagePack with github.com/vmihailenco/msgpack/v5.
//
// It is a separate module so that applications which do not use it never
// build the dependency. MessagePack is binary and keeps field names, so its
// values are usually 10-25% smaller than JSON and it decodes faster; it is
// read by every language with a MessagePack library. See docs/CODECS.md in
// the sealed repository for measurements.
//
// Struct fields are named by their `msgpack` tag, falling back to the `json`
// tag and then the Go field name, so a type already tagged for JSON gets the
// same short keys. Integers use the shortest encoding. A time.Time keeps
// its instant to the nanosecond (MessagePack timestamp extension) but
// decodes in [time.Local]: compare times with Equal.
package msgpack

import (
	"bytes"
	"errors"
	"sync"

	"github.com/sealedcookie/sealed"
	"github.com/vmihailenco/msgpack/v5"
)

// ErrTrailingData reports bytes after the encoded value. The Typed layer
// reports the session as malformed.
var ErrTrailingData = errors.New("sealed/codec/msgpack: trailing data after value")

// Codec returns a [sealed.Codec] for T that uses MessagePack. Decode
// rejects trailing data. The decoder caps what a declared length may
// preallocate (1 MiB of bytes, a million elements) and only ever reads the
// authenticated plaintext, which [sealed.Sealer] bounds.
func Codec[T any]() sealed.Codec[T] { return codec[T]{} }

type codec[T any] struct{}

// A coder is a configured encoder and decoder with the buffers they use;
// coders are pooled, as msgpack's own Marshal and Unmarshal pool theirs.
type coder struct {
	enc *msgpack.Encoder
	dec *msgpack.Decoder
	w   appendWriter
	r   bytes.Reader
}

var coders = sync.Pool{New: func() any {
	c := new(coder)
	c.enc = msgpack.NewEncoder(&c.w)
	c.enc.SetCustomStructTag("json")
	c.enc.UseCompactInts(true)
	c.dec = msgpack.NewDecoder(&c.r)
	c.dec.SetCustomStructTag("json")
	return c
}}

// appendWriter is an io.Writer and io.ByteWriter that appends to a slice, so
// the encoder writes straight into the caller's buffer.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *appendWriter) WriteByte(c byte) error {
	w.b = append(w.b, c)
	return nil
}

func (w *appendWriter) WriteString(s string) (int, error) {
	w.b = append(w.b, s...)
	return len(s), nil
}

// Append appends the MessagePack encoding of *v to dst.
func (codec[T]) Append(dst []byte, v *T) ([]byte, error) {
	c := coders.Get().(*coder)
	c.w.b = dst
	err := c.enc.Encode(v)
	out := c.w.b
	c.w.b = nil
	coders.Put(c)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// Decode decodes data into *v and rejects anything after the value.
func (codec[T]) Decode(data []byte, v *T) error {
	c := coders.Get().(*coder)
	defer func() {
		c.r.Reset(nil) // don't keep the session reachable from the pool
		coders.Put(c)
	}()
	c.r.Reset(data)
	c.dec.ResetReader(&c.r) // keeps the options set above
	if err := c.dec.Decode(v); err != nil {
		return err
	}
	if c.r.Len() != 0 {
		return ErrTrailingData
	}
	return nil
}
