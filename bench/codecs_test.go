package bench

// BenchmarkCodecs: one run measures every codec of ours and every peer on
// the same sessions, so ratios hold on a noisy machine:
//
//	cd bench && go test -run '^$' -bench Codecs -count 6 -timeout 60m | tee /tmp/codecs.txt
//	benchstat -col /op /tmp/codecs.txt
//
// docs/CODECS.md has the tables and the chart these produce.

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/gorilla/securecookie"
	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/codec/cbor"
	"github.com/sealedcookie/sealed/codec/msgpack"
	"github.com/sealedcookie/sealed/sealedtest"
	"golang.org/x/crypto/chacha20poly1305"
)

func init() {
	// msgpack decodes times in time.Local; compare sessions in UTC.
	time.Local = time.UTC
}

const cookieName = "session"

// A contender turns a session into a cookie value and back.
type contender[T any] struct {
	name   string
	encode func(*T) (string, error)
	decode func(string, *T) error
}

func key32(fill byte) []byte { return bytes.Repeat([]byte{fill}, 32) }

func newSealer(tb testing.TB) *sealed.Sealer {
	return sealed.NewSealer(sealedtest.NewKeyRing(tb, "k1"))
}

func typed[T any](name string, s *sealed.Sealer, c sealed.Codec[T]) contender[T] {
	t := sealed.NewTyped(s, c)
	exp := time.Now().Add(24 * time.Hour)
	return contender[T]{
		name:   name,
		encode: func(v *T) (string, error) { return t.Seal(cookieName, v, exp) },
		decode: func(s string, v *T) (err error) { *v, _, err = t.Open(cookieName, s); return err },
	}
}

// gorilla is gorilla/securecookie as gorilla/sessions' CookieStore sets it
// up (a hash key and an AES-256 block key), with its gob (default) or JSON
// serializer. The length limit is lifted so the large gob session is
// measured rather than refused; its length is reported either way.
func gorilla[T any](name string, ser securecookie.Serializer) contender[T] {
	sc := securecookie.New(key32(2), key32(3))
	sc.SetSerializer(ser)
	sc.MaxLength(0)
	return contender[T]{
		name:   name,
		encode: func(v *T) (string, error) { return sc.Encode(cookieName, v) },
		decode: func(s string, v *T) error { return sc.Decode(cookieName, s, v) },
	}
}

// joseJWE is a compact JWE with "dir" key management and A256GCM, the
// payload being the session's JSON (Auth.js/NextAuth's layout).
func joseJWE[T any](tb testing.TB) contender[T] {
	key := key32(4)
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: key}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return contender[T]{
		name: "jose-jwe",
		encode: func(v *T) (string, error) {
			pt, err := json.Marshal(v)
			if err != nil {
				return "", err
			}
			obj, err := enc.Encrypt(pt)
			if err != nil {
				return "", err
			}
			return obj.CompactSerialize()
		},
		decode: func(s string, v *T) error {
			obj, err := jose.ParseEncryptedCompact(s, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
			if err != nil {
				return err
			}
			pt, err := obj.Decrypt(key)
			if err != nil {
				return err
			}
			return json.Unmarshal(pt, v)
		},
	}
}

// floor does only what any encrypted JSON cookie must: json.Marshal, a
// random nonce, XChaCha20-Poly1305 and one base64url pass, and back. No
// header, no key ID, no expiry, no name binding, no bounds.
func floor[T any](tb testing.TB) contender[T] {
	aead, err := chacha20poly1305.NewX(key32(5))
	if err != nil {
		tb.Fatal(err)
	}
	const ns = chacha20poly1305.NonceSizeX
	return contender[T]{
		name: "floor",
		encode: func(v *T) (string, error) {
			pt, err := json.Marshal(v)
			if err != nil {
				return "", err
			}
			out := make([]byte, ns, ns+len(pt)+chacha20poly1305.Overhead)
			rand.Read(out)
			out = aead.Seal(out, out, pt, nil)
			return base64.RawURLEncoding.EncodeToString(out), nil
		},
		decode: func(s string, v *T) error {
			raw, err := base64.RawURLEncoding.DecodeString(s)
			if err != nil {
				return err
			}
			pt, err := aead.Open(raw[ns:ns], raw[:ns], raw[ns:], nil)
			if err != nil {
				return err
			}
			return json.Unmarshal(pt, v)
		},
	}
}

func contenders[T any](tb testing.TB, large bool) []contender[T] {
	s := newSealer(tb)
	var cs []contender[T]
	cs = append(cs, typed("sealed-json", s, sealed.JSON[T]()))
	if large {
		z := newSealer(tb)
		z.CompressAbove = 512
		cs = append(cs, typed("sealed-json-deflate", z, sealed.JSON[T]()))
	}
	cs = append(cs,
		typed("sealed-gob", s, sealed.Gob[T]()),
		binaryContender[T](s),
		typed("sealed-cbor", s, cbor.Codec[T]()),
		typed("sealed-msgpack", s, msgpack.Codec[T]()),
		gorilla[T]("gorilla-gob", securecookie.GobEncoder{}),
		gorilla[T]("gorilla-json", securecookie.JSONEncoder{}),
		joseJWE[T](tb),
		floor[T](tb),
	)
	// The other Go JSON libraries, sealed exactly like sealed-json.
	for _, p := range JSONPeers[T]() {
		cs = append(cs, typed("json-"+p.Name, s, p.Codec))
	}
	return cs
}

