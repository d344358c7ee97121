package format

import (
	"encoding/binary"
	"strings"
)

// Version 1 (docs/FORMAT.md, "Layout"):
//
//	version(1) | flags(1) | kid(4) | expiry(8) | nonce(24) | ciphertext | tag(16)
//
// The first 14 bytes are the header. The whole is encoded once as unpadded
// base64url.
const (
	Version1   = 0x01
	HeaderLen  = 1 + 1 + 4 + 8        // version, flags, kid, expiry: authenticated, not encrypted
	NonceLen   = 24                   // XChaCha20-Poly1305's
	PrefixLen  = HeaderLen + NonceLen // where the ciphertext starts
	TagLen     = 16                   // Poly1305's
	Overhead   = PrefixLen + TagLen   // 54 bytes
	MinLen     = (Overhead*8 + 5) / 6 // the shortest value, in base64url characters
	MaxPurpose = 255                  // bytes ("Purpose")
)

// Version 2 (docs/FORMAT.md, "Version 2", the AES256GCM suite):
//
//	version(1) | flags(1) | kid(4) | expiry(8) | salt(16) | nonce(12) | ciphertext | tag(16)
//
// The header is version 1's, with version 0x02. The key that seals is
// HKDF-SHA256(secret, salt, V2Info), and the nonce, ciphertext and tag are
// what AES-256-GCM with a random nonce (cipher.NewGCMWithRandomNonce)
// appends.
const (
	Version2    = 0x02
	SaltLen     = 16
	GCMNonceLen = 12
	V2Prefix    = HeaderLen + SaltLen                    // where the AEAD's output starts
	V2Overhead  = V2Prefix + GCMNonceLen + TagLen        // 58 bytes
	V2Info      = "sealed v2 AES-256-GCM key derivation" // HKDF info
)

// Flags (docs/FORMAT.md, "Layout" and "Compression").
const (
	FlagDeflate = 0x01 // the plaintext is a raw DEFLATE stream
	KnownFlags  = FlagDeflate
)

// A Header is the first HeaderLen bytes of a value.
type Header struct {
	Version byte // Version1 or Version2; zero means Version1 in AppendHeader
	Flags   byte
	KID     uint32 // the first 4 bytes of SHA-256 of the sealing key's ID ("Keys")
	Expiry  int64  // Unix seconds
}

// AppendHeader appends the header h to dst.
func AppendHeader(dst []byte, h Header) []byte {
	v := h.Version
	if v == 0 {
		v = Version1
	}
	dst = append(dst, v, h.Flags)
	dst = binary.BigEndian.AppendUint32(dst, h.KID)
	return binary.BigEndian.AppendUint64(dst, uint64(h.Expiry))
}

// ParseHeader reads the header of raw, which holds at least HeaderLen
// bytes. It does not check the version or flags.
func ParseHeader(raw []byte) Header {
	return Header{
		Version: raw[0],
		Flags:   raw[1],
		KID:     binary.BigEndian.Uint32(raw[2:6]),
		Expiry:  int64(binary.BigEndian.Uint64(raw[6:14])),
	}
}

// ADLen is the length of the additional data for a cookie name and purpose.
func ADLen(name, purpose string) int {
	n := HeaderLen + len(name)
	if purpose != "" {
		n += 1 + len(purpose)
	}
	return n
}

// AppendAD appends the additional data (docs/FORMAT.md, "Layout" and
// "Purpose") to dst: the header, the cookie name and, with a purpose, 0x00
// and the purpose. With ADLen bytes of room in dst it does not allocate.
func AppendAD(dst, header []byte, name, purpose string) []byte {
	dst = append(dst, header...)
	dst = append(dst, name...)
	if purpose != "" {
		dst = append(dst, 0)
		dst = append(dst, purpose...)
	}
	return dst
}

// ValidName reports whether a cookie name can be sealed for: it must not
// contain the 0x00 that separates a purpose ("Purpose"), or an AD with a
// purpose could equal one for a longer name without.
func ValidName(name string) bool { return strings.IndexByte(name, 0) < 0 }
