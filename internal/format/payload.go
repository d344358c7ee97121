package format

import (
	"encoding/binary"
	"errors"
)

// Payload, version 1 (docs/FORMAT-middleware.md, "Payload, version 1"):
//
//	version(1) | flags(1) | issued(8) | deadline(8) | refreshed(8) |
//	flash count (uvarint) | { length (uvarint) | message }* | value
//
// Times are Unix seconds, signed, big-endian.
const (
	PayloadVersion   = 1
	PayloadHasValue  = 1 << 0 // flags: a session value follows the flashes
	PayloadHeaderLen = 1 + 1 + 8 + 8 + 8
	MinPayloadLen    = PayloadHeaderLen + 1 // with a zero flash count
)

// A Payload is a decoded middleware payload.
type Payload struct {
	HasValue  bool
	Issued    int64 // created, or last renewed
	Deadline  int64 // absolute end
	Refreshed int64 // when it was sealed: the start of the idle window
	Flashes   []string
	Value     []byte // the codec's bytes; aliases the parsed buffer
}

// AppendPayload appends p's header and flashes to dst. The codec then
// appends the value, if p.HasValue.
func AppendPayload(dst []byte, p *Payload) []byte {
	var flags byte
	if p.HasValue {
		flags = PayloadHasValue
	}
	dst = append(dst, PayloadVersion, flags)
	dst = binary.BigEndian.AppendUint64(dst, uint64(p.Issued))
	dst = binary.BigEndian.AppendUint64(dst, uint64(p.Deadline))
	dst = binary.BigEndian.AppendUint64(dst, uint64(p.Refreshed))
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
)

// ParsePayload decodes a payload. Flash messages are copied; Value aliases
// b.
func ParsePayload(b []byte) (Payload, error) {
	if len(b) < MinPayloadLen || b[0] != PayloadVersion || b[1]&^PayloadHasValue != 0 {
		return Payload{}, ErrPayloadVersion
	}
	p := Payload{
		HasValue:  b[1]&PayloadHasValue != 0,
		Issued:    int64(binary.BigEndian.Uint64(b[2:])),
		Deadline:  int64(binary.BigEndian.Uint64(b[10:])),
		Refreshed: int64(binary.BigEndian.Uint64(b[18:])),
	}
	rest := b[PayloadHeaderLen:]
	count, k := binary.Uvarint(rest)
	if k <= 0 || count > uint64(len(rest)) {
		return Payload{}, ErrFlashCount
	}
	rest = rest[k:]
	for range count {
		l, k := binary.Uvarint(rest)
		if k <= 0 || l > uint64(len(rest)-k) {
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