// binaryContender seals T through the type with the same layout that has
// the binary methods (SmallBin for Small, LargeBin for Large); the pointer
// conversions cost nothing.
func binaryContender[T any](s *sealed.Sealer) contender[T] {
	var c any
	switch any((*T)(nil)).(type) {
	case *Small:
		b := typed("sealed-binary", s, sealed.Binary[SmallBin]())
		c = contender[Small]{
			name:   b.name,
			encode: func(v *Small) (string, error) { return b.encode((*SmallBin)(v)) },
			decode: func(s string, v *Small) error { return b.decode(s, (*SmallBin)(v)) },
		}
	case *Large:
		b := typed("sealed-binary", s, sealed.Binary[LargeBin]())
		c = contender[Large]{
			name:   b.name,
			encode: func(v *Large) (string, error) { return b.encode((*LargeBin)(v)) },
			decode: func(s string, v *Large) error { return b.decode(s, (*LargeBin)(v)) },
		}
	}
	return c.(contender[T])
}

// TestContenders checks that every contender round-trips both sessions
// exactly, so the benchmarks measure working code.
func TestContenders(t *testing.T) {
	small, large := NewSmall(), NewLarge()
	check(t, &small, contenders[Small](t, false))
	check(t, &large, contenders[Large](t, true))
}

func check[T any](t *testing.T, in *T, cs []contender[T]) {
	for _, c := range cs {
		v, err := c.encode(in)
		if err != nil {
			t.Fatalf("%s: encode: %v", c.name, err)
		}
		var out T
		if err := c.decode(v, &out); err != nil {
			t.Fatalf("%s: decode: %v", c.name, err)
		}
		if !reflect.DeepEqual(normalize(out), normalize(*in)) {
			t.Fatalf("%s: round trip\n got %+v\nwant %+v", c.name, out, *in)
		}
		// A cookie from one contender does not decode in another's
		// place (a sanity check that each decode really verifies).
		end := "AA" // the last two characters, replaced by others
		if strings.HasSuffix(v, end) {
			end = "BB"
		}
		var junk T
		if err := c.decode(v[:len(v)-2]+end, &junk); err == nil {
			t.Fatalf("%s: a value with its end changed decoded", c.name)
		}
	}
}

// normalize makes times comparable with DeepEqual (decoders differ in the
// Location they return).
func normalize[T any](v T) any {
	b, _ := json.Marshal(v)
	var m any
	_ = json.Unmarshal(b, &m)
	return m
}

var sinkString string

func BenchmarkCodecs(b *testing.B) {
	small, large := NewSmall(), NewLarge()
	run(b, "small", &small, contenders[Small](b, false))
	run(b, "large", &large, contenders[Large](b, true))
}

func run[T any](b *testing.B, size string, in *T, cs []contender[T]) {
	for _, c := range cs {
		value, err := c.encode(in)
		if err != nil {
			b.Fatal(err)
		}
		report := func(b *testing.B) {
			b.ReportMetric(float64(len(value)), "cookie-chars")
		}
		b.Run("size="+size+"/impl="+c.name+"/op=encode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkString, _ = c.encode(in)
			}
			report(b)
		})
		b.Run("size="+size+"/impl="+c.name+"/op=decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var out T
				if err := c.decode(value, &out); err != nil {
					b.Fatal(err)
				}
			}
			report(b)
		})
		b.Run("size="+size+"/impl="+c.name+"/op=roundtrip", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v, _ := c.encode(in)
				var out T
				if err := c.decode(v, &out); err != nil {
					b.Fatal(err)
				}
			}
			report(b)
		})
	}
}

// The hand-written binary encodings keep the Codec contract that
// sealed.Binary hands them, and reject another version.
func TestBinaryEncodings(t *testing.T) {
	if err := sealedtest.TestCodec(sealed.Binary[SmallBin](), SmallBin(NewSmall())); err != nil {
		t.Errorf("small: %v", err)
	}
	if err := sealedtest.TestCodec(sealed.Binary[LargeBin](), LargeBin(NewLarge())); err != nil {
		t.Errorf("large: %v", err)
	}
	small, large := SmallBin(NewSmall()), LargeBin(NewLarge())
	for name, v := range map[string]interface {
		AppendBinary([]byte) ([]byte, error)
		UnmarshalBinary([]byte) error
	}{"small": &small, "large": &large} {
		enc, err := v.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.UnmarshalBinary(append([]byte{2}, enc[1:]...)); err == nil {
			t.Fatalf("%s: version 2 accepted", name)
		}
	}
}
