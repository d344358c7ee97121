package redisstore

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

func sameRevocation(a, b sealed.Revocation) bool {
	return a.Subject == b.Subject && a.Session == b.Session && a.Except == b.Except &&
		a.NotBefore.Equal(b.NotBefore) && a.Expires.Equal(b.Expires)
}

func TestCodec(t *testing.T) {
	exp := time.UnixMilli(1_900_000_000_123)
	nb := time.UnixMilli(1_800_000_000_456)
	id := sealed.SessionID{0xab, 15: 1}
	for _, r := range []sealed.Revocation{
		{Session: id, Expires: exp},
		{Session: id, Subject: "a:b:c\n\x00 ünïcode", Expires: exp},
		{Subject: "alice", NotBefore: nb, Expires: exp},
		{Subject: "u:alice:x", NotBefore: nb, Except: id, Expires: exp},
		{Subject: "old", NotBefore: time.UnixMilli(-5), Expires: exp},
	} {
		f, v := field(&r), value(&r)
		got, err := decode(f, v)
		if err != nil || !sameRevocation(got, r) {
			t.Errorf("%q %q: %+v, %v; want %+v", f, v, got, err, r)
		}
		if got, err := decodeMessage(message(f, v)); err != nil || !sameRevocation(got, r) {
			t.Errorf("message %q: %+v, %v", message(f, v), got, err)
		}
	}
	// Expires rounds up, NotBefore down, to the millisecond.
	r := sealed.Revocation{Subject: "x", NotBefore: nb.Add(999 * time.Microsecond), Expires: exp.Add(time.Microsecond)}
	if v := value(&r); v != "1800000000456:1900000000124::" {
		t.Errorf("value %q", v)
	}
	for _, bad := range [][2]string{
		{"s:" + id.String(), "1:2:3"},
		{"s:" + id.String(), "1:2::"},            // a NotBefore on a session entry
		{"s:" + strings.Repeat("0", 32), ":2::"}, // the zero session
		{"s:xyz", ":2::"},                        //
		{"u:", "1:2::"},                          // no subject
		{"u:a", ":2::"},                          // no NotBefore
		{"u:a", "1:2::b"},                        // a second subject
		{"u:a", "1:2:nothex:"},                   //
		{"x:a", "1:2::"},                         //
		{"u:a", "1:x::"},                         //
	} {
		if r, err := decode(bad[0], bad[1]); err == nil {
			t.Errorf("decode(%q, %q) = %+v", bad[0], bad[1], r)
		}
	}
	for _, bad := range []string{"", "x", "5", "-1:", "99:u:a1:2::", "3:u:a"} {
		if r, err := decodeMessage(bad); err == nil {
			t.Errorf("decodeMessage(%q) = %+v", bad, r)
		}
	}
}

// FuzzDecodeMessage: decoding a message never panics, and what it accepts
// encodes back to the same revocation.
func FuzzDecodeMessage(f *testing.F) {
	id := sealed.SessionID{1, 2, 3}
	for _, r := range []sealed.Revocation{
		{Session: id, Subject: "alice", Expires: time.UnixMilli(1e12)},
		{Subject: "bob", NotBefore: time.UnixMilli(5e11), Except: id, Expires: time.UnixMilli(1e12)},
	} {
		f.Add(message(field(&r), value(&r)))
	}
	f.Fuzz(func(t *testing.T, m string) {
		r, err := decodeMessage(m)
		if err != nil {
			return
		}
		back, err := decodeMessage(message(field(&r), value(&r)))
		if err != nil || !sameRevocation(back, r) {
			t.Fatalf("%q: %+v, then %+v, %v", m, r, back, err)
		}
	})
}

// message returns what the revoke script publishes for a field and value.
// It is built by the script; this is its Go twin.
func message(f, v string) string {
	return strconv.Itoa(len(f)) + ":" + f + v
}
