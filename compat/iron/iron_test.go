package iron_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/internal/compattest"
	"github.com/sealedcookie/sealed/compat/iron"
)

// vector is one entry of testdata/vectors.json, written by the real
// iron-session (node interop/vectors.mjs). Now is in Unix milliseconds.
type vector struct {
	Name      string            `json:"name"`
	Passwords map[string]string `json:"passwords"`
	Now       int64             `json:"now"`
	Value     string            `json:"value"`
	Data      any               `json:"data"`
}

func loadVectors(tb testing.TB) map[string]vector {
	tb.Helper()
	return compattest.LoadVectors(tb, func(v vector) string { return v.Name })
}

func at(ms int64) func() time.Time { return func() time.Time { return time.UnixMilli(ms) } }

func codec(t testing.TB, passwords map[string]string, nowMs int64) *iron.Codec {
	t.Helper()
	return newCodec(t, passwords, iron.Options{Now: at(nowMs)})
}

func newCodec(t testing.TB, passwords map[string]string, opts iron.Options) *iron.Codec {
	t.Helper()
	c, err := iron.New(passwords, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// seal seals payload with c, failing t if it cannot.
func seal(t testing.TB, c *iron.Codec, payload string) string {
	t.Helper()
	s, err := c.Seal([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jsonEqual(t *testing.T, got []byte, want any) {
	t.Helper()
	var g any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("payload %q: %v", got, err)
	}
	if !reflect.DeepEqual(g, want) {
		t.Fatalf("payload = %v, want %v", g, want)
	}
}

// expiry returns a seal's expiry field.
func expiry(t *testing.T, seal string) int64 {
	t.Helper()
	f := strings.Split(strings.TrimSuffix(seal, "~2"), "*")
	n, err := strconv.ParseInt(f[5], 10, 64)
	if err != nil {
		t.Fatalf("expiry %q: %v", f[5], err)
	}
	return n
}

func TestVectors(t *testing.T) {
	for name, v := range loadVectors(t) {
		t.Run(name, func(t *testing.T) {
			got, err := codec(t, v.Passwords, v.Now).Open(v.Value)
			if name == "expired" {
				compattest.WantErr(t, err, sealed.ErrExpired)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			jsonEqual(t, got, v.Data)
			if m, ok := v.Data.(map[string]any); !ok || len(m) == 0 {
				t.Fatalf("vector data is empty: %v", v.Data)
			}
		})
	}
	vs := loadVectors(t)
	// The format details the vectors pin down.
	if f := strings.Split(vs["rotated"].Value, "*"); f[1] != "2" {
		t.Errorf("iron-session sealed with password id %q, want the highest, 2", f[1])
	}
	if f := strings.Split(vs["no-expiry"].Value, "*"); f[5] != "" {
		t.Errorf("ttl 0 wrote expiry %q", f[5])
	}
	v := vs["default-ttl"]
	if d := expiry(t, v.Value) - v.Now; d < 14*24*3600*1000-1000 || d > 14*24*3600*1000 {
		t.Errorf("default ttl = %d ms", d)
	}
}

func TestTimestampSkew(t *testing.T) {
	v := loadVectors(t)["string-password"]
	exp := expiry(t, v.Value)
	if _, err := codec(t, v.Passwords, exp+59_999).Open(v.Value); err != nil {
		t.Fatalf("59.999 s after expiry: %v", err)
	}
	_, err := codec(t, v.Passwords, exp+60_000).Open(v.Value)
	compattest.WantErr(t, err, sealed.ErrExpired)
	// No expiry: opens forever.
	n := loadVectors(t)["no-expiry"]
	if _, err := codec(t, n.Passwords, n.Now+100*365*24*3600*1000).Open(n.Value); err != nil {
		t.Fatal(err)
	}
}

func TestPasswords(t *testing.T) {
	v := loadVectors(t)["rotated"] // sealed with id 2
	_, err := codec(t, map[string]string{"1": v.Passwords["1"]}, v.Now).Open(v.Value)
	compattest.WantErr(t, err, sealed.ErrUnknownKey)
	// Same id, other password.
	_, err = codec(t, map[string]string{"2": v.Passwords["1"]}, v.Now).Open(v.Value)
	compattest.WantErr(t, err, sealed.ErrInvalid)
	// A seal without id looks up "default".
	_, err = codec(t, map[string]string{"2": v.Passwords["2"]}, v.Now).Open(strings.Replace(v.Value, "*2*", "**", 1))
	compattest.WantErr(t, err, sealed.ErrUnknownKey)
	_, err = codec(t, map[string]string{"default": v.Passwords["2"]}, v.Now).Open(strings.Replace(v.Value, "*2*", "**", 1))
	compattest.WantErr(t, err, sealed.ErrInvalid) // the id is under the mac
}

func TestTampered(t *testing.T) {
	v := loadVectors(t)["string-password"]
	c := codec(t, v.Passwords, v.Now)
	f := strings.Split(strings.TrimSuffix(v.Value, "~2"), "*")
	mutate := func(i int, s string) string {
		g := append([]string(nil), f...)
		g[i] = s
		return strings.Join(g, "*") + "~2"
	}
	other := func(s string, i int) string { // same length, other character
		c := byte('a')
		if s[i] == 'a' {
			c = 'b'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	for name, tc := range map[string]struct {
		value string
		want  error
	}{
		"prefix":        {mutate(0, "Fe26.1"), sealed.ErrMalformed},
		"password id":   {mutate(1, "3"), sealed.ErrUnknownKey},
		"enc salt":      {mutate(2, other(f[2], 0)), sealed.ErrInvalid},
		"iv":            {mutate(3, other(f[3], 0)), sealed.ErrInvalid},
		"ciphertext":    {mutate(4, other(f[4], 3)), sealed.ErrInvalid},
		"expiry":        {mutate(5, strconv.FormatInt(expiry(t, v.Value)+1000, 10)), sealed.ErrInvalid},
		"expiry gone":   {mutate(5, ""), sealed.ErrInvalid},
		"expiry text":   {mutate(5, "1e20"), sealed.ErrMalformed},
		"expiry sign":   {mutate(5, "-1"), sealed.ErrMalformed},
		"mac salt":      {mutate(6, other(f[6], 0)), sealed.ErrInvalid},
		"mac salt gone": {mutate(6, ""), sealed.ErrInvalid},
		"mac":           {mutate(7, other(f[7], 0)), sealed.ErrInvalid},
		"mac gone":      {mutate(7, ""), sealed.ErrInvalid},
		"mac padded":    {mutate(7, f[7]+"="), sealed.ErrInvalid},
		"version 3":     {strings.TrimSuffix(v.Value, "~2") + "~3", sealed.ErrMalformed},
		"version junk":  {v.Value + "~2", sealed.ErrMalformed},
		"truncated":     {v.Value[:len(v.Value)-3], sealed.ErrInvalid},
		"half":          {v.Value[:len(v.Value)/2], sealed.ErrMalformed},
		"nine fields":   {strings.TrimSuffix(v.Value, "~2") + "*x~2", sealed.ErrMalformed},
		"seven fields":  {strings.Join(f[:7], "*") + "~2", sealed.ErrMalformed},
		"empty":         {"", sealed.ErrMalformed},
		"garbage":       {"hello, world", sealed.ErrMalformed},
		"stars":         {"*******", sealed.ErrMalformed},
		"bare prefix":   {"Fe26.2*1*******", sealed.ErrMalformed},
	} {
		if _, err := c.Open(tc.value); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
	// Without iron-session's ~2 suffix (@hapi/iron, iron-session < 6) the
	// same seal opens and the payload is returned as sealed.
	got, err := c.Open(strings.TrimSuffix(v.Value, "~2"))
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, got, v.Data)
}

func TestTooLarge(t *testing.T) {
	v := loadVectors(t)["string-password"]
	c, err := iron.New(v.Passwords, iron.Options{MaxLen: len(v.Value) - 1, Now: at(v.Now)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Open(v.Value)
	compattest.WantErr(t, err, sealed.ErrTooLarge)
	_, err = codec(t, v.Passwords, v.Now).Open(strings.Repeat("*", 5000))
	compattest.WantErr(t, err, sealed.ErrTooLarge)
	if _, err := c.Seal([]byte(`{"a":"` + strings.Repeat("x", 4000) + `"}`)); !errors.Is(err, sealed.ErrTooLarge) {
		t.Fatalf("Seal: %v", err)
	}
}

func TestSeal(t *testing.T) {
	const now = 1_800_000_000_000
	pw := map[string]string{"9": strings.Repeat("n", 32), "10": strings.Repeat("t", 32)}
	c, err := iron.New(pw, iron.Options{Now: at(now), TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	payload := `{"user":{"id":1},"s":"héllo ✓"}`
	sealed1 := seal(t, c, payload)
	f := strings.Split(sealed1, "*")
	if len(f) != 8 || f[0] != "Fe26.2" || f[1] != "10" || len(f[2]) != 64 || len(f[6]) != 64 || f[5] != strconv.Itoa(now+3600_000) || !strings.HasSuffix(sealed1, "~2") {
		t.Fatalf("seal = %s", sealed1)
	}
	if strings.ToLower(f[2]) != f[2] || f[2] == f[6] {
		t.Fatalf("salts %s %s", f[2], f[6])
	}
	got, err := c.Open(sealed1)
	if err != nil || string(got) != payload {
		t.Fatalf("Open = %s, %v", got, err)
	}
	if again := seal(t, c, payload); again == sealed1 {
		t.Fatal("two seals are equal: salts and iv are not random")
	}
	// Block-aligned payload: a full block of padding.
	if got, err := roundTrip(c, `"0123456789abcd"`); err != nil || got != `"0123456789abcd"` {
		t.Fatalf("16-byte payload: %s, %v", got, err)
	}
	// Negative TTL: no expiry.
	forever := newCodec(t, pw, iron.Options{Now: at(now), TTL: -1})
	if f := strings.Split(seal(t, forever, `{}`), "*"); f[5] != "" {
		t.Fatalf("expiry %q", f[5])
	}
	for _, bad := range []string{``, `{`, `{"a":1} x`} {
		if _, err := c.Seal([]byte(bad)); !errors.Is(err, sealed.ErrMalformed) {
			t.Errorf("Seal(%q): %v", bad, err)
		}
	}
}

func roundTrip(c *iron.Codec, payload string) (string, error) {
	s, err := c.Seal([]byte(payload))
	if err != nil {
		return "", err
	}
	got, err := c.Open(s)
	return string(got), err
}

func TestNew(t *testing.T) {
	long := strings.Repeat("p", 32)
	for name, pw := range map[string]map[string]string{
		"none":             nil,
		"empty":            {},
		"short":            {"1": strings.Repeat("p", 31)},
		"short emoji":      {"1": strings.Repeat("😀", 15) + "x"}, // 31 UTF-16 units
		"empty id":         {"": long},
		"id with dash":     {"a-b": long},
		"several non-num":  {"a": long, "b": long},
		"several leading0": {"01": long, "2": long},
		"several one bad":  {"1": long, "2": "short"},
	} {
		if _, err := iron.New(pw, iron.Options{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for name, pw := range map[string]map[string]string{
		"one":          {"1": long},
		"named":        {"default": long},
		"emoji":        {"1": strings.Repeat("😀", 16)}, // 32 UTF-16 units
		"several":      {"1": long, "2": long, "33": long},
		"with zero id": {"0": long, "1": long},
	} {
		if _, err := iron.New(pw, iron.Options{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := iron.New(map[string]string{"1": long}, iron.Options{MaxLen: -1}); err == nil {
		t.Error("negative MaxLen accepted")
	}
	// A single named password seals under its name.
	s := seal(t, newCodec(t, map[string]string{"default": long}, iron.Options{}), `1`)
	if !strings.HasPrefix(s, "Fe26.2*default*") {
		t.Fatalf("seal = %s", s)
	}
}

func TestOpenRequest(t *testing.T) {
	v := loadVectors(t)["string-password"]
	c := codec(t, v.Passwords, v.Now)
	req := func(cookies ...string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", strings.Join(cookies, "; "))
		return r
	}
	got, err := c.OpenRequest(req("other=1", "app="+v.Value), "app")
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, got, v.Data)
	_, err = c.OpenRequest(req("other=1"), "app")
	compattest.WantErr(t, err, http.ErrNoCookie)
	compattest.WantErr(t, err, sealed.ErrMalformed)

	// iron-session v9's chunk: true splits a seal over app.0 ... app.3.
	big := newCodec(t, v.Passwords, iron.Options{MaxLen: 4 * 4096, Now: at(v.Now)})
	s := seal(t, big, `{"blob":"`+strings.Repeat("b", 7000)+`"}`)
	n := len(s) / 3
	p0, p1, p2 := s[:n], s[n:2*n], s[2*n:]
	if _, err := big.OpenRequest(req("app.2="+p2, "app.0="+p0, "app.1="+p1), "app"); err != nil {
		t.Fatal(err)
	}
	// The whole cookie wins over chunks, as in iron-session.
	if _, err := big.OpenRequest(req("app.0="+p0, "app="+v.Value), "app"); err != nil {
		t.Fatal(err)
	}
	_, err = big.OpenRequest(req("app.0="+p0, "app.2="+p2), "app") // gap: joins app.0 only
	compattest.WantErr(t, err, sealed.ErrMalformed)
	// A chunk from another session of the same size.
	other := seal(t, big, `{"blob":"`+strings.Repeat("c", 7000)+`"}`)
	_, err = big.OpenRequest(req("app.0="+p0, "app.1="+other[n:2*n], "app.2="+p2), "app")
	compattest.WantErr(t, err, sealed.ErrInvalid)
	_, err = c.OpenRequest(req("app.0="+p0, "app.1="+p1, "app.2="+p2), "app") // default MaxLen
	compattest.WantErr(t, err, sealed.ErrTooLarge)
}
