package sealedtest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/sealedtest"
)

// fatalTB records the first Fatal call of a helper and stops it, as
// testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (*fatalTB) Helper()              {}
func (tb *fatalTB) Fatal(args ...any) { tb.msg = fmt.Sprint(args...); runtime.Goexit() }
func (tb *fatalTB) Fatalf(format string, a ...any) {
	tb.msg = fmt.Sprintf(format, a...)
	runtime.Goexit()
}

// fatal runs f with a fatalTB and returns what it failed with, or "".
func fatal(f func(tb testing.TB)) string {
	tb := &fatalTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(tb)
	}()
	<-done
	return tb.msg
}

func TestNewKeyRing(t *testing.T) {
	ring := sealedtest.NewKeyRing(t)
	if keys := ring.Keys(); len(keys) != 1 || keys[0].ID() != "test" {
		t.Fatalf("default ring %v", ring)
	}
	ring = sealedtest.NewKeyRing(t, "a", "b", "c")
	if ring.Primary().ID() != "a" || len(ring.Keys()) != 3 {
		t.Fatalf("ring %v", ring)
	}
	// Fresh keys: another ring with the same IDs cannot open its values.
	v, err := sealed.NewSealer(ring).Seal("n", []byte("x"), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sealed.NewSealer(sealedtest.NewKeyRing(t, "a")).Open("n", v); !errors.Is(err, sealed.ErrInvalid) {
		t.Fatalf("a second ring opened the first one's value: %v", err)
	}
	if msg := fatal(func(tb testing.TB) { sealedtest.NewKeyRing(tb, "bad id") }); !strings.Contains(msg, `GenerateKey("bad id")`) {
		t.Errorf("bad key ID: %q", msg)
	}
	if msg := fatal(func(tb testing.TB) { sealedtest.NewKeyRing(tb, "a", "a") }); !strings.Contains(msg, "NewKeyRing") {
		t.Errorf("duplicate key ID: %q", msg)
	}
}

func TestNewManager(t *testing.T) {
	m := sealedtest.NewManager[Session](t, nil, sealed.Options{Name: "sid"})
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.Put(r.Context(), Session{Name: "alice"})
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if cs := rec.Result().Cookies(); len(cs) != 1 || cs[0].Name != "sid" {
		t.Fatalf("Set-Cookie %q", rec.Header().Values("Set-Cookie"))
	}
	if msg := fatal(func(tb testing.TB) { sealedtest.NewManager[Session](tb, nil, sealed.Options{Lifetime: -1}) }); !strings.Contains(msg, "Lifetime") {
		t.Errorf("bad Options: %q", msg)
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := sealedtest.NewClock(start)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				c.Add(time.Second)
				c.Now()
			}
		})
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(start.Add(400 * time.Second)) {
		t.Fatalf("after 400 Add(1s): %v", got)
	}
	c.Set(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("after Set: %v", got)
	}
}

func TestErrorLog(t *testing.T) {
	var l sealedtest.ErrorLog
	if errs := l.Take(); errs != nil {
		t.Fatalf("new log: %v", errs)
	}
	l.OnError(t.Context(), sealed.ErrExpired)
	l.OnError(t.Context(), sealed.ErrInvalid)
	errs := l.Take()
	if len(errs) != 2 || errs[0] != sealed.ErrExpired || errs[1] != sealed.ErrInvalid {
		t.Fatalf("Take = %v", errs)
	}
	if errs := l.Take(); errs != nil {
		t.Fatalf("second Take = %v", errs)
	}
}

// cookieApp sets and deletes cookies as the query says, and echoes what
// the request carried.
func cookieApp(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if n := q.Get("set"); n != "" {
			http.SetCookie(w, &http.Cookie{Name: n, Value: q.Get("value"), Path: q.Get("path"), Secure: q.Has("secure")})
		}
		if n := q.Get("delete"); n != "" {
			http.SetCookie(w, &http.Cookie{Name: n, Path: "/", MaxAge: -1})
		}
		if q.Has("redirect") {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		fmt.Fprintf(w, "%s %s %s tls=%t cookie=%q body=%q", r.Method, r.Host, r.RequestURI, r.TLS != nil, r.Header.Get("Cookie"), body)
	})
}

