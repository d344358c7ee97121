//go:build !((amd64 && go1.17 && !go1.28) || (arm64 && go1.20 && !go1.28))

package bench

import "github.com/sealedcookie/sealed"

// SonicCodec returns nil: sonic's JIT does not run on this platform or Go
// version (see sonic.go).
func SonicCodec[T any]() sealed.Codec[T] { return nil }
