package sealed

import (
	"github.com/sealedcookie/sealed/internal/ctxkey"
	"github.com/sealedcookie/sealed/internal/secret"
)

// The module's other packages reach what the API does not export through
// internal packages: a key's secret (jwks writes key files, jwe keys
// AES-GCM), and a Manager's context key (the Fiber adapter).
func init() {
	secret.Install(func(key any) []byte { return key.(Key).secretBytes() })
	ctxkey.Install(func(m any) any { return m.(interface{ contextKey() any }).contextKey() })
}

// secretBytes returns a copy of the key's 32-byte secret. Callers should
// clear the copy when done.
func (k Key) secretBytes() []byte {
	if k.k == nil {
		return nil
	}
	// An explicit allocation and copy: the secret sits behind a pointer,
	// so "s := k.k.secret; return s[:]" would alias the key's own array and
	// clearing the "copy" would wipe the key (TestSecretBytesIsACopy).
	out := make([]byte, KeySize)
	copy(out, k.k.secret[:])
	return out
}
