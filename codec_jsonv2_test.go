package sealed_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/sealedtest"
)

// wireSession has a field of every kind whose encoding differs between
// encoding/json and encoding/json/v2's defaults, and kinds that don't.
type wireSession struct {
	UserID   int64          `json:"uid"`
	Name     string         `json:"name"`
	HTML     string         `json:"html"`
	Roles    []string       `json:"roles"`
	NoRoles  []string       `json:"no_roles"`
	Empty    []string       `json:"empty"`
	Prefs    map[string]int `json:"prefs"`
	NoPrefs  map[string]int `json:"no_prefs"`
	ByID     map[int]string `json:"by_id"`
	Hash     [4]byte        `json:"hash"`
	Raw      []byte         `json:"raw"`
	Named    []namedByte    `json:"named"`
	TTL      time.Duration  `json:"ttl"`
	Issued   time.Time      `json:"iat"`
	Ptr      *int           `json:"ptr"`
	Omitted  int            `json:"omitted,omitempty"`
	Off      bool           `json:"off,omitempty"`
	Any      any            `json:"any"`
	Nested   wireNested     `json:"nested"`
	Embedded                // promoted fields
	Count    int64          `json:"count,string"`
}

type namedByte byte

type wireNested struct {
	N []int `json:"n"`
}

// Embedded is promoted into wireSession.
type Embedded struct {
	Theme string `json:"theme"`
}

func newWireSession() wireSession {
	n := 7
	return wireSession{
		UserID: 42, Name: "Zoë ☃ 𝄞", HTML: "<b>a & b</b>", Roles: []string{"admin", ""},
		Empty: []string{}, Prefs: map[string]int{"page": 50}, ByID: map[int]string{3: "three"},
		Hash: [4]byte{1, 2, 3, 255}, Raw: []byte{0, 1, 2}, Named: []namedByte{9, 8},
		TTL: 90 * time.Minute, Issued: time.Date(2026, 11, 21, 12, 0, 0, 123, time.UTC),
		Ptr: &n, Any: "text", Nested: wireNested{N: []int{1}}, Embedded: Embedded{Theme: "dark"}, Count: 9,
	}
}

// oddTags holds what encoding/json accepts and encoding/json/v2 refuses by
// default: the "string" option where it does not apply, names that match
// two fields case-insensitively, and a func field.
type oddTags struct {
	//lint:ignore SA5008 encoding/json ignores the option here: the test checks that the codec does
	Tags []string `json:"tags,string"`
	//lint:ignore SA5008 as above
	When time.Time `json:"when,string"`
	Ab   int       `json:"ab"`
	AB   int       `json:"AB"`
	F    func()    `json:"f"`
	//lint:ignore SA5008 as above
	Inner *oddInner `json:"inner,string"`
}

type oddInner struct {
	X int `json:"x"`
}

// The JSON codec decodes exactly as json.Unmarshal does, value and error,
// on every Go version: on Go 1.27 it decodes through encoding/json/v2 and
// falls back to json.Unmarshal when that fails.
func TestJSONDecodesAsEncodingJSON(t *testing.T) {
	wire, err := json.Marshal(newWireSession())
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{
		string(wire), `{}`, `null`, ` {"uid": 1} `,
		`{"UID":7,"Name":"upper case names"}`, // encoding/json matches any case
		`{"uid":1,"uid":2}`,                   // duplicate: the last wins
		"{\"name\":\"a\xffb\"}",               // invalid UTF-8: U+FFFD
		`{"uid":"x","name":"kept"}`,           // type error: the rest still decodes
		`{"uid":1e400}`, `{"iat":"2026-11-21T12:00:00.5+01:00"}`, `{"iat":"2026-11-21 12:00:00Z"}`,
		`{"hash":[1,2]}`, `{"hash":"AQID/w=="}`, `{"ttl":"1h"}`, `{"count":"12"}`, `{"count":12}`,
		`{"roles":null,"prefs":null}`, `{"any":{"a":[1,2.5,"x",null,true]}}`,
		`{} x`, `{}{}`, `{"uid":1`, `{"uid":01}`, `[`, ``, `nul`,
	} {
		compareDecode[wireSession](t, in)
	}
	for _, in := range []string{
		`{"tags":["a","b"]}`, `{"when":"2026-11-21T12:00:00Z"}`, `{"Ab":5}`, `{"aB":5}`,
		`{"f":null}`, `{"f":1}`, `{"inner":{"x":1}}`, `{"inner":"{\"x\":1}"}`,
	} {
		compareDecode[oddTags](t, in)
	}
}

