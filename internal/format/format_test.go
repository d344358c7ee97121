package format

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestPayloadRoundTrip(t *testing.T) {
	for _, p := range []Payload{
		{Issued: 1, Deadline: 2, Refreshed: 3},
		{HasValue: true, Issued: -5, Deadline: 1 << 40, Refreshed: 7, Value: []byte(`{"user":"a"}`)},
		{HasValue: true, Flashes: []string{"Saved.", "", strings.Repeat("x", 300)}, Value: []byte{}},
		{Flashes: []string{"only a flash"}},
		{HasValue: true, HasIdentity: true, ID: [16]byte{1, 2, 3}, Minted: 1700000000123, Subject: "user-42", Value: []byte(`{}`)},
		{HasIdentity: true, Minted: -1, Flashes: []string{"x"}},
		{HasValue: true, Persistence: true, Persistent: true, Value: []byte("1")},
		{HasValue: true, Persistence: true, Value: []byte("1")},
	} {
		b := AppendPayload(nil, &p)
		b = append(b, p.Value...)
		got, err := ParsePayload(b)
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		if got.HasValue != p.HasValue || got.Issued != p.Issued || got.Deadline != p.Deadline || got.Refreshed != p.Refreshed ||
			got.HasIdentity != p.HasIdentity || got.ID != p.ID || got.Minted != p.Minted || got.Subject != p.Subject ||
			got.Persistence != p.Persistence || got.Persistent != p.Persistent ||
			len(got.Flashes) != len(p.Flashes) || !bytes.Equal(got.Value, p.Value) {
			t.Errorf("round trip of %+v = %+v", p, got)
		}
		for i := range p.Flashes {
			if got.Flashes[i] != p.Flashes[i] {
				t.Errorf("flash %d = %q", i, got.Flashes[i])
			}
		}
		if again := append(AppendPayload(nil, &got), got.Value...); !bytes.Equal(again, b) {
			t.Errorf("re-encoding differs")
		}
	}
}

func TestParsePayloadRejects(t *testing.T) {
	good := AppendPayload(nil, &Payload{Flashes: []string{"ab"}})
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrPayloadVersion},
		{"short", good[:MinPayloadLen-1], ErrPayloadVersion},
		{"version 2", append([]byte{2}, good[1:]...), ErrPayloadVersion},
		{"unknown flag", append([]byte{1, 16}, good[2:]...), ErrPayloadVersion},
		{"persistent without persistence", append([]byte{1, 8}, good[2:]...), ErrPayloadVersion},
		{"identity flag, no identity", append([]byte{1, 2}, good[2:]...), ErrIdentity},
		{"count past end", append(good[:PayloadHeaderLen:PayloadHeaderLen], 9), ErrFlashCount},
		{"count overlong", append(good[:PayloadHeaderLen:PayloadHeaderLen], 0xff), ErrFlashCount},
		{"flash past end", good[:len(good)-1], ErrFlash},
		{"trailing without value", append(good[:len(good):len(good)], 'x'), ErrTrailing},
	} {
		if _, err := ParsePayload(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestLayout(t *testing.T) {
	for _, tc := range []struct{ total, chunk, n, size int }{
		{100, 100, 0, 100},
		{101, 100, 2, 100},
		{199, 100, 2, 100},
		{200, 100, 3, 99}, // never a full last chunk
		{250, 100, 3, 100},
		{400, 100, 5, 99},
	} {
		n, size := Layout(tc.total, tc.chunk)
		if n != tc.n || size != tc.size {
			t.Errorf("Layout(%d, %d) = %d, %d; want %d, %d", tc.total, tc.chunk, n, size, tc.n, tc.size)
		}
		if n > 0 {
			if last := tc.total - (n-1)*size; last <= 0 || last >= size {
				t.Errorf("Layout(%d, %d): last chunk %d of %d", tc.total, tc.chunk, last, size)
			}
		}
	}
}

func TestCookies(t *testing.T) {
	var c Cookies
	c.Read([]string{`other=1; s.1="bbb"; s.0=aaa`, "s.2=c; s.1=zzz; s.01=x; s.x=y; s.64=q; s.63=q"}, "s")
	if c.HasPlain || c.Carried != 1|1<<1|1<<2|1<<63 {
		t.Fatalf("read %+v", c)
	}
	v, err := c.Value("s", 4)
	if v.Value != "aaabbbc" || v.Name != "s#3" || v.Chunks != 3 || v.Missing != nil || err != nil {
		t.Errorf("Value = %+v, %v", v, err)
	}
	// A run of full chunks: the last one may be missing.
	c = Cookies{}
	c.Read([]string{"s.0=aa; s.1=bb; s.3=cc"}, "s")
	var me *MissingChunkError
	if v, _ := c.Value("s", 4); !errors.As(v.Missing, &me) || me.Index != 2 {
		t.Errorf("missing = %v", v.Missing)
	}
	c = Cookies{}
	c.Read([]string{"s.1=bb"}, "s")
	if _, err := c.Value("s", 4); !errors.As(err, &me) || me.Index != 0 || !strings.Contains(err.Error(), "chunk s.0 missing: Cookie header truncated?") {
		t.Errorf("err = %v", err)
	}
	c = Cookies{}
	c.Read([]string{"s.0=a; s.1=b; s.2=c"}, "s")
	var tm *TooManyChunksError
	if _, err := c.Value("s", 2); !errors.As(err, &tm) {
		t.Errorf("over budget: %v", err)
	}
	c = Cookies{}
	c.Read([]string{"s=plain; s=second; s.0=a"}, "s")
	if v, _ := c.Value("s", 4); v.Value != "plain" || v.Name != "s" || v.Chunks != 0 {
		t.Errorf("plain: %+v", v)
	}
}

func FuzzParsePayload(f *testing.F) {
	f.Add(AppendPayload(nil, &Payload{Flashes: []string{"hi"}}))
	f.Add(append(AppendPayload(nil, &Payload{HasValue: true}), `{"a":1}`...))
	f.Add(append(AppendPayload(nil, &Payload{HasValue: true, HasIdentity: true, Subject: "u"}), `{}`...))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePayload(b)
		if err != nil {
			return
		}
		// A parsed payload re-encodes to the same bytes, except for a
		// non-minimal uvarint, which the parser accepts.
		again := append(AppendPayload(nil, &p), p.Value...)
		if len(again) > len(b) {
			t.Fatalf("re-encoding is longer: %d > %d", len(again), len(b))
		}
	})
}

func FuzzCookies(f *testing.F) {
	f.Add("s=abc; s.0=aa; s.1=b", 4)
	f.Fuzz(func(t *testing.T, header string, budget int) {
		if budget < 1 || budget > MaxChunks {
			return
		}
		var c Cookies
		c.Read([]string{header}, "s")
		v, err := c.Value("s", budget)
		if err == nil && c.Any() && v.Name == "" {
			t.Fatalf("value %q without a name", v.Value)
		}
	})
}
