package starlette

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

const (
	vecSecret = "secret-key"
	vecTS     = 1700000000
	vecValue  = "eyJ1c2VyIjogImFsaWNlIn0=.ZVPxAA.kMDYFhvHVLOK6MD71iELqZ-MwJ0"
)

var sentinels = []error{sealed.ErrMalformed, sealed.ErrInvalid, sealed.ErrExpired, sealed.ErrTooLarge}

func at(sec int64) func() time.Time { return func() time.Time { return time.Unix(sec, 0) } }

func newCodec(t testing.TB, secret string, opts Options) *Codec {
	t.Helper()
	c, err := New(secret, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantErr(t *testing.T, err error, want ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", want)
	}
	for _, w := range want {
		if errors.Is(err, w) {
			return
		}
	}
	t.Fatalf("got %v, want one of %v", err, want)
}

// signRaw signs an arbitrary payload string, as a holder of the key could.
func signRaw(t *testing.T, c *Codec, payload string, ts int64) string {
	t.Helper()
	v, err := c.signer.Sign(payload, ts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVector(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	p, issued, err := c.Open(vecValue)
	if err != nil {
		t.Fatal(err)
	}
	if string(p) != `{"user":"alice"}` {
		t.Errorf("payload = %s", p)
	}
	if !issued.Equal(time.Unix(vecTS, 0)) || issued.Location() != time.UTC {
		t.Errorf("issued = %v", issued)
	}
	for _, in := range []string{`{"user":"alice"}`, `{"user": "alice"}`, " {\n\"user\" :\"alice\"} "} {
		got, err := c.Seal([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if got != vecValue {
			t.Errorf("Seal(%q) = %q, want %q", in, got, vecValue)
		}
	}
}

func TestSealWritesPythonJSON(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	in := `{"b":1,"a":{"z":[1,2.5,null,true,false]},"é":"\u2028😀` + "\x7f" + `<>&/\"\\\n\t\b\f\u0001","b":2}`
	// Python: json.dumps(json.loads(in))
	want := `{"b": 2, "a": {"z": [1, 2.5, null, true, false]}, "\u00e9": "\u2028\ud83d\ude00\u007f<>&/\"\\\n\t\b\f\u0001"}`
	v, err := c.Seal([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	js, err := base64.StdEncoding.DecodeString(strings.SplitN(v, ".", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	if string(js) != want {
		t.Errorf("sealed JSON\n got %s\nwant %s", js, want)
	}
	p, _, err := c.Open(v)
	if err != nil {
		t.Fatal(err)
	}
	var got, exp any
	if err := json.Unmarshal(p, &got); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal([]byte(want), &exp)
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("Open = %s", p)
	}
	if !strings.HasPrefix(string(p), `{"b":2,"a":`) {
		t.Errorf("Open lost key order or compaction: %s", p)
	}
}

func TestRoundTrip(t *testing.T) {
	c := newCodec(t, "k", Options{})
	for _, in := range []string{`{}`, `{"a":{}}`, `{"n":[[],[{}]],"x":-1.5e3}`, `{"ü":"𝄞"}`} {
		v, err := c.Seal([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		p, issued, err := c.Open(v)
		if err != nil {
			t.Fatalf("Open(Seal(%s)): %v", in, err)
		}
		if string(p) != in {
			t.Errorf("Open(Seal(%s)) = %s", in, p)
		}
		if d := time.Since(issued); d < 0 || d > time.Minute {
			t.Errorf("issued = %v", issued)
		}
	}
}

func TestTamper(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	sigStart := strings.LastIndexByte(vecValue, '.') + 1
	for i := range len(vecValue) {
		for _, r := range "AZaz09-_+/=" {
			if byte(r) == vecValue[i] {
				continue
			}
			v := vecValue[:i] + string(r) + vecValue[i+1:]
			_, _, err := c.Open(v)
			switch {
			case vecValue[i] == '.' || i == len(vecValue)-1:
				// shape broken, or the signature's last character
				// (two spare bits): malformed or invalid.
				wantErr(t, err, sealed.ErrInvalid, sealed.ErrMalformed)
			case i >= sigStart && (r == '+' || r == '/' || r == '='):
				wantErr(t, err, sealed.ErrMalformed)
			default:
				wantErr(t, err, sealed.ErrInvalid)
			}
		}
	}
}

func TestTruncated(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	for i := range len(vecValue) {
		_, _, err := c.Open(vecValue[:i])
		wantErr(t, err, sealed.ErrMalformed, sealed.ErrInvalid)
		_, _, err = c.Open(vecValue[i+1:])
		wantErr(t, err, sealed.ErrMalformed, sealed.ErrInvalid)
	}
}

func TestWrongSecret(t *testing.T) {
	c := newCodec(t, "secret-key2", Options{Now: at(vecTS)})
	_, _, err := c.Open(vecValue)
	wantErr(t, err, sealed.ErrInvalid)
}

func TestAge(t *testing.T) {
	days14 := int64(14 * 24 * 3600)
	for _, tc := range []struct {
		maxAge time.Duration
		now    int64
		ok     bool
	}{
		{0, vecTS, true},
		{0, vecTS + days14, true},
		{0, vecTS + days14 + 1, false},
		{0, vecTS - 1, false}, // signed in the future
		{time.Hour, vecTS + 3600, true},
		{time.Hour, vecTS + 3601, false},
		{time.Hour + 999*time.Millisecond, vecTS + 3601, false}, // whole seconds
		{-1, vecTS + 100*days14, true},
		{-1, vecTS - 1000, true},
	} {
		c := newCodec(t, vecSecret, Options{MaxAge: tc.maxAge, Now: at(tc.now)})
		_, _, err := c.Open(vecValue)
		if tc.ok && err != nil {
			t.Errorf("MaxAge %v, now ts%+d: %v", tc.maxAge, tc.now-vecTS, err)
		}
		if !tc.ok && !errors.Is(err, sealed.ErrExpired) {
			t.Errorf("MaxAge %v, now ts%+d: got %v, want ErrExpired", tc.maxAge, tc.now-vecTS, err)
		}
	}
	// Expiry is checked only after the signature.
	c := newCodec(t, "other", Options{Now: at(vecTS + 10*days14)})
	_, _, err := c.Open(vecValue)
	wantErr(t, err, sealed.ErrInvalid)
}

func TestTooLarge(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	_, _, err := c.Open(strings.Repeat("\x00", DefaultMaxLen+1))
	wantErr(t, err, sealed.ErrTooLarge)
	_, _, err = c.Open(strings.Repeat("A", DefaultMaxLen) + vecValue)
	wantErr(t, err, sealed.ErrTooLarge)

	small := newCodec(t, vecSecret, Options{Now: at(vecTS), MaxLen: len(vecValue) - 1})
	_, _, err = small.Open(vecValue)
	wantErr(t, err, sealed.ErrTooLarge)
	_, err = small.Seal([]byte(`{"user":"alice"}`))
	wantErr(t, err, sealed.ErrTooLarge)
	exact := newCodec(t, vecSecret, Options{Now: at(vecTS), MaxLen: len(vecValue)})
	if _, _, err := exact.Open(vecValue); err != nil {
		t.Error(err)
	}
	_, err = c.Seal([]byte(`{"x":"` + strings.Repeat("x", DefaultMaxLen) + `"}`))
	wantErr(t, err, sealed.ErrTooLarge)
}

func TestGarbage(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	for _, v := range []string{
		"", ".", "..", "...", "null", "a.b", "a.b.c", "{}", "\x00\xff.\n.\r",
		"eyJ1c2VyIjogImFsaWNlIn0=.ZVPxAA.kMDYFhvHVLOK6MD71iELqZ-MwJ0=",
		"eyJ1c2VyIjogImFsaWNlIn0=.ZVPxAA.kMDYFhvHVLOK6MD71iELqZ-MwJ",
		"eyJ1c2VyIjogImFsaWNlIn0=.ZVPxAA.kMDYFhvHVLOK6MD71iELqZ-Mw\nJ0",
		"eyJ1c2VyIjogImFsaWNlIn0=.ZVPxAA..kMDYFhvHVLOK6MD71iELqZ-MwJ0",
		"eyJ1c2VyIjogImFsaWNlIn0=.ZVPxAA.kMDYFhvHVLOK6MD71iELqZ+MwJ0",
		"eyJ1c2VyIjogImFsaWNlIn0.ZVPxAA.kMDYFhvHVLOK6MD71iELqZ-MwJ0",
	} {
		_, _, err := c.Open(v)
		wantErr(t, err, sealed.ErrMalformed, sealed.ErrInvalid)
	}
	_, _, err := c.Open("")
	wantErr(t, err, sealed.ErrMalformed)
	_, _, err = c.Open("null")
	wantErr(t, err, sealed.ErrMalformed)
}

// Validly signed values whose content is bad: only a key holder can make
// these, but Open must still reject them cleanly.
func TestSignedButMalformed(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for name, payload := range map[string]string{
		"not base64":    "%%%%",
		"unpadded":      strings.TrimRight(b64(`{"a":1}`), "="),
		"url alphabet":  "-_-_",
		"newline":       b64(`{"a":1}`)[:4] + "\n" + b64(`{"a":1}`)[4:],
		"bad json":      b64(`{"a":`),
		"trailing":      b64(`{"a":1} x`),
		"array":         b64(`[1]`),
		"string":        b64(`"s"`),
		"null":          b64(`null`),
		"NaN":           b64(`{"a": NaN}`),
		"bad utf8":      b64("{\"a\":\"\xff\"}"),
		"deep":          b64(`{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + "}"),
		"empty payload": "",
	} {
		_, _, err := c.Open(signRaw(t, c, payload, vecTS))
		if !errors.Is(err, sealed.ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
	// Bad timestamps under a valid signature: longer than 8 bytes, over
	// MaxInt64, not base64url.
	for _, ts := range []string{"AAAAAAAAAAAA", "gAAAAAAAAAA", "A", "!", "ZVPx=A"} {
		_, _, err := c.Open(signTS(c, b64(`{"a":1}`), ts))
		if !errors.Is(err, sealed.ErrMalformed) {
			t.Errorf("timestamp %q: got %v, want ErrMalformed", ts, err)
		}
	}
	// An empty timestamp is 0, as in itsdangerous.
	if _, issued, err := newCodec(t, vecSecret, Options{MaxAge: -1}).Open(signTS(c, b64(`{"a":1}`), "")); err != nil || issued.Unix() != 0 {
		t.Errorf("empty timestamp: %v, %v", issued, err)
	}
}

// signTS signs payload "." ts with an arbitrary timestamp text.
func signTS(c *Codec, payload, ts string) string {
	m := hmac.New(sha1.New, c.signer.Keys[0])
	m.Write([]byte(payload + "." + ts))
	return payload + "." + ts + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestSeal(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	for _, in := range []string{"", "null", "[]", `"s"`, "1", `{"a":`, `{"a":1}{}`, "{\"a\":\"\xff\"}"} {
		_, err := c.Seal([]byte(in))
		wantErr(t, err, sealed.ErrMalformed)
	}
	neg := newCodec(t, vecSecret, Options{Now: at(-1)})
	if _, err := neg.Seal([]byte(`{}`)); err == nil {
		t.Error("Seal before 1970: no error")
	}
	zero := newCodec(t, vecSecret, Options{Now: at(0), MaxAge: -1})
	v, err := zero.Seal([]byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, issued, err := zero.Open(v); err != nil || issued.Unix() != 0 {
		t.Errorf("timestamp 0: %v %v", issued, err)
	}
}

func TestNew(t *testing.T) {
	for name, tc := range map[string]struct {
		secret string
		opts   Options
	}{
		"empty secret":   {"", Options{}},
		"sub-second age": {"k", Options{MaxAge: 500 * time.Millisecond}},
		"negative len":   {"k", Options{MaxLen: -1}},
	} {
		if c, err := New(tc.secret, tc.opts); err == nil || c != nil {
			t.Errorf("%s: New = %v, %v; want an error", name, c, err)
		}
	}
}

func FuzzOpen(f *testing.F) {
	f.Add(vecValue)
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJ1c2VyIjogImFsaWNlIn0=.ZVPxAA.kMDYFhvHVLOK6MD71iELqZ-MwJ0=")
	c := newCodec(f, vecSecret, Options{Now: at(vecTS)})
	f.Fuzz(func(t *testing.T, v string) {
		p, issued, err := c.Open(v)
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(p, &m); err != nil {
			t.Fatalf("Open returned non-object %q: %v", p, err)
		}
		if issued.Unix() != vecTS {
			t.Fatalf("issued %v", issued)
		}
		again, err := c.Seal(p)
		if err != nil {
			t.Fatalf("Seal(Open(v)): %v", err)
		}
		p2, _, err := c.Open(again)
		if err != nil || string(p2) != string(p) {
			t.Fatalf("Open(Seal(%s)) = %s, %v", p, p2, err)
		}
	})
}

// FuzzOpenSigned fuzzes what lies behind a valid signature (base64, zlib,
// JSON, tags), which FuzzOpen rarely reaches.
func FuzzOpenSigned(f *testing.F) {
	c := newCodec(f, vecSecret, Options{Now: at(vecTS)})
	for _, s := range []string{`{"user":"alice"}`, `{"a":[1,{"b":null}],"c":"\u00e9"}`, `[1]`, `{"x":{" t":[1]}}`, `{"x":{" di":{" b__":"y"}}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, js string) {
		for _, payload := range payloadsFor(js) {
			p, _, err := c.Open(signTS(c, payload, "ZVPxAA"))
			if err != nil {
				if !errors.Is(err, sealed.ErrMalformed) && !errors.Is(err, sealed.ErrTooLarge) {
					t.Fatalf("signed payload %q: %v", payload, err)
				}
				continue
			}
			again, err := c.Seal(p)
			if err != nil {
				if errors.Is(err, sealed.ErrTooLarge) {
					continue // re-encoding may grow it (ASCII escapes)
				}
				t.Fatalf("Seal(Open(v)) of %s: %v", p, err)
			}
			p2, _, err := c.Open(again)
			if err != nil || string(p2) != string(p) {
				t.Fatalf("Open(Seal(%s)) = %s, %v", p, p2, err)
			}
		}
	})
}

// payloadsFor returns the signed-part payloads to try for fuzzed input: the
// JSON as Starlette encodes it, and the input itself as raw payload text.
func payloadsFor(js string) []string {
	return []string{base64.StdEncoding.EncodeToString([]byte(js)), js}
}
