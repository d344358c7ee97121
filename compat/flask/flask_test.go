package flask

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/internal/pyjson"
)

const (
	vecSecret = "secret-key"
	vecTS     = 1700000000
	vecValue  = "eyJ1c2VyIjoiYWxpY2UifQ.ZVPxAA.uUhuIpOZ_RbBZ4ImWrqwftflJck"
)

var sentinels = []error{sealed.ErrMalformed, sealed.ErrInvalid, sealed.ErrExpired, sealed.ErrTooLarge}

func at(sec int64) func() time.Time { return func() time.Time { return time.Unix(sec, 0) } }

func newCodec(t testing.TB, secret string, opts Options, fallbacks ...string) *Codec {
	t.Helper()
	c, err := New(secret, opts, fallbacks...)
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

// signTS signs payload "." ts with an arbitrary payload and timestamp text,
// as a holder of the key could.
func signTS(c *Codec, payload, ts string) string {
	m := hmac.New(sha1.New, c.signer.Keys[0])
	m.Write([]byte(payload + "." + ts))
	return payload + "." + ts + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

const vecTSText = "ZVPxAA"

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func zb64(b []byte) string {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return "." + base64.RawURLEncoding.EncodeToString(buf.Bytes())
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

func TestSealWritesFlaskJSON(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	in := `{"b":1,"a":{"z":[1,2.5,null,true,false]},"é":"\u2028😀` + "\x7f" + `<>&/\"\\\n\t\b\f\u0001","b":2}`
	// Python: json.dumps(json.loads(in), separators=(",", ":"), sort_keys=True)
	want := `{"a":{"z":[1,2.5,null,true,false]},"b":2,"\u00e9":"\u2028\ud83d\ude00\u007f<>&/\"\\\n\t\b\f\u0001"}`
	v, err := c.Seal([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if v[0] == '.' {
		t.Fatalf("compressed: %s", v)
	}
	js, err := base64.RawURLEncoding.DecodeString(strings.SplitN(v, ".", 2)[0])
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
	if want := `{"a":{"z":[1,2.5,null,true,false]},"b":2,"é":"` + "\u2028😀\x7f" + `<>&/\"\\\n\t\b\f\u0001"}`; string(p) != want {
		t.Errorf("Open = %s\nwant   %s", p, want)
	}
}

// sealedJSON returns the JSON inside a sealed value, inflating it if need be.
func sealedJSON(t *testing.T, v string) []byte {
	t.Helper()
	data := v[:strings.LastIndexByte(v[:strings.LastIndexByte(v, '.')], '.')]
	compressed := strings.HasPrefix(data, ".")
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(data, "."))
	if err != nil {
		t.Fatal(err)
	}
	if compressed {
		r, err := zlib.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(r); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func TestCompression(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	in := `{"big":"` + strings.Repeat("abc", 2000) + `"}`
	v, err := c.Seal([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if v[0] != '.' || len(v) > 200 {
		t.Fatalf("not compressed: %d bytes", len(v))
	}
	p, _, err := c.Open(v)
	if err != nil || string(p) != in {
		t.Fatalf("Open = %.40s..., %v", p, err)
	}
	// Short payloads stay uncompressed (zlib would not be shorter).
	v, _ = c.Seal([]byte(`{"a":"aaaaaaaa"}`))
	if v[0] == '.' {
		t.Errorf("short payload compressed: %s", v)
	}
}

func TestTags(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	for _, tc := range []struct{ in, want string }{
		{`{"t":{" t":[1,"a",{" t":[2]}]}}`, `{"t":[1,"a",[2]]}`},
		{`{"b":{" b":"AP9oaQ=="}}`, `{"b":"AP9oaQ=="}`},
		{`{"d":{" d":"Wed, 21 Oct 2015 07:28:00 GMT"}}`, `{"d":"2015-10-21T07:28:00Z"}`},
		{`{"d":{" d":"Wed, 21 Oct 2015 09:28:00 +0200"}}`, `{"d":"2015-10-21T07:28:00Z"}`},
		{`{"d":{" d":"not a date"}}`, `{"d":null}`},
		{`{"u":{" u":"12345678123456781234567812345678"}}`, `{"u":"12345678-1234-5678-1234-567812345678"}`},
		{`{"u":{" u":"urn:uuid:{ABCDEF00-1234-5678-1234-567812345678}"}}`, `{"u":"abcdef00-1234-5678-1234-567812345678"}`},
		{`{"m":{" m":"<b>x</b>"}}`, `{"m":"<b>x</b>"}`},
		{`{"x":{" di":{" t__":"y"}}}`, `{"x":{" t":"y"}}`},
		{`{"x":{" di":{" di__":{" t":[1]}}}}`, `{"x":{" di":[1]}}`},
		{`{"x":{" di":{"a":1,"b":2}}}`, `{"x":{"":1}}`}, // TagDict keeps the first key minus 2 chars
		{`{"x":{" di":{"é☃__":1}}}`, `{"x":{"é☃":1}}`},
		{`{"x":{" od":[1]}}`, `{"x":{" od":[1]}}`}, // unknown tags stay
		{`{"x":{" t":[1],"y":2}}`, `{"x":{" t":[1],"y":2}}`},
	} {
		p, _, err := c.Open(signTS(c, b64(tc.in), vecTSText))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if string(p) != tc.want {
			t.Errorf("Open(%s) = %s, want %s", tc.in, p, tc.want)
		}
	}
	for _, in := range []string{
		`{" t":[1]}`, // the session resolves to an array
		`{"t":{" t":"abc"}}`,
		`{"b":{" b":"AP9oaQ"}}`,
		`{"b":{" b":1}}`,
		`{"u":{" u":"1234"}}`,
		`{"u":{" u":"1234567812345678123456781234567g"}}`,
		`{"m":{" m":[]}}`,
		`{"d":{" d":1}}`,
		`{"x":{" di":{}}}`,
		`{"x":{" di":"s"}}`,
		`{"x":{" di":{" t":[1]}}}`,
	} {
		_, _, err := c.Open(signTS(c, b64(in), vecTSText))
		if !errors.Is(err, sealed.ErrMalformed) {
			t.Errorf("Open(%s): got %v, want ErrMalformed", in, err)
		}
	}
}

func TestSealEscapesTagKeys(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	in := `{"x":{" t":{" b":"y"}},"l":[{" di":1},{" t":1,"k":2}]}`
	v, err := c.Seal([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	js := sealedJSON(t, v)
	// Python: session_json_serializer.dumps(json.loads(in)) in an app context
	want := `{"l":[{" di":{" di__":1}},{" t":1,"k":2}],"x":{" di":{" t__":{" di":{" b__":"y"}}}}}`
	if string(js) != want {
		t.Errorf("sealed JSON\n got %s\nwant %s", js, want)
	}
	p, _, err := c.Open(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"l":[{" di":1},{" t":1,"k":2}],"x":{" t":{" b":"y"}}}`; string(p) != want {
		t.Errorf("Open = %s, want %s", p, want)
	}
}

func TestFallbacks(t *testing.T) {
	old := newCodec(t, "old", Options{Now: at(vecTS)})
	cur := newCodec(t, "new", Options{Now: at(vecTS)}, "older", "old")
	v, _ := old.Seal([]byte(`{"a":1}`))
	if _, _, err := cur.Open(v); err != nil {
		t.Errorf("fallback not accepted: %v", err)
	}
	w, _ := cur.Seal([]byte(`{"a":1}`))
	if _, _, err := newCodec(t, "new", Options{Now: at(vecTS)}).Open(w); err != nil {
		t.Errorf("Seal did not use the current secret: %v", err)
	}
	_, _, err := old.Open(w)
	wantErr(t, err, sealed.ErrInvalid)
	_, _, err = newCodec(t, "new", Options{Now: at(vecTS)}).Open(v)
	wantErr(t, err, sealed.ErrInvalid)
	if _, err := New("new", Options{}, "ok", ""); err == nil {
		t.Error("empty fallback accepted")
	}
}

func TestTamper(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	for i := range len(vecValue) {
		for _, r := range "AZaz09-_" {
			if byte(r) == vecValue[i] {
				continue
			}
			v := vecValue[:i] + string(r) + vecValue[i+1:]
			_, _, err := c.Open(v)
			if vecValue[i] == '.' || i == len(vecValue)-1 {
				wantErr(t, err, sealed.ErrInvalid, sealed.ErrMalformed)
			} else {
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
	days31 := int64(31 * 24 * 3600)
	for _, tc := range []struct {
		maxAge time.Duration
		now    int64
		ok     bool
	}{
		{0, vecTS, true},
		{0, vecTS + days31, true},
		{0, vecTS + days31 + 1, false},
		{0, vecTS - 1, false}, // signed in the future
		{time.Hour, vecTS + 3600, true},
		{time.Hour, vecTS + 3601, false},
		{-1, vecTS + 100*days31, true},
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
	c := newCodec(t, "other", Options{Now: at(vecTS + 10*days31)})
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
	// Incompressible data over MaxLen.
	var noise strings.Builder
	h := sha256.Sum256(nil)
	for noise.Len() < 8000 {
		h = sha256.Sum256(h[:])
		noise.WriteString(hex.EncodeToString(h[:]))
	}
	_, err = c.Seal([]byte(`{"x":"` + noise.String() + `"}`))
	wantErr(t, err, sealed.ErrTooLarge)
	// JSON over MaxDecompressed, even though it would compress to fit.
	big := newCodec(t, vecSecret, Options{Now: at(vecTS), MaxLen: 1 << 20})
	_, err = big.Seal([]byte(`{"x":"` + strings.Repeat("a", MaxDecompressed) + `"}`))
	wantErr(t, err, sealed.ErrTooLarge)
}

func TestZlib(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	// A bomb: 64 MiB of zeros compresses to about 64 KiB; 1 MiB of JSON
	// whitespace to about 1 KiB, which fits in a cookie.
	bomb := zb64([]byte(`{"a":1` + strings.Repeat(" ", 1<<20) + `}`))
	if len(bomb) > 3000 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	_, _, err := c.Open(signTS(c, bomb, vecTSText))
	wantErr(t, err, sealed.ErrTooLarge)

	// Exactly MaxDecompressed inflates; one byte more does not.
	pad := MaxDecompressed - len(`{"a":1}`)
	p, _, err := c.Open(signTS(c, zb64([]byte(`{"a":1`+strings.Repeat(" ", pad)+`}`)), vecTSText))
	if err != nil || string(p) != `{"a":1}` {
		t.Errorf("MaxDecompressed JSON: %s, %v", p, err)
	}
	_, _, err = c.Open(signTS(c, zb64([]byte(`{"a":1`+strings.Repeat(" ", pad+1)+`}`)), vecTSText))
	wantErr(t, err, sealed.ErrTooLarge)

	full := zb64([]byte(`{"a":1}`))
	for name, payload := range map[string]string{
		"not zlib":  "." + b64(`{"a":1}`),
		"truncated": full[:len(full)-3],
		"bad sum":   full[:len(full)-1] + string(full[len(full)-1]^1),
		"empty":     ".",
		"two dots":  "." + full,
	} {
		_, _, err := c.Open(signTS(c, payload, vecTSText))
		if !errors.Is(err, sealed.ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

func TestGarbage(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	for _, v := range []string{
		"", ".", "..", "...", "null", "a.b", "a.b.c", "{}", "\x00\xff.\n.\r",
		vecValue + "=", vecValue[:len(vecValue)-1], vecValue + ".",
		strings.Replace(vecValue, "Jck", "J\nck", 1),
		strings.Replace(vecValue, ".ZVPxAA.", ".ZVPxAA..", 1),
		strings.Replace(vecValue, "_", "/", 1),
	} {
		_, _, err := c.Open(v)
		wantErr(t, err, sealed.ErrMalformed, sealed.ErrInvalid)
	}
	_, _, err := c.Open("")
	wantErr(t, err, sealed.ErrMalformed)
}

func TestSignedButMalformed(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	for name, payload := range map[string]string{
		"not base64":    "%%%%",
		"padded":        b64(`{"a":1}`) + "=",
		"std alphabet":  "++//",
		"newline":       b64(`{"a":1}`)[:4] + "\n" + b64(`{"a":1}`)[4:],
		"bad json":      b64(`{"a":`),
		"trailing":      b64(`{"a":1} x`),
		"array":         b64(`[1]`),
		"null":          b64(`null`),
		"NaN":           b64(`{"a":NaN}`),
		"bad utf8":      b64("{\"a\":\"\xff\"}"),
		"deep":          b64(`{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + "}"),
		"empty payload": "",
	} {
		_, _, err := c.Open(signTS(c, payload, vecTSText))
		if !errors.Is(err, sealed.ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
	for _, ts := range []string{"AAAAAAAAAAAA", "gAAAAAAAAAA", "A", "!", "ZVPx=A"} {
		_, _, err := c.Open(signTS(c, b64(`{"a":1}`), ts))
		if !errors.Is(err, sealed.ErrMalformed) {
			t.Errorf("timestamp %q: got %v, want ErrMalformed", ts, err)
		}
	}
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
	f.Add(".eJyrVkrKTFeyUkqkMlCqBQDSDyE9.ZVPxAA.FPIQIN-sNFVSXLmPuQ2zdVOXI6Y")
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
			// Seal writes keys sorted, as Flask does; Open keeps the
			// cookie's order.
			p2, _, err := c.Open(again)
			if err != nil || sortedJSON(t, p2) != sortedJSON(t, p) {
				t.Fatalf("Open(Seal(%s)) = %s, %v", p, p2, err)
			}
		}
	})
}

// sortedJSON rewrites a JSON object compactly with its keys sorted.
func sortedJSON(t *testing.T, b []byte) string {
	t.Helper()
	v, err := pyjson.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return string(v.Append(nil, pyjson.Style{ItemSep: ",", KeySep: ":", SortKeys: true}))
}

// payloadsFor returns the signed-part payloads to try for fuzzed input: the
// JSON plain and compressed as itsdangerous encodes it, and the input
// itself as raw payload text.
func payloadsFor(js string) []string {
	return []string{b64(js), zb64([]byte(js)), js}
}
