//go:build go1.27 && goexperiment.jsonv2

package bench

import (
	jsonv2 "encoding/json/v2"

	"github.com/sealedcookie/sealed"
)

// JSONv2Codec returns a codec that uses encoding/json/v2 with its own
// semantics (case-sensitive names, duplicate names and invalid UTF-8
// rejected, no HTML escaping, unsorted maps), but for nil slices and maps,
// written as null so that they read back nil; or nil where the toolchain
// has no encoding/json/v2 (Go 1.26 without GOEXPERIMENT=jsonv2).
func JSONv2Codec[T any]() sealed.Codec[T] { return jsonv2Codec[T]{} }

type jsonv2Codec[T any] struct{}

var jsonv2Options = jsonv2.JoinOptions(jsonv2.FormatNilSliceAsNull(true), jsonv2.FormatNilMapAsNull(true))

func (jsonv2Codec[T]) Append(dst []byte, v *T) ([]byte, error) {
	w := appendWriter{dst}
	if err := jsonv2.MarshalWrite(&w, v, jsonv2Options); err != nil {
		return dst, err
	}
	return w.b, nil
}

// Decode uses jsonv2.Unmarshal, which rejects trailing data.
func (jsonv2Codec[T]) Decode(data []byte, v *T) error {
	return jsonv2.Unmarshal(data, v, jsonv2Options)
}

// appendWriter is an io.Writer that appends to a slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
