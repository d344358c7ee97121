package sealed

import (
	"bytes"
	"encoding"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// A Codec serializes session values of type T. Implementations must be safe
// for concurrent use, and Decode must reject trailing data after the encoded
// value. Decode is given a pointer to a zero T.
type Codec[T any] interface {
	// Append appends the encoding of *v to dst and returns the result.
	Append(dst []byte, v *T) ([]byte, error)
	// Decode decodes data into *v.
	Decode(data []byte, v *T) error
}

// JSON returns a Codec that uses encoding/json. It is the default choice: its
// encoding is compact for typical sessions, readable by other languages, and
// tolerant of added or removed fields across deployments.
//
// From Go 1.27 on, where encoding/json runs on encoding/json/v2 (the jsonv2
// experiment is on by default), JSON decodes through encoding/json/v2
// directly with encoding/json's options, which is faster
// (it skips json.Unmarshal's separate validation pass) and gives exactly
// what json.Unmarshal gives: a value that does not decode that way is
// decoded again by json.Unmarshal, for its result and its error. Sessions
// keep encoding/json's format and behaviour on every Go version, so
// instances on Go 1.26 and on Go 1.27 read each other's cookies.
func JSON[T any]() Codec[T] { return jsonCodec[T]{} }

type jsonCodec[T any] struct{}

// Append writes what json.Marshal would return straight into dst, through
// a pooled json.Encoder: no intermediate slice and no copy.
func (jsonCodec[T]) Append(dst []byte, v *T) ([]byte, error) {
	e := jsonEncoders.Get().(*jsonEncoder)
	e.w.b = dst
	err := e.enc.Encode(v)
	out := e.w.b
	e.w.b = nil
	jsonEncoders.Put(e)
	if err != nil {
		return dst, err
	}
	return out[:len(out)-1], nil // Encode ends the value with a newline
}

type jsonEncoder struct {
	enc *json.Encoder
	w   sliceWriter // compress.go
}

var jsonEncoders = sync.Pool{New: func() any {
	e := new(jsonEncoder)
	e.enc = json.NewEncoder(&e.w)
	return e
}}

// Decode decodes as json.Unmarshal does, which rejects anything after the
// value; where encoding/json/v2 exists, faster (codec_jsonv2.go).
func (jsonCodec[T]) Decode(data []byte, v *T) error { return jsonDecode(data, v) }

// Gob returns a Codec that uses encoding/gob.
//
// Each value carries its own gob type descriptors. Gob numbers types in the
// order a process first meets them, so a value stripped of its descriptors
// could only be decoded by a process that happened to number types the same
// way; a cookie must be readable by every instance and every future build.
// The descriptors make gob values larger and slower than JSON for typical
// sessions: prefer JSON unless T needs gob (interface fields, unexported
// encodings via GobEncoder).
func Gob[T any]() Codec[T] { return gobCodec[T]{} }

type gobCodec[T any] struct{}

func (gobCodec[T]) Append(dst []byte, v *T) ([]byte, error) {
	w := bytes.NewBuffer(dst)
	if err := gob.NewEncoder(w).Encode(v); err != nil {
		return dst, err
	}
	return w.Bytes(), nil
}

func (gobCodec[T]) Decode(data []byte, v *T) error {
	r := bytes.NewReader(data)
	if err := gob.NewDecoder(r).Decode(v); err != nil {
		return err
	}
	if r.Len() != 0 {
		return errors.New("sealed: gob: trailing data after value")
	}
	return nil
}

// A Typed seals and opens values of type T: it encodes them with a Codec and
// seals the bytes with an [Envelope], a [*Sealer] or a JWE sealer. With a
// *Sealer it reuses buffers, so a round trip allocates little beyond what
// the codec itself needs. It is safe for concurrent use.
type Typed[T any] struct {
	env   Envelope
	codec Codec[T]
}

// NewTyped returns a Typed that encodes with codec and seals with e.
func NewTyped[T any](e Envelope, codec Codec[T]) *Typed[T] {
	if e == nil || codec == nil {
		panic("sealed: NewTyped with nil Envelope or Codec")
	}
	return &Typed[T]{env: e, codec: codec}
}

// encodeBuf holds encoded plaintexts between the codec and the sealer.
var encodeBuf = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Seal encodes *v and seals it for the cookie called name until expires.
func (t *Typed[T]) Seal(name string, v *T, expires time.Time) (string, error) {
	p := encodeBuf.Get().(*[]byte)
	defer putEncodeBuf(p)
	b, err := t.codec.Append((*p)[:0], v)
	*p = b
	if err != nil {
		return "", fmt.Errorf("sealed: value does not encode (%s)", codecFailure(err))
	}
	return t.env.Seal(name, b, expires)
}

// Open opens a value sealed for the cookie called name and decodes it. A
// value that opens but does not decode is reported as ErrMalformed (it was
// sealed by an application with another T or codec).
func (t *Typed[T]) Open(name, value string) (T, Info, error) {
	var v T
	p := encodeBuf.Get().(*[]byte)
	defer putEncodeBuf(p) // clears the plaintext
	var info Info
	var err error
	if s, ok := t.env.(*Sealer); ok {
		*p, info, err = s.AppendOpen((*p)[:0], name, value)
	} else {
		var b []byte
		b, info, err = t.env.Open(name, value)
		*p = append((*p)[:0], b...)
		clear(b)
	}
	if err != nil {
		return v, info, err
	}
	if err := t.codec.Decode(*p, &v); err != nil {
		var zero T
		return zero, Info{}, fmt.Errorf("%w: sealed payload does not decode (%s)", ErrMalformed, codecFailure(err))
	}
	return v, info, nil
}

func putEncodeBuf(p *[]byte) {
	clear(*p) // sessions hold secrets (CSRF tokens, user data): don't leave them in a pooled buffer
	if cap(*p) > 64<<10 {
		return
	}
	*p = (*p)[:0]
	encodeBuf.Put(p)
}

// Binary returns a Codec for a type whose pointer implements
// [encoding.BinaryAppender] and [encoding.BinaryUnmarshaler]: the codec calls
// those two methods and nothing else, with no reflection. The pointer type is
// inferred, so for a type whose methods have pointer receivers write
//
//	codec := sealed.Binary[MySession]()
//
// The type owns its encoding, and with it the duties every Codec has:
//
//   - UnmarshalBinary must reject trailing data after the encoded value, and
//     truncated input, with an error (the opened session is then reported
//     as ErrMalformed). It is given a pointer to a zero T.
//   - UnmarshalBinary must copy what it keeps: the data it is given lives in
//     a pooled buffer that is cleared and reused once it returns (the
//     [encoding.BinaryUnmarshaler] contract). Converting to string copies.
//   - AppendBinary must only append to the slice it is given.
//   - Both must be safe for concurrent use on distinct values.
//
// Put a version byte first, so a later release can change the layout and
// still decode sessions sealed by the previous one, and bound every length
// or count read from the data by the bytes that remain. The package example
// for Binary shows such a type.
//
// Reflection-based encoders (encoding/gob, msgpack, CBOR) also use
// UnmarshalBinary, and MarshalBinary, when a type has them: a type that has
// UnmarshalBinary but not MarshalBinary cannot be gob-encoded. If T is also
// used with those, add MarshalBinary (AppendBinary(nil)).
func Binary[T any, P interface {
	*T
	encoding.BinaryAppender
	encoding.BinaryUnmarshaler
}]() Codec[T] {
	return binaryCodec[T, P]{}
}

type binaryCodec[T any, P interface {
	*T
	encoding.BinaryAppender
	encoding.BinaryUnmarshaler
}] struct{}

func (binaryCodec[T, P]) Append(dst []byte, v *T) ([]byte, error) { return P(v).AppendBinary(dst) }

func (binaryCodec[T, P]) Decode(data []byte, v *T) error { return P(v).UnmarshalBinary(data) }