func compareDecode[T any](t *testing.T, in string) {
	t.Helper()
	var want, got T
	wantErr := json.Unmarshal([]byte(in), &want)
	gotErr := sealed.JSON[T]().Decode([]byte(in), &got)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
		t.Errorf("%.60q into %T:\n got %+v, %v\nwant %+v, %v", in, got, got, gotErr, want, wantErr)
	}
}

// FuzzJSONDecode: whatever the input, the JSON codec decodes as
// json.Unmarshal does. Only builds whose codec decodes through
// encoding/json/v2 (Go 1.27) have anything to compare: elsewhere the codec
// is json.Unmarshal.
func FuzzJSONDecode(f *testing.F) {
	if !sealed.JSONFastDecode {
		f.Skip("the JSON codec is json.Unmarshal in this build (no encoding/json/v2)")
	}
	wire, _ := json.Marshal(newWireSession())
	f.Add(wire)
	f.Add([]byte(`{"UID":7,"uid":8,"tags":["x"],"f":null,"iat":"2026-11-21T12:00:00Z"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		compareDecode[wireSession](t, string(in))
		compareDecode[oddTags](t, string(in))
	})
}

var updateJSON = flag.Bool("update-json", false, "write testdata/json/*-"+goMinor()+".* for this Go version")

// goMinor is the running Go version without its patch release: go1.27.
func goMinor() string {
	v := runtime.Version()
	if i := strings.IndexByte(v[len("go1."):], '.'); i >= 0 {
		v = v[:len("go1.")+i]
	}
	return v
}

// Every Go version reads what every supported one wrote, so a fleet can
// move from Go 1.26 to 1.27 (and back) one instance at a time:
// testdata/json holds, per version, the JSON codec's encoding of
// newWireSession and a cookie a Manager sealed with it. Each version reads
// them all, through the codec and through a Manager, and writes what it
// wrote before. Regenerate one version's files with
//
//	GOTOOLCHAIN=go1.27.3 go test -run TestJSONAcrossGoVersions -update-json .
func TestJSONAcrossGoVersions(t *testing.T) {
	want := newWireSession()
	codec := sealed.JSON[wireSession]()
	m, err := sealed.New(mwRing(t, fixedKey(t, "k1", 1)), codec, sealed.Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	var got wireSession
	var has bool
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			m.Put(r.Context(), want)
		}
		got, has = m.Get(r.Context())
	}))

	enc, err := codec.Append(nil, &want)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "json")
	if *updateJSON {
		c := sealedtest.NewClient(t, h)
		c.Do("GET", "/login")
		cookie := c.Cookies()["session"]
		if cookie == "" {
			t.Fatal("no cookie set")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string]string{"session-" + goMinor() + ".json": string(enc) + "\n", "cookie-" + goMinor() + ".txt": cookie + "\n"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	files, _ := filepath.Glob(filepath.Join(dir, "session-go1.*.json"))
	if len(files) < 2 {
		t.Fatalf("want the encodings of at least two Go versions in %s, have %v", dir, files)
	}
	for _, file := range files {
		version := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "session-"), ".json")
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		data = []byte(strings.TrimSuffix(string(data), "\n"))
		var v wireSession
		if err := codec.Decode(data, &v); err != nil || !reflect.DeepEqual(v, want) {
			t.Errorf("%s's encoding: %+v, %v", version, v, err)
		}
		if string(data) != string(enc) {
			t.Errorf("%s wrote another encoding than %s:\n%s\n%s", runtime.Version(), version, enc, data)
		}
		cookie, err := os.ReadFile(filepath.Join(dir, "cookie-"+version+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		c := sealedtest.NewClient(t, h)
		c.SetCookie(&http.Cookie{Name: "session", Value: strings.TrimSpace(string(cookie))})
		got, has = wireSession{}, false
		c.Do("GET", "/")
		if !has || !reflect.DeepEqual(got, want) {
			t.Errorf("%s's cookie: %v, %+v", version, has, got)
		}
	}
}
