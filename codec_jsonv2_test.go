package sealed_test

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/sealedtest"
)

// wireSession has a field of every kind whose encoding differs between
// encoding/json and encoding/json/v2's defaults, and kinds that don't.
type wireSession struct {
	UserID   int64             `json:"uid"`
	Name     string            `json:"name"`
	HTML     string            `json:"html"`
	Roles    []string          `json:"roles"`
	NoRoles  []string          `json:"no_roles"`
	Empty    []string          `json:"empty"`
	Prefs    map[string]int    `json:"prefs"`
	NoPrefs  map[string]int    `json:"no_prefs"`
	ByID     map[int]string    `json:"by_id"`
	Hash     [4]byte           `json:"hash"`
	Raw      []byte            `json:"raw"`
	Named    []namedByte       `json:"named"`
	TTL      time.Duration     `json:"ttl"`
	Issued   time.Time         `json:"iat"`
	Ptr      *int              `json:"ptr"`
	Omitted  int               `json:"omitted,omitempty"`
	Off      bool              `json:"off,omitempty"`
	Any      any               `json:"any"`
	Nested   wireNested        `json:"nested"`
	Embedded                   // promoted fields
	Extra    map[string]string `json:"extra,omitempty"`
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
		Ptr: &n, Any: "text", Nested: wireNested{N: []int{1}}, Embedded: Embedded{Theme: "dark"},
	}
}

// JSONv2 keeps the Codec contract, on every Go version.
func TestJSONv2Codec(t *testing.T) {
	c := sealed.JSONv2[session]()
	if err := sealedtest.TestCodec(c, sample, session{Email: "Zoë ☃ 𝄞", Roles: []string{""}}); err != nil {
		t.Error(err)
	}
	if err := sealedtest.TestCodec(sealed.JSONv2[wireSession](), newWireSession(), wireSession{Roles: []string{}}); err != nil {
		t.Error(err)
	}
}

// A value written by either codec reads back identically with the other,
// nil slices and maps staying nil and empty ones empty: a fleet can switch
// codec, or Go version, one instance at a time.
func TestJSONInterchange(t *testing.T) {
	codecs := []struct {
		name string
		c    sealed.Codec[wireSession]
	}{{"JSON", sealed.JSON[wireSession]()}, {"JSONv2", sealed.JSONv2[wireSession]()}}
	for _, v := range []wireSession{newWireSession(), {}, {Roles: []string{}, Prefs: map[string]int{}}} {
		for _, from := range codecs {
			enc, err := from.c.Append(nil, &v)
			if err != nil {
				t.Fatalf("%s: %v", from.name, err)
			}
			for _, to := range codecs {
				var got wireSession
				if err := to.c.Decode(enc, &got); err != nil {
					t.Fatalf("%s → %s: %v\n%s", from.name, to.name, err, enc)
				}
				if !reflect.DeepEqual(got, v) {
					t.Errorf("%s → %s:\n got %#v\nwant %#v\n%s", from.name, to.name, got, v, enc)
				}
			}
		}
		// The same bytes, but for HTML escaping and map order (one key
		// per map here).
		a, _ := codecs[0].c.Append(nil, &v)
		b, _ := codecs[1].c.Append(nil, &v)
		unescape := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace
		if unescape(string(a)) != unescape(string(b)) {
			t.Errorf("encodings differ beyond HTML escaping:\n JSON   %s\n JSONv2 %s", a, b)
		}
	}
}

