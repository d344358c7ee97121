package authjs_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/authjs"
	"github.com/sealedcookie/sealed/compat/internal/compattest"
)

// vector is one entry of testdata/vectors.json, written by the real
// JavaScript libraries (node interop/vectors.mjs).
type vector struct {
	Name       string         `json:"name"`
	Version    int            `json:"version"`
	Secrets    []string       `json:"secrets"`
	CookieName string         `json:"cookieName"`
	Now        int64          `json:"now"`
	Claims     map[string]any `json:"claims"`
	Value      string         `json:"value"`
	Cookies    []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"cookies"`
}

func loadVectors(tb testing.TB) map[string]vector {
	tb.Helper()
	return compattest.LoadVectors(tb, func(v vector) string { return v.Name })
}

func fixed(sec int64) func() time.Time { return func() time.Time { return time.Unix(sec, 0) } }

func (v vector) codec(t testing.TB, secrets []string, now int64) *authjs.Codec {
	t.Helper()
	return newCodec(t, v.Version, secrets, authjs.Options{CookieName: v.CookieName, Now: fixed(now)})
}

// newCodec returns a codec of Auth.js (version 5) or NextAuth (4).
func newCodec(t testing.TB, version int, secrets []string, opts authjs.Options) *authjs.Codec {
	t.Helper()
	newCodec := authjs.New
	if version == 4 {
		newCodec = authjs.NewV4
	}
	c, err := newCodec(secrets, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (v vector) request() *http.Request {
	req := httptest.NewRequest("GET", "/", nil)
	if v.Cookies == nil {
		req.AddCookie(&http.Cookie{Name: v.CookieName, Value: v.Value})
	}
	for _, c := range v.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return req
}

func (v vector) joined() string {
	if v.Cookies == nil {
		return v.Value
	}
	var b strings.Builder
	for _, c := range v.Cookies {
		b.WriteString(c.Value)
	}
	return b.String()
}

func claimsEqual(t *testing.T, got []byte, want map[string]any) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatalf("claims %s: %v", got, err)
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("claims = %v, want %v", m, want)
	}
}

func TestVectors(t *testing.T) {
	for name, v := range loadVectors(t) {
		t.Run(name, func(t *testing.T) {
			c := v.codec(t, v.Secrets, v.Now)
			got, err := c.OpenRequest(v.request())
			if strings.HasSuffix(name, "-expired") {
				compattest.WantErr(t, err, sealed.ErrExpired)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			claimsEqual(t, got, v.Claims)
			if v.Claims["sub"] != "user-42" || v.Claims["jti"] == nil {
				t.Fatalf("vector claims lack the user: %v", v.Claims)
			}
			if v.Cookies == nil {
				got2, err := c.Open(v.Value)
				if err != nil {
					t.Fatal(err)
				}
				claimsEqual(t, got2, v.Claims)
			} else if len(v.Cookies) < 2 {
				t.Fatalf("chunked vector has %d cookies", len(v.Cookies))
			}
		})
	}
}

// TestClockTolerance checks the 15 s leeway on exp: exp <= now-15 expires.
func TestClockTolerance(t *testing.T) {
	for _, name := range []string{"v5", "v4"} {
		v := loadVectors(t)[name]
		exp := int64(v.Claims["exp"].(float64))
		if _, err := v.codec(t, v.Secrets, exp+14).Open(v.Value); err != nil {
			t.Errorf("%s at exp+14s: %v", name, err)
		}
		_, err := v.codec(t, v.Secrets, exp+15).Open(v.Value)
		compattest.WantErr(t, err, sealed.ErrExpired)
	}
}

func TestRotation(t *testing.T) {
	v := loadVectors(t)["v5-rotated"]
	// Sealed under the second secret: found by kid.
	if _, err := v.codec(t, []string{"vector-secret-new", "vector-secret-one"}, v.Now).Open(v.Value); err != nil {
		t.Fatal(err)
	}
	_, err := v.codec(t, []string{"vector-secret-new"}, v.Now).Open(v.Value)
	compattest.WantErr(t, err, sealed.ErrUnknownKey)
}

func TestWrongSecret(t *testing.T) {
	vs := loadVectors(t)
	// v5: the kid names another key.
	v := vs["v5"]
	_, err := v.codec(t, []string{"another-secret"}, v.Now).Open(v.Value)
	compattest.WantErr(t, err, sealed.ErrUnknownKey)
	// v4 has no kid: decryption fails.
	v = vs["v4"]
	_, err = v.codec(t, []string{"another-secret"}, v.Now).Open(v.Value)
	compattest.WantErr(t, err, sealed.ErrInvalid)
	// The cookie name is the v5 salt: another name is another key.
	v = vs["v5-secure-name"]
	v.CookieName = authjs.CookieName
	_, err = v.codec(t, v.Secrets, v.Now).Open(v.Value)
	compattest.WantErr(t, err, sealed.ErrUnknownKey)
}

func TestCrossVersion(t *testing.T) {
	vs := loadVectors(t)
	v5, v4 := vs["v5"], vs["v4"]
	// A v5 token (A256CBC-HS512) is not a v4 format.
	c4 := v4.codec(t, v5.Secrets, v5.Now)
	_, err := c4.Open(v5.Value)
	compattest.WantErr(t, err, sealed.ErrMalformed)
	// A v4 token (A256GCM, no kid) does not open under v5's key derivation.
	c5 := v5.codec(t, v4.Secrets, v4.Now)
	_, err = c5.Open(v4.Value)
	compattest.WantErr(t, err, sealed.ErrInvalid)
}

// flip changes the character at i to another base64url character that
// keeps the encoding canonical where possible.
func flip(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

func TestTampered(t *testing.T) {
	for _, name := range []string{"v5", "v4"} {
		v := loadVectors(t)[name]
		c := v.codec(t, v.Secrets, v.Now)
		parts := strings.Split(v.Value, ".")
		for i, wantErrs := range map[int][]error{
			0: {sealed.ErrMalformed, sealed.ErrUnknownKey, sealed.ErrInvalid},
			2: {sealed.ErrInvalid},
			3: {sealed.ErrInvalid},
			4: {sealed.ErrInvalid, sealed.ErrMalformed},
		} {
			p := append([]string(nil), parts...)
			p[i] = flip(p[i], 0)
			_, err := c.Open(strings.Join(p, "."))
			ok := false
			for _, w := range wantErrs {
				ok = ok || errors.Is(err, w)
			}
			if !ok {
				t.Errorf("%s: part %d tampered: err = %v, want one of %v", name, i, err, wantErrs)
			}
		}
		// A tag byte changed in the middle: canonical base64, same length.
		p := append([]string(nil), parts...)
		p[4] = flip(p[4], 5)
		_, err := c.Open(strings.Join(p, "."))
		compattest.WantErr(t, err, sealed.ErrInvalid)
	}
}

func TestBadInput(t *testing.T) {
	v := loadVectors(t)["v5"]
	c := v.codec(t, v.Secrets, v.Now)
	parts := strings.Split(v.Value, ".")
	hdr := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, in := range map[string]string{
		"empty":            "",
		"garbage":          "not a jwe",
		"dots":             "....",
		"six parts":        v.Value + ".x",
		"truncated":        v.Value[:len(v.Value)-1],
		"truncated half":   v.Value[:len(v.Value)/2],
		"no tag":           strings.Join(parts[:4], "."),
		"padded":           v.Value + "==",
		"std base64":       strings.ReplaceAll(v.Value, "-", "+"),
		"header not json":  hdr("{") + "." + strings.Join(parts[1:], "."),
		"header array":     hdr("[]") + "." + strings.Join(parts[1:], "."),
		"header null":      hdr("null") + "." + strings.Join(parts[1:], "."),
		"alg A256KW":       hdr(`{"alg":"A256KW","enc":"A256CBC-HS512"}`) + "." + strings.Join(parts[1:], "."),
		"alg none":         hdr(`{"alg":"none","enc":"A256CBC-HS512"}`) + "." + strings.Join(parts[1:], "."),
		"enc A128GCM":      hdr(`{"alg":"dir","enc":"A128GCM"}`) + "." + strings.Join(parts[1:], "."),
		"zip":              hdr(`{"alg":"dir","enc":"A256CBC-HS512","zip":"DEF"}`) + "." + strings.Join(parts[1:], "."),
		"crit":             hdr(`{"alg":"dir","enc":"A256CBC-HS512","crit":["exp"]}`) + "." + strings.Join(parts[1:], "."),
		"kid number":       hdr(`{"alg":"dir","enc":"A256CBC-HS512","kid":1}`) + "." + strings.Join(parts[1:], "."),
		"ALG uppercase":    hdr(`{"ALG":"dir","enc":"A256CBC-HS512"}`) + "." + strings.Join(parts[1:], "."),
		"encrypted key":    parts[0] + ".AAAA." + strings.Join(parts[2:], "."),
		"short iv":         parts[0] + ".." + parts[2][:8] + "." + strings.Join(parts[3:], "."),
		"empty ciphertext": parts[0] + ".." + parts[2] + ".." + parts[4],
		"invalid utf8":     hdr("{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\",\"x\":\"\xff\"}") + "." + strings.Join(parts[1:], "."),
	} {
		_, err := c.Open(in)
		if !errors.Is(err, sealed.ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

func TestTooLarge(t *testing.T) {
	v := loadVectors(t)["v5"]
	c, err := authjs.New(v.Secrets, authjs.Options{MaxLen: len(v.Value) - 1, Now: fixed(v.Now)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Open(v.Value)
	compattest.WantErr(t, err, sealed.ErrTooLarge)
	_, err = c.Open(strings.Repeat("x", 1<<20))
	compattest.WantErr(t, err, sealed.ErrTooLarge)

	ch := loadVectors(t)["v5-chunked"]
	c, err = authjs.New(ch.Secrets, authjs.Options{MaxLen: len(ch.joined()) - 1, Now: fixed(ch.Now)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.OpenRequest(ch.request())
	compattest.WantErr(t, err, sealed.ErrTooLarge)
	// The default bound admits the vector.
	if _, err := ch.codec(t, ch.Secrets, ch.Now).OpenRequest(ch.request()); err != nil {
		t.Fatal(err)
	}
}

func TestChunks(t *testing.T) {
	v := loadVectors(t)["v5-chunked"]
	c := v.codec(t, v.Secrets, v.Now)
	open := func(cookies ...*http.Cookie) error {
		req := httptest.NewRequest("GET", "/", nil)
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		_, err := c.OpenRequest(req)
		return err
	}
	ck := func(name, value string) *http.Cookie { return &http.Cookie{Name: name, Value: value} }
	n := v.CookieName
	c0, c1, c2 := v.Cookies[0].Value, v.Cookies[1].Value, v.Cookies[2].Value

	// Order in the header does not matter, unrelated cookies are ignored,
	// and the first of duplicate names wins (as the cookie parser Auth.js
	// uses).
	if err := open(ck("other", "x"), ck(n+".2", c2), ck(n+".0", c0), ck(n+".1", c1), ck(n+".1", "junk"), ck(n+"x", "y")); err != nil {
		t.Fatal(err)
	}
	compattest.WantErr(t, open(ck(n+".0", c0), ck(n+".2", c2)), sealed.ErrMalformed) // gap
	compattest.WantErr(t, open(ck(n+".1", c1), ck(n+".2", c2)), sealed.ErrMalformed) // no .0
	compattest.WantErr(t, open(ck(n+".0", c0), ck(n+".1", c1)), sealed.ErrMalformed) // truncated
	compattest.WantErr(t, open(ck(n+".0", c0), ck(n+".01", c1), ck(n+".2", c2)), sealed.ErrMalformed)
	compattest.WantErr(t, open(ck(n, c0+c1+c2), ck(n+".0", c0)), sealed.ErrMalformed)
	if err := open(ck(n, c0+c1+c2)); err != nil {
		t.Fatalf("unchunked: %v", err)
	}
	err := open(ck("other", "x"))
	compattest.WantErr(t, err, sealed.ErrMalformed)
	compattest.WantErr(t, err, http.ErrNoCookie)
	// Swapped chunks: the header or the ciphertext is garbled.
	if err := open(ck(n+".1", c0), ck(n+".0", c1), ck(n+".2", c2)); !errors.Is(err, sealed.ErrMalformed) {
		t.Errorf("swapped 0 and 1: %v", err)
	}
	if err := open(ck(n+".0", c0), ck(n+".2", c1), ck(n+".1", c2)); !errors.Is(err, sealed.ErrMalformed) && !errors.Is(err, sealed.ErrInvalid) {
		t.Errorf("swapped 1 and 2: %v", err)
	}
}

func TestSealRoundTrip(t *testing.T) {
	const now = 1_800_000_000
	for _, version := range []int{5, 4} {
		c := newCodec(t, version, []string{"s1", "s0"}, authjs.Options{Now: fixed(now), MaxAge: time.Hour})
		value, err := c.Seal([]byte(`{"sub":"u1","exp":1,"iat":"x","blob":"` + strings.Repeat("y", 5000) + `"}`))
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Open(value)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(got, &m); err != nil {
			t.Fatal(err)
		}
		if m["sub"] != "u1" || m["iat"] != float64(now) || m["exp"] != float64(now+3600) || len(m["jti"].(string)) != 36 {
			t.Fatalf("claims = %.80v", m)
		}
		// An older secret still opens it when listed after the sealing one.
		if _, err := newCodec(t, version, []string{"s2", "s1"}, authjs.Options{Now: fixed(now)}).Open(value); err != nil {
			t.Fatalf("rotated: %v", err)
		}

		cookies := c.Cookies(value, nil)
		if len(cookies) != 2 || cookies[0].Name != c.CookieName()+".0" || !cookies[0].HttpOnly || cookies[0].MaxAge != 3600 || cookies[0].Secure {
			t.Fatalf("cookies = %v", cookies)
		}
		req := httptest.NewRequest("GET", "/", nil)
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		if _, err := c.OpenRequest(req); err != nil {
			t.Fatal(err)
		}
		// Shrinking to one cookie expires the chunks.
		small, err := c.Seal([]byte(`{"sub":"u1"}`))
		if err != nil {
			t.Fatal(err)
		}
		out := c.Cookies(small, req)
		if len(out) != 3 || out[0].Name != c.CookieName() || out[1].MaxAge != -1 || out[2].MaxAge != -1 {
			t.Fatalf("cookies = %v", out)
		}
		if _, err := c.Seal([]byte(`[1]`)); !errors.Is(err, sealed.ErrMalformed) {
			t.Fatalf("seal array: %v", err)
		}
		if _, err := c.Seal([]byte(`null`)); !errors.Is(err, sealed.ErrMalformed) {
			t.Fatalf("seal null: %v", err)
		}
		if _, err := newCodec(t, version, []string{"s1"}, authjs.Options{MaxLen: 100}).Seal([]byte(`{"sub":"u1"}`)); !errors.Is(err, sealed.ErrTooLarge) {
			t.Fatalf("seal too large: %v", err)
		}
	}
	sc := newCodec(t, 5, []string{"s"}, authjs.Options{CookieName: authjs.SecureCookieName})
	v, err := sc.Seal([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if !sc.Cookies(v, nil)[0].Secure {
		t.Fatal("__Secure- cookie without Secure")
	}
}

func TestNewErrors(t *testing.T) {
	for _, secrets := range [][]string{nil, {}, {""}, {"ok", ""}} {
		if _, err := authjs.New(secrets, authjs.Options{}); err == nil {
			t.Errorf("New(%q) succeeded", secrets)
		}
		if _, err := authjs.NewV4(secrets, authjs.Options{}); err == nil {
			t.Errorf("NewV4(%q) succeeded", secrets)
		}
	}
	if _, err := authjs.New([]string{"s"}, authjs.Options{MaxLen: -1}); err == nil {
		t.Error("negative MaxLen accepted")
	}
	c, c4 := newCodec(t, 5, []string{"s"}, authjs.Options{}), newCodec(t, 4, []string{"s"}, authjs.Options{})
	if c.CookieName() != "authjs.session-token" || c4.CookieName() != "next-auth.session-token" {
		t.Error("default cookie names")
	}
}
