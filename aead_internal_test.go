package sealed

import (
	"bytes"
	"crypto/cipher"
	"testing"
	"time"
	"unsafe"
)

// guard is an AEAD that checks its arguments against cipher.AEAD's rules:
// dst may be used up to its capacity (the AEAD "may overwrite" it), so the
// additional data must not lie in that capacity, and on Open the capacity
// must either start at the ciphertext (in-place) or miss it.
type guard struct {
	cipher.AEAD
	t *testing.T
}

// span returns the address range of b up to its capacity.
func span(b []byte) (lo, hi uintptr) {
	if cap(b) == 0 {
		return 0, 0
	}
	lo = uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return lo, lo + uintptr(cap(b))
}

func overlap(a, b []byte) bool {
	alo, ahi := span(a)
	blo, bhi := span(b[:len(b):len(b)])
	return alo < bhi && blo < ahi
}

func (g guard) Seal(dst, nonce, plaintext, ad []byte) []byte {
	if overlap(dst[len(dst):], ad) {
		g.t.Error("Seal: the additional data lies in the destination's capacity")
	}
	return g.AEAD.Seal(dst, nonce, plaintext, ad)
}

func (g guard) Open(dst, nonce, ciphertext, ad []byte) ([]byte, error) {
	if overlap(dst[len(dst):], ad) {
		g.t.Error("Open: the additional data lies in the destination's capacity")
	}
	inPlace := len(dst) == 0 && cap(dst) > 0 && unsafe.SliceData(dst) == unsafe.SliceData(ciphertext)
	if !inPlace && overlap(dst[len(dst):], ciphertext) {
		g.t.Error("Open: the destination's capacity overlaps the ciphertext")
	}
	return g.AEAD.Open(dst, nonce, ciphertext, ad)
}

// The additional data never lies in the AEAD's destination, on either path,
// compressed or not, with or without a purpose.
func TestAEADDestinationExcludesAD(t *testing.T) {
	k, err := NewKey("k1", bytes.Repeat([]byte{1}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	k.k.aead = guard{k.k.aead, t}
	ring, _ := NewKeyRing(k)
	for _, purpose := range []string{"", "billing"} {
		for _, above := range []int{0, 64} {
			s := NewSealer(ring)
			s.Purpose, s.CompressAbove = purpose, above
			pt := bytes.Repeat([]byte("session data "), 40)
			v, err := s.Seal("session", pt, time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			for _, open := range []func() ([]byte, error){
				func() ([]byte, error) { b, _, err := s.Open("session", v); return b, err },
				func() ([]byte, error) { b, _, err := s.AppendOpen(make([]byte, 0, 4096), "session", v); return b, err },
			} {
				if got, err := open(); err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("purpose %q, compress %d: Open = %v", purpose, above, err)
				}
			}
		}
	}
}