func TestClient(t *testing.T) {
	c := sealedtest.NewClient(t, cookieApp(t))
	if _, body := c.Do("GET", "/x?set=a&value=1&path=/"); body != `GET example.com /x?set=a&value=1&path=/ tls=true cookie="" body=""` {
		t.Fatalf("first request: %s", body)
	}
	c.Do("GET", "/?set=b&value=2&path=/app&secure")
	if _, body := c.Do("GET", "/app/page"); !strings.Contains(body, `cookie="b=2; a=1"`) {
		t.Fatalf("cookies for /app/page: %s", body)
	}
	if _, body := c.Do("GET", "/"); !strings.Contains(body, `cookie="a=1"`) {
		t.Fatalf("cookies for /: %s", body)
	}
	if got := c.Cookies(); len(got) != 1 || got["a"] != "1" {
		t.Fatalf("Cookies() = %v", got)
	}
	// Another host gets none of them.
	if _, body := c.Do("GET", "https://other.example/"); !strings.Contains(body, `other.example / tls=true cookie=""`) {
		t.Fatalf("request to another host: %s", body)
	}
	// Plain http to a host that is not local gets no Secure cookie.
	if _, body := c.Do("GET", "http://example.com/app/"); !strings.Contains(body, `tls=false cookie="a=1"`) {
		t.Fatalf("plain http: %s", body)
	}
	// Max-Age < 0 deletes.
	c.Do("GET", "/?delete=a")
	if got := c.Cookies(); len(got) != 0 {
		t.Fatalf("after the deletion: %v", got)
	}
	// Redirects are the test's to follow.
	if resp, _ := c.Do("GET", "/?redirect"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/elsewhere" {
		t.Fatalf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// SetCookie, and Send with a body.
	c.SetCookie(&http.Cookie{Name: "c", Value: "3"})
	req := httptest.NewRequest("POST", "/form", strings.NewReader("k=v"))
	resp, body := c.Send(req)
	if body != `POST example.com /form tls=true cookie="c=3" body="k=v"` {
		t.Fatalf("Send: %s", body)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != body {
		t.Fatalf("resp.Body = %q, want the body again", b)
	}
	c.SetCookie(&http.Cookie{Name: "c", MaxAge: -1})
	if got := c.Cookies(); len(got) != 0 {
		t.Fatalf("after SetCookie with MaxAge -1: %v", got)
	}
	// A request that cannot be made fails the test.
	if msg := fatal(func(tb testing.TB) { sealedtest.NewClient(tb, cookieApp(t)).Do("GET", "%") }); msg == "" {
		t.Error("a bad URL did not fail the test")
	}
}

func TestServerClient(t *testing.T) {
	a := httptest.NewTLSServer(cookieApp(t))
	defer a.Close()
	b := httptest.NewServer(cookieApp(t))
	defer b.Close()
	c := sealedtest.NewServerClient(t, a)
	if _, body := c.Do("GET", "/?set=s&value=1&secure"); !strings.HasPrefix(body, "GET 127.0.0.1:") || !strings.Contains(body, "tls=true") {
		t.Fatalf("TLS server: %s", body)
	}
	// The cookie of 127.0.0.1 goes to the other server (loopback: even a
	// Secure one over plain http).
	if _, body := c.Do("GET", b.URL+"/"); !strings.Contains(body, `tls=false cookie="s=1"`) {
		t.Fatalf("other server: %s", body)
	}
	if got := c.Cookies(); got["s"] != "1" {
		t.Fatalf("Cookies() = %v", got)
	}
	b.Close()
	if msg := fatal(func(tb testing.TB) { sealedtest.NewServerClient(tb, b).Do("GET", "/") }); !strings.Contains(msg, "GET "+b.URL) {
		t.Errorf("request to a closed server: %q", msg)
	}
}

// JSON and Gob pass (the root tests Binary).
func TestTestCodecPasses(t *testing.T) {
	type item struct {
		SKU string
		Qty int
	}
	type rich struct {
		ID     int64
		Name   string
		Roles  []string
		Prefs  map[string]string
		Cart   []item
		Token  []byte
		When   time.Time
		Ptr    *int
		Ratio  float64
		Nested struct{ A, B bool }
	}
	n := 7
	values := []rich{
		{ID: 1, Name: "Zoë ☃ 𝄞", Roles: []string{"admin", ""}, Prefs: map[string]string{"a": "1", "b": "2"},
			Cart: []item{{"x", 1}}, Token: []byte{0, 0xff}, When: time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC), Ptr: &n, Ratio: 0.5},
		{Roles: []string{}, Prefs: map[string]string{}}, // empty, not nil: gob gives nil back
	}
	for name, codec := range map[string]sealed.Codec[rich]{"JSON": sealed.JSON[rich](), "Gob": sealed.Gob[rich]()} {
		if err := sealedtest.TestCodec(codec, values...); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// codecFuncs makes a codec of two functions.
type codecFuncs[T any] struct {
	append func([]byte, *T) ([]byte, error)
	decode func([]byte, *T) error
}

func (c codecFuncs[T]) Append(dst []byte, v *T) ([]byte, error) { return c.append(dst, v) }
func (c codecFuncs[T]) Decode(data []byte, v *T) error          { return c.decode(data, v) }

func jsonAppend[T any](dst []byte, v *T) ([]byte, error) {
	b, err := json.Marshal(v)
	return append(dst, b...), err
}

func jsonDecode[T any](data []byte, v *T) error { return json.Unmarshal(data, v) }

// blob keeps its bytes as they are given, as an UnmarshalBinary must not.
type blob struct{ b []byte }

// Broken codecs fail, each with what it breaks.
func TestTestCodecFails(t *testing.T) {
	sample := Session{Name: "alice", Count: 2}
	for _, tc := range []struct {
		name  string
		err   error
		wants []string
	}{
		{"no round trip", sealedtest.TestCodec(codecFuncs[Session]{jsonAppend[Session], func(data []byte, v *Session) error { return nil }}, sample),
			[]string{"value 0, {Name:alice Count:2}: it decodes as {Name: Count:0}"}},
		{"trailing data", sealedtest.TestCodec(codecFuncs[Session]{jsonAppend[Session], func(data []byte, v *Session) error {
			return json.NewDecoder(bytes.NewReader(data)).Decode(v)
		}}, sample), []string{"the 26-byte value with a zero byte after it decodes", "the value twice decodes"}},
		{"truncation", sealedtest.TestCodec(codecFuncs[Session]{jsonAppend[Session], func(data []byte, v *Session) error {
			if len(data) > 0 && data[len(data)-1] != '}' {
				data = append(data, '}')
			}
			return json.Unmarshal(data, v)
		}}, sample), []string{"the value truncated to 1 of 26 bytes decodes"}},
		{"panic", sealedtest.TestCodec(codecFuncs[Session]{jsonAppend[Session], func(data []byte, v *Session) error {
			_ = data[len(data)-1]
			return json.Unmarshal(data, v)
		}}, sample), []string{"truncated to 0 of 26 bytes: panic in Decode: runtime error: index out of range"}},
		{"overwrites dst", sealedtest.TestCodec(codecFuncs[Session]{func(dst []byte, v *Session) ([]byte, error) {
			return jsonAppend(dst[:0], v)
		}, jsonDecode[Session]}, sample), []string{`appending to "prefix" with 0 bytes to spare overwrote them`, `with 1024 bytes to spare`}},
		{"aliases the data", sealedtest.TestCodec(codecFuncs[blob]{func(dst []byte, v *blob) ([]byte, error) {
			return append(append(dst, byte(len(v.b))), v.b...), nil
		}, func(data []byte, v *blob) error {
			if len(data) == 0 || int(data[0]) != len(data)-1 {
				return errors.New("bad length")
			}
			v.b = data[1:]
			return nil
		}}, blob{[]byte("secret")}), []string{"the decoded value changed to {b:[165 165 165 165 165 165]} when the data was overwritten"}},
		{"nil codec", sealedtest.TestCodec[Session](nil), []string{"nil codec"}},
		{"append fails", sealedtest.TestCodec(sealed.JSON[func()](), func() {}), []string{"value 0", "appending: json: unsupported type"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("TestCodec passed a broken codec")
			}
			for _, want := range tc.wants {
				if !strings.Contains(tc.err.Error(), want) {
					t.Errorf("error does not say %q:\n%v", want, tc.err)
				}
			}
		})
	}
}
