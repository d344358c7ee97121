package sealed_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/sealedtest"
)

var binSample = appSession{
	UserID: 99, Email: "grace@example.com", Roles: []string{"admin", "", "ops"},
	IssuedAt:  time.Unix(1763726400, 0).UTC(),
	ExpiresAt: time.Unix(1763812800, 0).UTC(),
}

// Binary keeps the Codec contract with a type that keeps the duties
// Binary's documentation lists, and passes the type's bytes and errors
// through.
func TestBinaryCodec(t *testing.T) {
	c := sealed.Binary[appSession]()
	if err := sealedtest.TestCodec(c, binSample, appSession{Roles: []string{""}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Append(nil, &binSample)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := binSample.AppendBinary(nil); string(got) != string(want) {
		t.Fatalf("Append wrote %x, want AppendBinary's %x", got, want)
	}
	var v appSession
	if err := c.Decode(append([]byte{2}, got[1:]...), &v); err == nil {
		t.Fatal("version 2 accepted")
	}
	// A count larger than the remaining bytes is refused before allocating.
	huge := binary.AppendUvarint([]byte{1, 1, 0}, 1<<40)
	if err := c.Decode(huge, &v); err == nil {
		t.Fatal("role count beyond the data accepted")
	}
}

// The codec adds nothing to the type's own cost: no reflection, no
// allocation when dst has room.
func TestBinaryCodecAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts vary under -short instrumentation")
	}
	c := sealed.Binary[appSession]()
	dst := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { _, _ = c.Append(dst[:0], &binSample) }); n != 0 {
		t.Fatalf("Append: %v allocations, want 0", n)
	}
}

// counter has value-receiver methods: *counter has them too, so Binary
// accepts it.
type counter uint32

func (c counter) AppendBinary(b []byte) ([]byte, error) {
	return binary.BigEndian.AppendUint32(b, uint32(c)), nil
}

func (c *counter) UnmarshalBinary(b []byte) error {
	if len(b) != 4 {
		return errors.New("counter: want 4 bytes")
	}
	*c = counter(binary.BigEndian.Uint32(b))
	return nil
}

func TestBinaryTyped(t *testing.T) {
	ring, _ := sealed.NewKeyRing(exampleKey("k1", 0))
	s := sealed.NewSealer(ring)
	exp := time.Now().Add(time.Hour)

	sessions := sealed.NewTyped(s, sealed.Binary[appSession]())
	value, err := sessions.Seal("session", &binSample, exp)
	if err != nil {
		t.Fatal(err)
	}
	got, info, err := sessions.Open("session", value)
	if err != nil || got.Email != binSample.Email || info.KeyID != "k1" {
		t.Fatalf("Open = %+v, %+v, %v", got, info, err)
	}
	// Strings survive the pooled buffer being cleared and reused.
	for range 3 {
		if _, err := sessions.Seal("session", &appSession{Email: strings.Repeat("x", len(binSample.Email))}, exp); err != nil {
			t.Fatal(err)
		}
	}
	if got.Email != binSample.Email || got.Roles[2] != "ops" {
		t.Fatalf("decoded strings changed after reuse: %+v", got)
	}

	counters := sealed.NewTyped(s, sealed.Binary[counter]())
	c := counter(7)
	value, err = counters.Seal("n", &c, exp)
	if err != nil {
		t.Fatal(err)
	}
	if n, _, err := counters.Open("n", value); err != nil || n != 7 {
		t.Fatalf("counter round trip = %d, %v", n, err)
	}

	// A payload the type does not accept is malformed, not a server fault.
	other := mustSeal(t, s, "n", []byte("12345"), exp)
	if _, _, err := counters.Open("n", other); !errors.Is(err, sealed.ErrMalformed) {
		t.Fatalf("Open of a 5-byte payload: %v, want ErrMalformed", err)
	}
}

// JSON's Append writes exactly what json.Marshal returns.
func TestJSONAppendMatchesMarshal(t *testing.T) {
	c := sealed.JSON[appSession]()
	want, _ := json.Marshal(&binSample)
	got, err := c.Append([]byte("x"), &binSample)
	if err != nil || string(got) != "x"+string(want) {
		t.Fatalf("Append = %q, %v; want x%s", got, err, want)
	}
	if _, err := c.Append(nil, &appSession{IssuedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Fatal("Append of an unencodable time succeeded")
	}
}
