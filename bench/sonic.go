//go:build (amd64 && go1.17 && !go1.28) || (arm64 && go1.20 && !go1.28)

package bench

// The build constraint is sonic's own for its JIT (sonic.go in
// github.com/bytedance/sonic v1.15): elsewhere sonic silently falls back to
// encoding/json, which would be measured under sonic's name, so this
// module leaves it out there (sonic_other.go).

import (
	"github.com/bytedance/sonic"
	"github.com/sealedcookie/sealed"
)

// SonicCodec returns a codec that uses github.com/bytedance/sonic's default
// configuration (sonic.ConfigDefault: no HTML escaping, map keys unsorted,
// UTF-8 not validated), or nil where sonic's JIT does not run.
func SonicCodec[T any]() sealed.Codec[T] { return sonicCodec[T]{} }

type sonicCodec[T any] struct{}

// Append copies what sonic's Marshal returns.
func (sonicCodec[T]) Append(dst []byte, v *T) ([]byte, error) {
	b, err := sonic.ConfigDefault.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

func (sonicCodec[T]) Decode(data []byte, v *T) error { return sonic.ConfigDefault.Unmarshal(data, v) }
