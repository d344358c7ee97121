// Package bench compares sealed's codecs with each other and with the other
// ways Go programs keep sessions in cookies. It is a separate module so the
// peers it measures (gorilla/securecookie, gorilla/sessions, go-jose) never
// reach sealed's own go.mod. docs/CODECS.md and docs/PERFORMANCE.md present
// the results and the commands that produce them.
package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Small is the small session of docs/PERFORMANCE.md, the same shape as the
// root package's benchSession: about 200 bytes of JSON.
type Small struct {
	UserID    int64     `json:"uid"`
	Email     string    `json:"email"`
	Roles     []string  `json:"roles"`
	CSRF      string    `json:"csrf"`
	IssuedAt  time.Time `json:"iat"`
	ExpiresAt time.Time `json:"exp"`
}

// Item is one line of a shopping cart.
type Item struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	Qty        int    `json:"qty"`
	PriceCents int64  `json:"price"`
}

// Large is Small plus a 30-item cart: about 2 KB of JSON.
type Large struct {
	Small
	Cart []Item `json:"cart"`
}

// NewSmall returns the small session used by every benchmark.
func NewSmall() Small {
	return Small{
		UserID: 1234567, Email: "ada.lovelace@example.com", Roles: []string{"admin", "billing", "support"},
		CSRF:     "n2S0v6x8Qy1mR4tW7zC9bD3fG5hJ8kL0pQ2sU4wY6aE",
		IssuedAt: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC),
	}
}

// NewLarge returns the large session used by every benchmark.
func NewLarge() Large {
	l := Large{Small: NewSmall()}
	for i := range 30 {
		l.Cart = append(l.Cart, Item{
			SKU: fmt.Sprintf("SKU-%06d", 100000+37*i), Name: fmt.Sprintf("Product number %d", i),
			Qty: i%4 + 1, PriceCents: int64(999 + 100*i),
		})
	}
	return l
}

// The binary encodings below are what an application writes for
// sealed.Binary: a version byte, varints, length-prefixed strings, every
// length bounded by the remaining input, and trailing data rejected.
//
// They are defined on SmallBin and LargeBin, not on Small and Large:
// encoding/gob, msgpack and others use UnmarshalBinary when a type has it
// (and MarshalBinary, which these types lack, to encode), so the other
// contenders would otherwise measure, or trip over, this encoding.

// SmallBin is Small with a hand-written binary encoding.
type SmallBin Small

// LargeBin is Large with a hand-written binary encoding.
type LargeBin Large

const binaryV1 = 1

// AppendBinary implements encoding.BinaryAppender.
func (s *SmallBin) AppendBinary(b []byte) ([]byte, error) {
	return s.appendFields(append(b, binaryV1)), nil
}

func (s *SmallBin) appendFields(b []byte) []byte {
	b = binary.AppendVarint(b, s.UserID)
	b = appendStr(b, s.Email)
	b = binary.AppendUvarint(b, uint64(len(s.Roles)))
	for _, r := range s.Roles {
		b = appendStr(b, r)
	}
	b = appendStr(b, s.CSRF)
	b = appendTime(b, s.IssuedAt)
	return appendTime(b, s.ExpiresAt)
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (s *SmallBin) UnmarshalBinary(data []byte) error {
	d := newDecoder(data)
	if d.byte() != binaryV1 && d.err == nil {
		return errors.New("bench: unknown session version")
	}
	s.decodeFields(&d)
	return d.finish()
}

func (s *SmallBin) decodeFields(d *decoder) {
	s.UserID = d.varint()
	s.Email = d.str()
	if n := d.count(); n > 0 {
		s.Roles = make([]string, n)
		for i := range s.Roles {
			s.Roles[i] = d.str()
		}
	}
	s.CSRF = d.str()
	s.IssuedAt = d.time()
	s.ExpiresAt = d.time()
}

// AppendBinary implements encoding.BinaryAppender.
func (l *LargeBin) AppendBinary(b []byte) ([]byte, error) {
	b = (*SmallBin)(&l.Small).appendFields(append(b, binaryV1))
	b = binary.AppendUvarint(b, uint64(len(l.Cart)))
	for _, it := range l.Cart {
		b = appendStr(b, it.SKU)
		b = appendStr(b, it.Name)
		b = binary.AppendVarint(b, int64(it.Qty))
		b = binary.AppendVarint(b, it.PriceCents)
	}
	return b, nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (l *LargeBin) UnmarshalBinary(data []byte) error {
	d := newDecoder(data)
	if d.byte() != binaryV1 && d.err == nil {
		return errors.New("bench: unknown session version")
	}
	(*SmallBin)(&l.Small).decodeFields(&d)
	if n := d.count(); n > 0 {
		l.Cart = make([]Item, n)
		for i := range l.Cart {
			it := &l.Cart[i]
			it.SKU, it.Name = d.str(), d.str()
			it.Qty, it.PriceCents = int(d.varint()), d.varint()
		}
	}
	return d.finish()
}

func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendTime writes the instant (seconds and nanoseconds); the zone is not
// kept, as with every binary codec here.
func appendTime(b []byte, t time.Time) []byte {
	return binary.AppendUvarint(binary.AppendVarint(b, t.Unix()), uint64(t.Nanosecond()))
}

var errCorrupt = errors.New("bench: truncated or corrupt session")

// decoder reads from b. Strings are sliced from s, one copy of all of b
// made up front: one allocation for every string in the session instead of
// one each (the substrings keep that copy alive, which for a session that
// is used whole costs nothing).
type decoder struct {
	b   []byte
	s   string // string(b) as given: b is always its suffix
	err error
}

func newDecoder(data []byte) decoder { return decoder{b: data, s: string(data)} }

func (d *decoder) fail() { d.err, d.b = errCorrupt, nil }

func (d *decoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		return errors.New("bench: trailing data after session")
	}
	return d.err
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads an element count: each element takes at least one byte.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	start := len(d.s) - len(d.b)
	d.b = d.b[n:]
	return d.s[start : start+int(n)]
}

func (d *decoder) time() time.Time {
	sec, nsec := d.varint(), d.uvarint()
	if nsec >= 1e9 {
		d.fail()
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}
