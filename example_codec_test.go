package sealed_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/sealedcookie/sealed"
)

// appSession has a hand-written binary encoding for sealed.Binary. Layout,
// version 1 (uvarint and varint as in encoding/binary):
//
//	0x01 | uvarint UserID | str Email | uvarint len(Roles) | str Role... |
//	varint IssuedAt (Unix seconds) | varint ExpiresAt (Unix seconds)
//
// where str is a uvarint length followed by that many bytes.
type appSession struct {
	UserID    uint64
	Email     string
	Roles     []string
	IssuedAt  time.Time // whole seconds survive the round trip
	ExpiresAt time.Time
}

const appSessionV1 = 1

// AppendBinary implements encoding.BinaryAppender: it only appends to b.
func (s *appSession) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, appSessionV1)
	b = binary.AppendUvarint(b, s.UserID)
	b = appendStr(b, s.Email)
	b = binary.AppendUvarint(b, uint64(len(s.Roles)))
	for _, r := range s.Roles {
		b = appendStr(b, r)
	}
	b = binary.AppendVarint(b, s.IssuedAt.Unix())
	b = binary.AppendVarint(b, s.ExpiresAt.Unix())
	return b, nil
}

func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler. It copies what it
// keeps (string conversions copy), bounds every length and count by the
// bytes that remain, and rejects unknown versions, truncation and trailing
// data.
func (s *appSession) UnmarshalBinary(data []byte) error {
	d := appDecoder{b: data}
	if v := d.byte(); d.err == nil && v != appSessionV1 {
		return fmt.Errorf("appSession: unknown version %d", v)
	}
	s.UserID = d.uvarint()
	s.Email = d.str()
	n := d.uvarint()
	if n > uint64(len(d.b)) { // each role takes at least one byte
		d.fail()
	}
	if d.err == nil && n > 0 {
		s.Roles = make([]string, n)
		for i := range s.Roles {
			s.Roles[i] = d.str()
		}
	}
	s.IssuedAt = time.Unix(d.varint(), 0).UTC()
	s.ExpiresAt = time.Unix(d.varint(), 0).UTC()
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("appSession: trailing data (%d bytes)", len(d.b))
	}
	return nil
}

var errTruncated = errors.New("appSession: truncated or corrupt")

// appDecoder reads from b; after the first failure every read returns zero
// and err stays set.
type appDecoder struct {
	b   []byte
	err error
}

func (d *appDecoder) fail() { d.err, d.b = errTruncated, nil }

func (d *appDecoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *appDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *appDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *appDecoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n]) // copies: data is not ours to keep
	d.b = d.b[n:]
	return s
}

// A type that encodes itself, with a version byte, is the fastest and most
// compact codec: no reflection and no field names in the cookie.
func ExampleBinary() {
	ring, err := sealed.NewKeyRing(exampleKey("2026-11", 0))
	if err != nil {
		log.Fatal(err)
	}
	sessions := sealed.NewTyped(sealed.NewSealer(ring), sealed.Binary[appSession]())

	in := appSession{
		UserID: 1234567, Email: "ada.lovelace@example.com", Roles: []string{"admin", "billing"},
		IssuedAt:  time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC),
		ExpiresAt: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC),
	}
	value, err := sessions.Seal("session", &in, time.Now().Add(time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	out, _, err := sessions.Open("session", value)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out.UserID, out.Email, out.Roles, out.ExpiresAt.Format(time.RFC3339))

	bin, _ := in.AppendBinary(nil)
	js, _ := json.Marshal(&in)
	fmt.Printf("binary: %d bytes, %d-char cookie\n", len(bin), len(value))
	fmt.Printf("JSON:   %d bytes, %d-char cookie\n", len(js), sealed.EncodedLen(len(js)))

	// The type, not the codec, rejects trailing data and truncation.
	var v appSession
	fmt.Println(v.UnmarshalBinary(append(bin, 0)))
	fmt.Println(v.UnmarshalBinary(bin[:len(bin)-1]))
	// Output:
	// 1234567 ada.lovelace@example.com [admin billing] 2026-11-22T12:00:00Z
	// binary: 54 bytes, 144-char cookie
	// JSON:   150 bytes, 272-char cookie
	// appSession: trailing data (1 bytes)
	// appSession: truncated or corrupt
}
