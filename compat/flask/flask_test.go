package flask

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/internal/compattest"
	"github.com/sealedcookie/sealed/compat/internal/itsdangerous"
	"github.com/sealedcookie/sealed/compat/internal/pyjson"
)

const vecValue = "eyJ1c2VyIjoiYWxpY2UifQ.ZVPxAA.uUhuIpOZ_RbBZ4ImWrqwftflJck"

const (
	vecSecret = compattest.VectorSecret
	vecTS     = compattest.VectorTS
	vecTSText = compattest.VectorTSText
)

var at = compattest.At

// suite is the tests Flask's codec shares with Starlette's.
var suite = compattest.Suite[*Codec]{
	New:           func(secret string, opts itsdangerous.Options) (*Codec, error) { return New(secret, Options(opts)) },
	Key:           func(c *Codec) []byte { return c.core.Signer.Keys[0] },
	Vector:        vecValue,
	DefaultMaxAge: DefaultMaxAge,
	DefaultMaxLen: DefaultMaxLen,
	// The JSON plain and compressed, as itsdangerous encodes it, and the
	// input itself as raw payload text.
	Payloads: func(js string) []string { return []string{b64(js), zb64([]byte(js)), js} },
	// Seal writes keys sorted, as Flask does; Open keeps the cookie's order.
	Canonical: sortedJSON,
	Seeds:     []string{".eJyrVkrKTFeyUkqkMlCqBQDSDyE9.ZVPxAA.FPIQIN-sNFVSXLmPuQ2zdVOXI6Y"},
}

func TestSuite(t *testing.T) { suite.Test(t) }

func FuzzOpen(f *testing.F) { suite.FuzzOpen(f) }

func FuzzOpenSigned(f *testing.F) { suite.FuzzOpenSigned(f) }

func newCodec(t testing.TB, secret string, opts Options, fallbacks ...string) *Codec {
	t.Helper()
	c, err := New(secret, opts, fallbacks...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signTS signs payload "." ts with an arbitrary payload and timestamp text,
// as a holder of the key could.
func signTS(c *Codec, payload, ts string) string {
	return compattest.SignTS(c.core.Signer.Keys[0], payload, ts)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func zb64(b []byte) string {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return "." + base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

func TestSealWritesFlaskJSON(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	in := `{"b":1,"a":{"z":[1,2.5,null,true,false]},"é":"\u2028😀` + "\x7f" + `<>&/\"\\\n\t\b\f\u0001","b":2}`
	// Python: json.dumps(json.loads(in), separators=(",", ":"), sort_keys=True)
	want := `{"a":{"z":[1,2.5,null,true,false]},"b":2,"\u00e9":"\u2028\ud83d\ude00\u007f<>&/\"\\\n\t\b\f\u0001"}`
	v, err := c.Seal([]byte(in))
	if err != nil || v[0] == '.' {
		t.Fatalf("Seal = %s, %v; want it uncompressed", v, err)
	}
	if js := sealedJSON(t, v); string(js) != want {
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
	if v, err = c.Seal([]byte(`{"a":"aaaaaaaa"}`)); err != nil || v[0] == '.' {
		t.Errorf("short payload: %s, %v; want it sealed uncompressed", v, err)
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
	v, err := old.Seal([]byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cur.Open(v); err != nil {
		t.Errorf("fallback not accepted: %v", err)
	}
	w, err := cur.Seal([]byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := newCodec(t, "new", Options{Now: at(vecTS)}).Open(w); err != nil {
		t.Errorf("Seal did not use the current secret: %v", err)
	}
	_, _, err = old.Open(w)
	compattest.WantErr(t, err, sealed.ErrInvalid)
	_, _, err = newCodec(t, "new", Options{Now: at(vecTS)}).Open(v)
	compattest.WantErr(t, err, sealed.ErrInvalid)
	if _, err := New("new", Options{}, "ok", ""); err == nil {
		t.Error("empty fallback accepted")
	}
}

// TestTooLarge checks the bounds that compression brings: MaxLen for what
// does not compress, MaxDecompressed for what does.
func TestTooLarge(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	// Incompressible data over MaxLen.
	var noise strings.Builder
	h := sha256.Sum256(nil)
	for noise.Len() < 8000 {
		h = sha256.Sum256(h[:])
		noise.WriteString(hex.EncodeToString(h[:]))
	}
	_, err := c.Seal([]byte(`{"x":"` + noise.String() + `"}`))
	compattest.WantErr(t, err, sealed.ErrTooLarge)
	// JSON over MaxDecompressed, even though it would compress to fit.
	big := newCodec(t, vecSecret, Options{Now: at(vecTS), MaxLen: 1 << 20})
	_, err = big.Seal([]byte(`{"x":"` + strings.Repeat("a", MaxDecompressed) + `"}`))
	compattest.WantErr(t, err, sealed.ErrTooLarge)
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
	compattest.WantErr(t, err, sealed.ErrTooLarge)

	// Exactly MaxDecompressed inflates; one byte more does not.
	pad := MaxDecompressed - len(`{"a":1}`)
	p, _, err := c.Open(signTS(c, zb64([]byte(`{"a":1`+strings.Repeat(" ", pad)+`}`)), vecTSText))
	if err != nil || string(p) != `{"a":1}` {
		t.Errorf("MaxDecompressed JSON: %s, %v", p, err)
	}
	_, _, err = c.Open(signTS(c, zb64([]byte(`{"a":1`+strings.Repeat(" ", pad+1)+`}`)), vecTSText))
	compattest.WantErr(t, err, sealed.ErrTooLarge)

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

// TestSignedButMalformed signs payloads that are not base64url, as a
// holder of the key could (the suite signs JSON that is not a session).
func TestSignedButMalformed(t *testing.T) {
	c := newCodec(t, vecSecret, Options{Now: at(vecTS)})
	for name, payload := range map[string]string{
		"not base64":   "%%%%",
		"padded":       b64(`{"a":1}`) + "=",
		"std alphabet": "++//",
		"newline":      b64(`{"a":1}`)[:4] + "\n" + b64(`{"a":1}`)[4:],
	} {
		_, _, err := c.Open(signTS(c, payload, vecTSText))
		if !errors.Is(err, sealed.ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

// sortedJSON rewrites a JSON object compactly with its keys sorted.
func sortedJSON(t testing.TB, b []byte) string {
	t.Helper()
	v, err := pyjson.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return string(v.Append(nil, pyjson.Style{ItemSep: ",", KeySep: ":", SortKeys: true}))
}
