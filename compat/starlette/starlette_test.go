package starlette

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/internal/compattest"
	"github.com/sealedcookie/sealed/compat/internal/itsdangerous"
)

const vecValue = "eyJ1c2VyIjogImFsaWNlIn0=.ZVPxAA.kMDYFhvHVLOK6MD71iELqZ-MwJ0"

var at = compattest.At

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// suite is the tests Starlette's codec shares with Flask's.
var suite = compattest.Suite[*Codec]{
	New:           func(secret string, opts itsdangerous.Options) (*Codec, error) { return New(secret, Options(opts)) },
	Key:           func(c *Codec) []byte { return c.core.Signer.Keys[0] },
	Vector:        vecValue,
	DefaultMaxAge: DefaultMaxAge,
	DefaultMaxLen: DefaultMaxLen,
	// The JSON as Starlette encodes it, and the input itself as raw
	// payload text.
	Payloads: func(js string) []string { return []string{b64(js), js} },
	Seeds:    []string{vecValue + "="},
}

func TestSuite(t *testing.T) { suite.Test(t) }

func FuzzOpen(f *testing.F) { suite.FuzzOpen(f) }

func FuzzOpenSigned(f *testing.F) { suite.FuzzOpenSigned(f) }

func newCodec(t testing.TB, secret string, opts Options) *Codec {
	t.Helper()
	return suite.Codec(t, secret, itsdangerous.Options(opts))
}

func TestSealWritesPythonJSON(t *testing.T) {
	c := newCodec(t, compattest.VectorSecret, Options{Now: at(compattest.VectorTS)})
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

// TestTooLarge seals a session over MaxLen (the suite checks Open's bound).
func TestTooLarge(t *testing.T) {
	c := newCodec(t, compattest.VectorSecret, Options{Now: at(compattest.VectorTS)})
	_, err := c.Seal([]byte(`{"x":"` + strings.Repeat("x", DefaultMaxLen) + `"}`))
	compattest.WantErr(t, err, sealed.ErrTooLarge)
}

// TestSignedButMalformed signs payloads that are not padded standard
// base64, as a holder of the key could (the suite signs JSON that is not a
// session).
func TestSignedButMalformed(t *testing.T) {
	c := newCodec(t, compattest.VectorSecret, Options{Now: at(compattest.VectorTS)})
	for name, payload := range map[string]string{
		"not base64":   "%%%%",
		"unpadded":     strings.TrimRight(b64(`{"a":1}`), "="),
		"url alphabet": "-_-_",
		"newline":      b64(`{"a":1}`)[:4] + "\n" + b64(`{"a":1}`)[4:],
	} {
		_, _, err := c.Open(compattest.SignTS(c.core.Signer.Keys[0], payload, compattest.VectorTSText))
		if !errors.Is(err, sealed.ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}
