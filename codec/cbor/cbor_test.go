package cbor_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"strings"
	"testing"
	"time"

	fxcbor "github.com/fxamacker/cbor/v2"
	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/codec/cbor"
)

type item struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

type session struct {
	UserID int64             `json:"uid"`
	Email  string            `json:"email"`
	Roles  []string          `json:"roles"`
	Token  []byte            `json:"tok"`
	Cart   []item            `json:"cart"`
	Prefs  map[string]string `json:"prefs"`
	Issued time.Time         `json:"iat"`
}

var sample = session{
	UserID: 1234567, Email: "ada@example.com", Roles: []string{"admin", "dev"},
	Token: []byte{0, 1, 2, 0xff}, Cart: []item{{"SKU-1", 2}, {"SKU-2", 1}},
	Prefs:  map[string]string{"theme": "dark"},
	Issued: time.Date(2026, 11, 21, 12, 0, 0, 123456789, time.UTC),
}

func equal(a, b session) bool {
	return a.UserID == b.UserID && a.Email == b.Email && strings.Join(a.Roles, ",") == strings.Join(b.Roles, ",") &&
		bytes.Equal(a.Token, b.Token) && fmt.Sprint(a.Cart) == fmt.Sprint(b.Cart) &&
		fmt.Sprint(a.Prefs) == fmt.Sprint(b.Prefs) && a.Issued.Equal(b.Issued)
}

func TestRoundTrip(t *testing.T) {
	c := cbor.Codec[session]()
	b, err := c.Append([]byte("prefix"), &sample)
	if err != nil || !bytes.HasPrefix(b, []byte("prefix")) {
		t.Fatalf("Append = %q, %v", b, err)
	}
	enc := b[len("prefix"):]
	var got session
	if err := c.Decode(enc, &got); err != nil {
		t.Fatal(err)
	}
	if !equal(got, sample) {
		t.Fatalf("round trip = %+v, want %+v", got, sample)
	}
	// Keys come from the json tags.
	if !bytes.Contains(enc, []byte("uid")) || bytes.Contains(enc, []byte("UserID")) {
		t.Fatalf("encoding %q does not use the json tag names", enc)
	}
	// Decoded slices do not alias the input, which Typed clears and reuses.
	clear(enc)
	if !equal(got, sample) {
		t.Fatalf("decoded value changed when its input was cleared: %+v", got)
	}
}

func TestRejects(t *testing.T) {
	c := cbor.Codec[session]()
	enc, _ := c.Append(nil, &sample)
	var v session
	var extra *fxcbor.ExtraneousDataError
	if err := c.Decode(append(bytes.Clone(enc), 0), &v); !errors.As(err, &extra) {
		t.Fatalf("trailing byte: %v, want ExtraneousDataError", err)
	}
	if err := c.Decode(append(bytes.Clone(enc), enc...), &v); !errors.As(err, &extra) {
		t.Fatalf("two values: %v, want ExtraneousDataError", err)
	}
	for n := range len(enc) {
		var v session
		if err := c.Decode(enc[:n], &v); err == nil {
			t.Fatalf("truncated to %d of %d bytes: accepted", n, len(enc))
		}
	}
}