// The rolling upgrade: instances on the old codec and on the new one serve
// the same users, each reading and re-sealing what the other wrote.
func TestJSONRollingUpgrade(t *testing.T) {
	ring := sealedtest.NewKeyRing(t, "k1")
	mux := http.NewServeMux()
	for name, codec := range map[string]sealed.Codec[wireSession]{"old": sealed.JSON[wireSession](), "new": sealed.JSONv2[wireSession]()} {
		m, err := sealed.New(ring, codec, sealed.Options{})
		if err != nil {
			t.Fatal(err)
		}
		mux.Handle("/"+name+"/", m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch strings.TrimPrefix(r.URL.Path, "/"+name+"/") {
			case "login":
				m.Put(r.Context(), newWireSession())
			case "visit":
				m.Update(r.Context(), func(s *wireSession) { s.UserID++; s.Roles = append(s.Roles, name) })
			}
			s, ok := m.Get(r.Context())
			fmt.Fprintf(w, "%v %d %q %v %v %v", ok, s.UserID, s.Roles, s.NoRoles == nil, s.TTL, s.Hash)
		})))
	}
	c := sealedtest.NewClient(t, mux)
	steps := []struct{ path, want string }{
		{"/old/login", `true 42 ["admin" ""] true 1h30m0s [1 2 3 255]`},
		{"/new/", `true 42 ["admin" ""] true 1h30m0s [1 2 3 255]`},
		{"/new/visit", `true 43 ["admin" "" "new"] true 1h30m0s [1 2 3 255]`},
		{"/old/", `true 43 ["admin" "" "new"] true 1h30m0s [1 2 3 255]`},
		{"/old/visit", `true 44 ["admin" "" "new" "old"] true 1h30m0s [1 2 3 255]`},
		{"/new/", `true 44 ["admin" "" "new" "old"] true 1h30m0s [1 2 3 255]`},
	}
	for _, s := range steps {
		if _, body := c.Do("GET", s.path); body != s.want {
			t.Fatalf("%s: %s, want %s", s.path, body, s.want)
		}
	}
}

// What JSONv2 reads and writes differently from JSON where it uses
// encoding/json/v2, and the same where it does not.
func TestJSONv2Strictness(t *testing.T) {
	v1, v2 := sealed.JSON[session](), sealed.JSONv2[session]()
	cases := []struct {
		name  string
		input string
		check func(session) bool // for a value both accept
	}{
		{"name in another case", `{"userid":7}`, func(s session) bool { return s.UserID == 7 }},
		{"duplicate name", `{"UserID":1,"UserID":2}`, nil},
		{"invalid UTF-8", "{\"Email\":\"a\xffb\"}", nil},
	}
	for _, c := range cases {
		var a, b session
		errA, errB := v1.Decode([]byte(c.input), &a), v2.Decode([]byte(c.input), &b)
		if errA != nil {
			t.Fatalf("%s: JSON: %v", c.name, errA)
		}
		if c.check != nil && !c.check(a) {
			t.Fatalf("%s: JSON read %+v", c.name, a)
		}
		switch {
		case !sealed.JSONv2Active && (errB != nil || !reflect.DeepEqual(a, b)):
			t.Errorf("%s: JSONv2 without encoding/json/v2: %+v, %v; want JSON's %+v", c.name, b, errB, a)
		case sealed.JSONv2Active && c.check != nil && (errB != nil || c.check(b)):
			t.Errorf("%s: JSONv2 read %+v, %v; want the field left zero", c.name, b, errB)
		case sealed.JSONv2Active && c.check == nil && errB == nil:
			t.Errorf("%s: JSONv2 accepted it: %+v", c.name, b)
		}
	}

	// Writing invalid UTF-8: replaced by JSON, refused by v2, and the
	// Manager keeps the previous cookie.
	bad := session{Email: "a\xffb"}
	out, err := v1.Append(nil, &bad)
	var back session
	if err == nil {
		err = v1.Decode(out, &back)
	}
	if err != nil || back.Email != "a\ufffdb" {
		t.Fatalf("JSON: %s, %+v, %v", out, back, err)
	}
	_, err = v2.Append(nil, &bad)
	if sealed.JSONv2Active == (err == nil) {
		t.Fatalf("JSONv2 writing invalid UTF-8: %v (encoding/json/v2: %v)", err, sealed.JSONv2Active)
	}
	typed := sealed.NewTyped(at(newSealer(t, fixedKey(t, "k1", 1)), t0), v2)
	if _, err := typed.Seal("session", &bad, expiry); sealed.JSONv2Active && err == nil {
		t.Fatal("Typed.Seal of invalid UTF-8 with JSONv2: no error")
	} else if err != nil && strings.Contains(err.Error(), "\xff") {
		t.Fatalf("the error quotes the session: %v", err)
	}

	// A value that does not decode is ErrMalformed, as with JSON.
	raw := mustSeal(t, at(newSealer(t, fixedKey(t, "k1", 1)), t0), "session", []byte(`{"UserID":1,"UserID":2}`), expiry)
	if _, _, err := typed.Open("session", raw); sealed.JSONv2Active && !errors.Is(err, sealed.ErrMalformed) {
		t.Fatalf("duplicate names: %v, want ErrMalformed", err)
	}
}
