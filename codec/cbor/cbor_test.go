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
	"github.com/sealedcookie/sealed/sealedtest"
)

type item struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

// session holds what sessions hold. Its keys come from the cbor tag, else
// the json tag, else the field name.
type session struct {
	UserID int64             `json:"uid"`
	Email  string            `json:"email"`
	Roles  []string          `cbor:"r" json:"roles"`
	Token  []byte            `json:"tok"`
	Cart   []item            `json:"cart"`
	Prefs  map[string]string `json:"prefs"`
	Issued time.Time         `json:"iat"`
	Admin  bool
}

var sample = session{
	UserID: 1234567, Email: "ada@example.com", Roles: []string{"admin", "dev"},
	Token: []byte{0, 1, 2, 0xff}, Cart: []item{{"SKU-1", 2}, {"SKU-2", 1}},
	Prefs:  map[string]string{"theme": "dark", "lang": "en"},
	Issued: time.Date(2026, 11, 21, 12, 0, 0, 123456789, time.UTC),
	Admin:  true,
}

func TestConformance(t *testing.T) {
	if err := sealedtest.TestCodec(cbor.Codec[session](), sample, session{Email: "Zoë ☃ 𝄞", Roles: []string{}}); err != nil {
		t.Fatal(err)
	}
}

func TestKeys(t *testing.T) {
	enc, err := cbor.Codec[session]().Append(nil, &sample)
	if err != nil {
		t.Fatal(err)
	}
	diag, err := fxcbor.Diagnose(enc)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"uid": 1234567`, `"r": ["admin", "dev"]`, `"Admin": true`} {
		if !strings.Contains(diag, k) {
			t.Errorf("%s lacks %s", diag, k)
		}
	}
}

// Trailing data is an ExtraneousDataError.
func TestTrailingData(t *testing.T) {
	c := cbor.Codec[session]()
	enc, err := c.Append(nil, &sample)
	if err != nil {
		t.Fatal(err)
	}
	var v session
	var extra *fxcbor.ExtraneousDataError
	if err := c.Decode(append(bytes.Clone(enc), 0), &v); !errors.As(err, &extra) {
		t.Fatalf("trailing byte: %v, want ExtraneousDataError", err)
	}
	if err := c.Decode(append(bytes.Clone(enc), enc...), &v); !errors.As(err, &extra) {
		t.Fatalf("two values: %v, want ExtraneousDataError", err)
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
	enc, err := opts.EncMode()
	if err != nil {
		t.Fatal(err)
	}
	dec, err := cbor.DecOptions().DecMode()
	if err != nil {
		t.Fatal(err)
	}
	small := cbor.CodecWith[session](enc, dec)
	whole := sample
	whole.Issued = whole.Issued.Truncate(time.Second) // what Unix times keep
	if err := sealedtest.TestCodec(small, whole); err != nil {
		t.Fatal(err)
	}
	sb, err := small.Append(nil, &sample)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := cbor.Codec[session]().Append(nil, &sample)
	if err != nil {
		t.Fatal(err)
	}
	if len(sb) >= len(lb) {
		t.Fatalf("Unix times: %d bytes, RFC 3339: %d; want smaller", len(sb), len(lb))
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
