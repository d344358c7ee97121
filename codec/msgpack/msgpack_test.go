package msgpack_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/codec/msgpack"
	vmsgpack "github.com/vmihailenco/msgpack/v5"
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
	c := msgpack.Codec[session]()
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
	c := msgpack.Codec[session]()
	enc, _ := c.Append(nil, &sample)
	var v session
	if err := c.Decode(append(bytes.Clone(enc), 0), &v); !errors.Is(err, msgpack.ErrTrailingData) {
		t.Fatalf("trailing byte: %v, want ErrTrailingData", err)
	}
	if err := c.Decode(append(bytes.Clone(enc), enc...), &v); !errors.Is(err, msgpack.ErrTrailingData) {
		t.Fatalf("two values: %v, want ErrTrailingData", err)
	}
	for n := range len(enc) {
		var v session
		if err := c.Decode(enc[:n], &v); err == nil {
			t.Fatalf("truncated to %d of %d bytes: accepted", n, len(enc))
		}
	}
	// A declared length far beyond the data fails without allocating it.
	huge := []byte{0xdd, 0xff, 0xff, 0xff, 0xff} // array32 of 4 billion elements
	var roles []string
	if err := msgpack.Codec[[]string]().Decode(huge, &roles); err == nil {
		t.Fatal("array32 header with no elements accepted")
	}
	// After an error the pooled decoder is fine.
	if err := c.Decode(enc, &v); err != nil || !equal(v, sample) {
		t.Fatalf("decode after errors: %v", err)
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
	if err := msgpack.Codec[session]().Decode(buf.Bytes(), &got); err != nil || !equal(got, sample) {
		t.Fatalf("decoding msgpack's own encoding: %+v, %v", got, err)
	}
}

func TestTyped(t *testing.T) {
	key, _ := sealed.NewKey("k1", bytes.Repeat([]byte{7}, sealed.KeySize))
	ring, _ := sealed.NewKeyRing(key)
	s := sealed.NewSealer(ring)
	typed := sealed.NewTyped(s, msgpack.Codec[session]())
	v, err := typed.Seal("session", &sample, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := typed.Open("session", v)
	if err != nil || !equal(got, sample) {
		t.Fatalf("Open = %+v, %v", got, err)
	}
	// A payload that is MessagePack plus a byte is malformed, not a fault.
	enc, _ := msgpack.Codec[session]().Append(nil, &sample)
	bad, _ := s.Seal("session", append(enc, 0xc0), time.Now().Add(time.Hour))
	if _, _, err := typed.Open("session", bad); !errors.Is(err, sealed.ErrMalformed) {
		t.Fatalf("trailing data through Typed: %v, want ErrMalformed", err)
	}
}

func TestConcurrent(t *testing.T) {
	c := msgpack.Codec[session]()
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
	sessions := sealed.NewTyped(sealed.NewSealer(ring), msgpack.Codec[Session]())

	value, err := sessions.Seal("session", &Session{UserID: 42, Roles: []string{"admin"}}, time.Now().Add(time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	s, _, err := sessions.Open("session", value)
	fmt.Println(s.UserID, s.Roles, err)
	// Output: 42 [admin] <nil>
}
