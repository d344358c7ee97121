package sealed

// secretBytes returns a copy of the key's 32-byte secret, for the encoders
// that must write it out (MarshalJWKS). Callers should clear the copy when
// done. It never leaves the package: the secret has no exported getter.
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
