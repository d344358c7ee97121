package msgpack_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/codec/msgpack"
	"github.com/sealedcookie/sealed/sealedtest"
	vmsgpack "github.com/vmihailenco/msgpack/v5"
)

type item struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

// session holds what sessions hold. Its keys come from the msgpack tag,
// else the json tag, else the field name.
type session struct {
	Issued  time.Time         `json:"iat"` // decodes in time.Local
	Prefs   map[string]string `json:"prefs"`
	Counter uint64            // the shortest encoding: 6 bytes here
	UserID  int64             `json:"uid"`
	Cart    []item            `json:"cart"`
	Roles   []string          `msgpack:"r" json:"roles"`
	Token   []byte            `json:"tok"`
	Email   string            `json:"email"`
}

var sample = session{
	Issued: time.Date(2026, 11, 21, 12, 0, 0, 123456789, time.UTC),
	Prefs:  map[string]string{"theme": "dark", "lang": "en"}, Counter: 1 << 40,
	UserID: 1234567, Cart: []item{{"SKU-1", 2}, {"SKU-2", 1}}, Roles: []string{"admin", "dev"},
	Token: []byte{0, 1, 2, 0xff}, Email: "ada@example.com",
}

func TestConformance(t *testing.T) {
	if err := sealedtest.TestCodec(msgpack.Codec[session](), sample, session{Email: "Zoë ☃ 𝄞", Roles: []string{}}); err != nil {
		t.Fatal(err)
	}
}

func TestKeys(t *testing.T) {
	enc, err := msgpack.Codec[session]().Append(nil, &sample)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := vmsgpack.Unmarshal(enc, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"uid", "r", "iat", "Counter"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("no key %q in %v", k, keys)
		}
	}
	if _, ok := keys["roles"]; ok {
		t.Errorf("the json tag won over the msgpack tag: %v", keys)
	}
}

// Trailing data is ErrTrailingData; a declared length beyond the data
// fails before allocating; the pooled decoder survives errors.
func TestRejects(t *testing.T) {
	c := msgpack.Codec[session]()
	enc, err := c.Append(nil, &sample)
	if err != nil {
		t.Fatal(err)
	}
	var v session
	if err := c.Decode(append(bytes.Clone(enc), 0), &v); !errors.Is(err, msgpack.ErrTrailingData) {
		t.Fatalf("trailing byte: %v, want ErrTrailingData", err)
	}
	if err := c.Decode(append(bytes.Clone(enc), enc...), &v); !errors.Is(err, msgpack.ErrTrailingData) {
		t.Fatalf("two values: %v, want ErrTrailingData", err)
	}
	huge := []byte{0xdd, 0xff, 0xff, 0xff, 0xff} // array32 of 4 billion elements
	var roles []string
	if err := msgpack.Codec[[]string]().Decode(huge, &roles); err == nil {
		t.Fatal("array32 header with no elements accepted")
	}
	v = session{}
	if err := c.Decode(enc, &v); err != nil || v.Email != sample.Email || v.Counter != sample.Counter {
		t.Fatalf("decode after errors: %+v, %v", v, err)
	}
}

// The codec reads what msgpack itself writes (other languages' libraries
// produce the same format).
func TestInterop(t *testing.T) {
	var buf bytes.Buffer
	enc := vmsgpack.NewEncoder(&buf)
	enc.SetCustomStructTag("json")
	if err := enc.Encode(&sample); err != nil {
		t.Fatal(err)
	}
	var got session
	if err := msgpack.Codec[session]().Decode(buf.Bytes(), &got); err != nil || !got.Issued.Equal(sample.Issued) {
		t.Fatalf("decoding msgpack's own encoding: %+v, %v", got, err)
	}
	got.Issued = sample.Issued // the same instant, in time.Local
	if !reflect.DeepEqual(got, sample) {
		t.Fatalf("decoding msgpack's own encoding: %+v, want %+v", got, sample)
	}
}

// A Manager that keeps its sessions as MessagePack, used without the
// middleware: LoadHeader reads the Cookie header, SaveHeader writes
// Set-Cookie.
func Example() {
	type Session struct {
		UserID int64    `json:"uid"`
		Roles  []string `json:"roles"`
	}
	key, err := sealed.NewKey("k1", bytes.Repeat([]byte{7}, sealed.KeySize)) // use sealed.GenerateKey or ParseKeyRing
	if err != nil {
		log.Fatal(err)
	}
	ring, err := sealed.NewKeyRing(key)
	if err != nil {
		log.Fatal(err)
	}
	m, err := sealed.New(ring, msgpack.Codec[Session](), sealed.Options{})
	if err != nil {
		log.Fatal(err)
	}

	ctx := m.LoadHeader(context.Background(), http.Header{}) // a request without cookies
	m.Put(ctx, Session{UserID: 42, Roles: []string{"admin"}})
	set := http.Header{}
	if err := m.SaveHeader(ctx, set); err != nil {
		log.Fatal(err)
	}

	// The next request carries the cookie back.
	cookie := strings.SplitN(set.Get("Set-Cookie"), ";", 2)[0]
	s, ok := m.Get(m.LoadHeader(context.Background(), http.Header{"Cookie": {cookie}}))
	fmt.Println(s.UserID, s.Roles, ok)
	// Output: 42 [admin] true
}
