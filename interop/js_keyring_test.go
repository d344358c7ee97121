package interop_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/jwks"
)

// TestKeyRingsAgree: the package's KeyRing.parse and KeyRing.fromJwks
// accept exactly the key rings Go's sealed.ParseKeyRing and jwks.Parse
// accept, with the same IDs and suites in the same order, and their errors
// never quote a secret or a kid.
func TestKeyRingsAgree(t *testing.T) {
	s1 := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("a", 32)))
	s2 := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("b", 32)))
	padded := base64.URLEncoding.EncodeToString([]byte(strings.Repeat("c", 32)))
	short := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("d", 31)))
	badBits := s1[:len(s1)-1] + "B" // the unused low bits of the last character set
	texts := []string{
		"k1:" + s1,
		"k1:" + s1 + ":aes256gcm",
		"k1:" + s1 + ":xchacha20poly1305",
		"k1:" + s1 + ",k2:" + s2 + ":aes256gcm",
		"k1:" + padded,
		"", " ", "k1", ":" + s1, "k 1:" + s1, "k,1:" + s1, "k1:" + s1 + ":aes128gcm",
		"k1:" + s1 + ":aes256gcm:x", "k1:" + short, "k1:" + badBits, "k1:" + s1 + ",k1:" + s2,
		"k1:" + s1 + ",", "k1:" + s1 + "\n", strings.Repeat("x", 65) + ":" + s1,
		strings.Repeat("x", 64) + ":" + s1, "k1:" + s1 + "==", "k1:" + strings.ReplaceAll(s1, "-", "+"),
		"é:" + s1, "k1:" + padded[:len(padded)-1],
	}
	texts = append(texts, trickyKeyRings(s1, s2)...)
	key := func(kid, k string, extra string) string {
		return `{"kty":"oct","kid":` + strconvQuote(kid) + `,"k":"` + k + `"` + extra + `}`
	}
	set := func(keys ...string) string { return `{"keys":[` + strings.Join(keys, ",") + `]}` }
	docs := []string{
		set(key("k1", s1, "")),
		set(key("k1", s1, `,"alg":"XC20P"`)),
		set(key("k1", s1, `,"alg":"dir"`)),
		set(key("k1", s1, `,"alg":"A256GCM","use":"enc"`)),
		set(key("k1", s1, `,"alg":"A256GCM"`), key("k2", s2, `,"alg":"XC20P"`)),
		set(key("k1", padded, "")),
		set(key("k1", s1, `,"alg":null,"use":null,"x5c":["x"],"ext":true`)),
		`{"KEYS":[` + key("k1", s1, "") + `]}`,
		`{"keys":[{"KTY":"oct","Kid":"k1","K":"` + s1 + `","ALG":"A256GCM"}]}`,
		`{"keys":[{"kty":"oct","\u212aid":"k1","k":"` + s1 + `"}]}`,
		`{"keys":[{"kty":"oct","kid":"k1","k":"` + s1 + `","u\u017fe":"enc"}]}`,
		`{"keys":[]}`, `{"keys":null}`, `{}`, `null`, `[]`, `"x"`, `{"keys":{}}`, `{"keys":"x"}`, `{"keys":[null]}`, `{"keys":["x"]}`,
		`{"keys":[` + key("k1", s1, "") + `]`, "\ufeff" + set(key("k1", s1, "")), `{"keys":[` + key("k1", s1, "") + `]} x`,
		set(key("k1", s1, `,"alg":"A128GCM"`)), set(key("k1", s1, `,"use":"sig"`)), set(key("", s1, "")),
		set(key("k 1", s1, "")), set(key(strings.Repeat("x", 65), s1, "")), set(key("k1", short, "")), set(key("k1", badBits, "")),
		set(key("k1", "", "")), set(key("k1", s1, ""), key("k1", s2, "")),
		`{"keys":[{"kid":"k1","k":"` + s1 + `"}]}`, `{"keys":[{"kty":"RSA","kid":"k1","k":"` + s1 + `"}]}`,
		`{"keys":[{"kty":null,"kid":"k1","k":"` + s1 + `"}]}`, `{"keys":[{"kty":"oct","kid":5,"k":"` + s1 + `"}]}`,
		`{"keys":[{"kty":"oct","kid":"k1"}]}`, `{"keys":[{"kty":"oct","k":"` + s1 + `"}]}`,
		set(key("k1", s1, ""), `{"kty":"oct","kid":"k2","k":"`+s2+`","alg":"XC20P","use":"enc"}`),
		`{"keys":[` + key("k1", s1, "") + `],"keys":[` + key("k2", s2, "") + `]}`,
		`{"keys":[` + key("k1", s1, "") + `], "other": {"deep": [1, 2, {"x": null}]}}`,
	}
	type keyringReq struct {
		jsReq
		Text *string `json:"text,omitempty"`
		JWKS *string `json:"jwks,omitempty"`
	}
	var all []keyringReq
	for i := range texts {
		all = append(all, keyringReq{jsReq: jsReq{Op: "keyRing"}, Text: &texts[i]})
	}
	for i := range docs {
		all = append(all, keyringReq{jsReq: jsReq{Op: "keyRing"}, JWKS: &docs[i]})
	}
	var resps []struct {
		Keys []struct {
			ID    string `json:"id"`
			Suite string `json:"suite"`
		} `json:"keys"`
		KeyRingError string `json:"keyRingError"`
	}
	js(t, all, &resps)
	accepted := 0
	for i, r := range all {
		var ring *sealed.KeyRing
		var err error
		input := ""
		if r.Text != nil {
			input = *r.Text
			ring, err = sealed.ParseKeyRing(input)
		} else {
			input = *r.JWKS
			ring, err = jwks.Parse([]byte(input))
		}
		got := resps[i]
		if (err == nil) != (got.KeyRingError == "") {
			t.Errorf("%.80q: Go error %v, JavaScript error %q", input, err, got.KeyRingError)
			continue
		}
		for _, secret := range []string{s1, s2, padded, short, badBits} {
			if got.KeyRingError != "" && strings.Contains(got.KeyRingError, secret[:12]) {
				t.Errorf("%.80q: the JavaScript error quotes a secret: %s", input, got.KeyRingError)
			}
		}
		if strings.Contains(got.KeyRingError, `"k1"`) || strings.Contains(got.KeyRingError, "k 1") {
			t.Errorf("%.80q: the JavaScript error names a kid: %s", input, got.KeyRingError)
		}
		if err != nil {
			continue
		}
		accepted++
		keys := ring.Keys()
		if len(keys) != len(got.Keys) {
			t.Errorf("%.80q: Go %d keys, JavaScript %d", input, len(keys), len(got.Keys))
			continue
		}
		for j, k := range keys {
			if k.ID() != got.Keys[j].ID || k.Suite().String() != got.Keys[j].Suite {
				t.Errorf("%.80q: key %d: Go %s %s, JavaScript %s %s", input, j, k.ID(), k.Suite(), got.Keys[j].ID, got.Keys[j].Suite)
			}
		}
	}
	t.Logf("%d key rings (%d text, %d JWKS), %d accepted", len(all), len(texts), len(docs), accepted)
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
