package format

import (
	"encoding/binary"
	"errors"
	"unicode/utf8"
)

// Payload, version 1 (docs/FORMAT-middleware.md, "Payload, version 1"):
//
//	version(1) | flags(1) | issued(8) | deadline(8) | refreshed(8) |
//	[ session id(16) | minted(8) | subject length (uvarint) | subject ] |
//	flash count (uvarint) | { length (uvarint) | message }* | value
//
// Times are Unix seconds, signed, big-endian, but minted, which is Unix
// milliseconds. The bracketed identity is present when flag bit 1 is set.
const (
	PayloadVersion     = 1
	PayloadHasValue    = 1 << 0 // flags: a session value follows the flashes
	PayloadHasIdentity = 1 << 1 // flags: a session id, its mint time and a subject follow refreshed
	PayloadPersistence = 1 << 2 // flags: the session chose whether its cookie persists (RememberMe)
	PayloadPersistent  = 1 << 3 // flags, with PayloadPersistence: it does (Max-Age); without: a browser-session cookie
	payloadFlags       = PayloadHasValue | PayloadHasIdentity | PayloadPersistence | PayloadPersistent
	PayloadHeaderLen   = 1 + 1 + 8 + 8 + 8
	MinPayloadLen      = PayloadHeaderLen + 1 // with a zero flash count
	SessionIDLen       = 16
	MaxSubjectLen      = 255
)

// A Payload is a decoded middleware payload.
type Payload struct {
	HasValue  bool
	Issued    int64 // created, or last renewed
	Deadline  int64 // absolute end
	Refreshed int64 // when it was sealed: the start of the idle window

	// The identity, present when HasIdentity: a random session ID minted
	// when the session started or was renewed, that time in Unix
	// milliseconds, and the application's subject (the user).
	HasIdentity bool
	ID          [SessionIDLen]byte
	Minted      int64
	Subject     string

	// Persistence, when set, is the session's own choice of cookie
	// lifetime: Persistent (Max-Age) or a browser-session cookie.
	Persistence bool
	Persistent  bool

	Flashes []string
	Value   []byte // the codec's bytes; aliases the parsed buffer
}

// AppendPayload appends p's header, identity and flashes to dst. The
// caller keeps p.Subject within MaxSubjectLen. The codec then
// appends the value, if p.HasValue.
func AppendPayload(dst []byte, p *Payload) []byte {
	var flags byte
	if p.HasValue {
		flags |= PayloadHasValue
	}
	if p.HasIdentity {
		flags |= PayloadHasIdentity
	}
	if p.Persistence {
		flags |= PayloadPersistence
		if p.Persistent {
			flags |= PayloadPersistent
		}
	}
	dst = append(dst, PayloadVersion, flags)
	dst = binary.BigEndian.AppendUint64(dst, uint64(p.Issued))
	dst = binary.BigEndian.AppendUint64(dst, uint64(p.Deadline))
	dst = binary.BigEndian.AppendUint64(dst, uint64(p.Refreshed))
	if p.HasIdentity {
		dst = append(dst, p.ID[:]...)
		dst = binary.BigEndian.AppendUint64(dst, uint64(p.Minted))
		dst = binary.AppendUvarint(dst, uint64(len(p.Subject)))
		dst = append(dst, p.Subject...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(p.Flashes)))
	for _, f := range p.Flashes {
		dst = binary.AppendUvarint(dst, uint64(len(f)))
		dst = append(dst, f...)
	}
	return dst
}

// Errors of ParsePayload, each a reason an opened value is not a payload.
var (
	ErrPayloadVersion = errors.New("not a version 1 session payload")
	ErrFlashCount     = errors.New("bad flash count")
	ErrFlash          = errors.New("bad flash message")
	ErrTrailing       = errors.New("trailing data after flashes")
	ErrIdentity       = errors.New("bad session identity")
)

// ParsePayload decodes a payload. Flash messages are copied; Value aliases
// b.
func ParsePayload(b []byte) (Payload, error) {
	if len(b) < MinPayloadLen || b[0] != PayloadVersion || b[1]&^payloadFlags != 0 ||
		b[1]&(PayloadPersistence|PayloadPersistent) == PayloadPersistent {
		return Payload{}, ErrPayloadVersion
	}
	p := Payload{
		HasValue:    b[1]&PayloadHasValue != 0,
		HasIdentity: b[1]&PayloadHasIdentity != 0,
		Persistence: b[1]&PayloadPersistence != 0,
		Persistent:  b[1]&PayloadPersistent != 0,
		Issued:      int64(binary.BigEndian.Uint64(b[2:])),
		Deadline:    int64(binary.BigEndian.Uint64(b[10:])),
		Refreshed:   int64(binary.BigEndian.Uint64(b[18:])),
	}
	rest := b[PayloadHeaderLen:]
	if p.HasIdentity {
		if len(rest) < SessionIDLen+8 {
			return Payload{}, ErrIdentity
		}
		copy(p.ID[:], rest)
		p.Minted = int64(binary.BigEndian.Uint64(rest[SessionIDLen:]))
		rest = rest[SessionIDLen+8:]
		n, k := uvarint(rest)
		if k <= 0 || n > MaxSubjectLen || n > uint64(len(rest)-k) || !utf8.Valid(rest[k:k+int(n)]) {
			return Payload{}, ErrIdentity
		}
		p.Subject = string(rest[k : k+int(n)])
		rest = rest[k+int(n):]
	}
	count, k := uvarint(rest)
	if k <= 0 || count > uint64(len(rest)) {
		return Payload{}, ErrFlashCount
	}
	rest = rest[k:]
	for range count {
		l, k := uvarint(rest)
		if k <= 0 || l > uint64(len(rest)-k) || !utf8.Valid(rest[k:k+int(l)]) {
			return Payload{}, ErrFlash
		}
		p.Flashes = append(p.Flashes, string(rest[k:k+int(l)]))
		rest = rest[k+int(l):]
	}
	if !p.HasValue && len(rest) != 0 {
		return Payload{}, ErrTrailing
	}
	if p.HasValue {
		p.Value = rest
	}
	return p, nil
}

// uvarint is binary.Uvarint for minimal encodings only: a value has one
// encoding, so a longer one (a last byte of zero, as in 0x80 0x00 for 0)
// is refused like a truncated one (k <= 0).
func uvarint(b []byte) (v uint64, k int) {
	v, k = binary.Uvarint(b)
	if k > 1 && b[k-1] == 0 {
		return 0, -k
	}
	return v, k
}