func TestLimits(t *testing.T) {
	var anyv any
	dec := cbor.Codec[any]()
	nested := func(n int) []byte { // [[[...]]] n deep
		return append(bytes.Repeat([]byte{0x81}, n-1), 0x80)
	}
	if err := dec.Decode(nested(cbor.MaxNestedLevels), &anyv); err != nil {
		t.Fatalf("%d levels: %v", cbor.MaxNestedLevels, err)
	}
	if err := dec.Decode(nested(cbor.MaxNestedLevels+1), &anyv); err == nil {
		t.Fatalf("%d levels accepted", cbor.MaxNestedLevels+1)
	}
	array := func(n int) []byte { // array of n zeros
		return append([]byte{0x9a, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, make([]byte, n)...)
	}
	if err := dec.Decode(array(cbor.MaxArrayElements), &anyv); err != nil {
		t.Fatalf("%d elements: %v", cbor.MaxArrayElements, err)
	}
	if err := dec.Decode(array(cbor.MaxArrayElements+1), &anyv); err == nil {
		t.Fatalf("%d elements accepted", cbor.MaxArrayElements+1)
	}
	mapOf := func(n int) []byte { // map of n distinct small keys to 0
		b := []byte{0xba, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
		for i := range n {
			b = append(b, 0x19, byte(i>>8), byte(i), 0x00) // uint16 key
		}
		return b
	}
	var m map[int]int
	if err := cbor.Codec[map[int]int]().Decode(mapOf(cbor.MaxMapPairs), &m); err != nil || len(m) != cbor.MaxMapPairs {
		t.Fatalf("%d pairs: %d, %v", cbor.MaxMapPairs, len(m), err)
	}
	if err := cbor.Codec[map[int]int]().Decode(mapOf(cbor.MaxMapPairs+1), &m); err == nil {
		t.Fatalf("%d pairs accepted", cbor.MaxMapPairs+1)
	}
	// A declared length far beyond the data fails before allocating.
	if err := dec.Decode([]byte{0x9b, 0, 0, 0, 1, 0, 0, 0, 0}, &anyv); err == nil {
		t.Fatal("array of 2^32 elements with no data accepted")
	}
	if err := dec.Decode([]byte{0x9f, 0x01, 0xff}, &anyv); err == nil {
		t.Fatal("indefinite-length array accepted")
	}
}

// The codec reads what the library writes with its default options, and
// CodecWith takes other modes.
func TestInteropAndModes(t *testing.T) {
	b, err := fxcbor.Marshal(&sample)
	if err != nil {
		t.Fatal(err)
	}
	var got session
	if err := cbor.Codec[session]().Decode(b, &got); err != nil || got.Email != sample.Email || !got.Issued.Equal(sample.Issued.Truncate(time.Second)) {
		t.Fatalf("decoding default-mode CBOR: %+v, %v", got, err)
	}
	opts := cbor.EncOptions()
	opts.Time = fxcbor.TimeUnix
	enc, _ := opts.EncMode()
	dec, _ := cbor.DecOptions().DecMode()
	small := cbor.CodecWith[session](enc, dec)
	sb, _ := small.Append(nil, &sample)
	lb, _ := cbor.Codec[session]().Append(nil, &sample)
	if len(sb) >= len(lb) {
		t.Fatalf("Unix times: %d bytes, RFC 3339: %d; want smaller", len(sb), len(lb))
	}
	if err := small.Decode(sb, &got); err != nil || !got.Issued.Equal(sample.Issued.Truncate(time.Second)) {
		t.Fatalf("Unix-time round trip: %v, %v", got.Issued, err)
	}
}

func TestTyped(t *testing.T) {
	key, _ := sealed.NewKey("k1", bytes.Repeat([]byte{7}, sealed.KeySize))
	ring, _ := sealed.NewKeyRing(key)
	s := sealed.NewSealer(ring)
	typed := sealed.NewTyped(s, cbor.Codec[session]())
	v, err := typed.Seal("session", &sample, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := typed.Open("session", v)
	if err != nil || !equal(got, sample) {
		t.Fatalf("Open = %+v, %v", got, err)
	}
	// A payload that is CBOR plus a byte is malformed, not a fault.
	enc, _ := cbor.Codec[session]().Append(nil, &sample)
	bad, _ := s.Seal("session", append(enc, 0xf6), time.Now().Add(time.Hour))
	if _, _, err := typed.Open("session", bad); !errors.Is(err, sealed.ErrMalformed) {
		t.Fatalf("trailing data through Typed: %v, want ErrMalformed", err)
	}
}

func TestConcurrent(t *testing.T) {
	c := cbor.Codec[session]()
	done := make(chan error)
	for g := range 4 {
		go func() {
			for i := range 200 {
				in := sample
				in.UserID = int64(g*1000 + i)
				b, err := c.Append(nil, &in)
				var out session
				if err == nil {
					err = c.Decode(b, &out)
				}
				if err == nil && out.UserID != in.UserID {
					err = fmt.Errorf("got user %d, want %d", out.UserID, in.UserID)
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func Example() {
	type Session struct {
		UserID int64    `json:"uid"`
		Roles  []string `json:"roles"`
	}
	key, err := sealed.NewKey("k1", bytes.Repeat([]byte{7}, sealed.KeySize))
	if err != nil {
		log.Fatal(err)
	}
	ring, _ := sealed.NewKeyRing(key)
	sessions := sealed.NewTyped(sealed.NewSealer(ring), cbor.Codec[Session]())

	value, err := sessions.Seal("session", &Session{UserID: 42, Roles: []string{"admin"}}, time.Now().Add(time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	s, _, err := sessions.Open("session", value)
	fmt.Println(s.UserID, s.Roles, err)
	// Output: 42 [admin] <nil>
}
