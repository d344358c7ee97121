//go:build !go1.27 || !goexperiment.jsonv2

package bench

import "github.com/sealedcookie/sealed"

// JSONv2Codec returns nil: this toolchain has no encoding/json/v2 (see
// jsonv2.go).
func JSONv2Codec[T any]() sealed.Codec[T] { return nil }
