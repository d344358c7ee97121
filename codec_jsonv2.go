//go:build go1.27 && goexperiment.jsonv2

package sealed

import (
	jsonv1 "encoding/json"
	jsonv2 "encoding/json/v2"
	"sync"
)

// hasJSONv2 reports whether JSONv2 uses encoding/json/v2 in this build.
const hasJSONv2 = true

func jsonV2Codec[T any]() Codec[T] { return jsonv2Codec[T]{} }

type jsonv2Codec[T any] struct{}

// jsonv2Options make encoding/json/v2 write what encoding/json writes
// where their defaults differ (see JSONv2), and leave the rest of v2's
// semantics as they are.
var jsonv2Options = jsonv2.JoinOptions(
	jsonv2.FormatNilSliceAsNull(true),
	jsonv2.FormatNilMapAsNull(true),
	jsonv1.FormatByteArrayAsArray(true),
	jsonv1.FormatBytesWithLegacySemantics(true),
	jsonv1.FormatDurationAsNano(true),
	jsonv1.OmitEmptyWithLegacySemantics(true),
	jsonv1.CallMethodsWithLegacySemantics(true),
)

// sliceWriters hold the io.Writer MarshalWrite appends through, so that
// Append allocates nothing when dst has room.
var sliceWriters = sync.Pool{New: func() any { return new(sliceWriter) }}

// Append writes the value straight into dst: no intermediate slice.
func (jsonv2Codec[T]) Append(dst []byte, v *T) ([]byte, error) {
	w := sliceWriters.Get().(*sliceWriter)
	w.b = dst
	err := jsonv2.MarshalWrite(w, v, jsonv2Options)
	out := w.b
	w.b = nil
	sliceWriters.Put(w)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// Decode uses jsonv2.Unmarshal, which rejects anything after the value.
func (jsonv2Codec[T]) Decode(data []byte, v *T) error {
	return jsonv2.Unmarshal(data, v, jsonv2Options)
}
