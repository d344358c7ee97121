package iron_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/iron"
	"github.com/sealedcookie/sealed/internal/peertest"
)

// These tests drive the real iron-session through ../../interop/iron.mjs.
// Without Node or the installed packages they skip, unless SEALED_INTEROP=1,
// when they fail: run `npm ci --prefix interop` from the repository root
// first.

// peer runs the interop script with one request and decodes its answer.
func peer(t *testing.T, req, resp any) {
	t.Helper()
	peertest.RunJSON(t, peertest.NodeScript(t, "iron.mjs", "iron-session"), req, resp)
}

type peerReq struct {
	Op       string `json:"op"`
	Password any    `json:"password"`
	TTL      *int   `json:"ttl,omitempty"` // seconds; nil: iron-session's default
	Data     any    `json:"data,omitempty"`
	Value    string `json:"value,omitempty"`
}

type peerResp struct {
	Value string         `json:"value"`
	Data  map[string]any `json:"data"`
	Error string         `json:"error"`
}

var (
	pwOld = "interop-password-old-0123456789abcdef"
	pwNew = "interop-password-new-0123456789abcdef"
	data  = map[string]any{"user": map[string]any{"id": 7.0, "name": "Grace ✓"}, "isLoggedIn": true}
)

func ttl(s int) *int { return &s }

// TestPeerSealGoOpen: iron-session seals, Go opens.
func TestPeerSealGoOpen(t *testing.T) {
	for _, tc := range []struct {
		name      string
		jsPW      any
		ttl       *int
		goPW      map[string]string
		wantErr   error
		wantNoExp bool
	}{
		{"string password", pwOld, ttl(3600), map[string]string{"1": pwOld}, nil, false},
		{"default ttl", pwOld, nil, map[string]string{"1": pwOld}, nil, false},
		{"rotated", map[string]string{"1": pwOld, "2": pwNew}, ttl(3600), map[string]string{"1": pwOld, "2": pwNew}, nil, false},
		{"rotated, new unknown to Go", map[string]string{"1": pwOld, "2": pwNew}, ttl(3600), map[string]string{"1": pwOld}, sealed.ErrUnknownKey, false},
		{"no expiry", pwOld, ttl(0), map[string]string{"1": pwOld}, nil, true},
		{"wrong password", pwOld, ttl(3600), map[string]string{"1": pwNew}, sealed.ErrInvalid, false},
		{"expired", pwOld, ttl(-120), map[string]string{"1": pwOld}, sealed.ErrExpired, false},
		{"expired within skew", pwOld, ttl(-30), map[string]string{"1": pwOld}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s peerResp
			peer(t, peerReq{Op: "seal", Password: tc.jsPW, TTL: tc.ttl, Data: data}, &s)
			if !strings.HasPrefix(s.Value, "Fe26.2*") || !strings.HasSuffix(s.Value, "~2") {
				t.Fatalf("iron-session sealed %q", s.Value)
			}
			if got := strings.Split(s.Value, "*")[5] == ""; got != tc.wantNoExp {
				t.Fatalf("seal %s: empty expiry = %v", s.Value, got)
			}
			c, err := iron.New(tc.goPW, iron.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Open(s.Value)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(got, &m); err != nil || !reflect.DeepEqual(m, data) {
				t.Fatalf("payload %s (%v), want %v", got, err, data)
			}
		})
	}
}

// TestGoSealPeerOpen: Go seals, iron-session's unsealData opens.
func TestGoSealPeerOpen(t *testing.T) {
	payload, _ := json.Marshal(data)
	for _, tc := range []struct {
		name   string
		goPW   map[string]string
		opts   iron.Options
		jsPW   any
		wantOK bool
	}{
		{"string password", map[string]string{"1": pwOld}, iron.Options{}, pwOld, true},
		{"rotated: seals with 2", map[string]string{"1": pwOld, "2": pwNew}, iron.Options{}, map[string]string{"1": pwOld, "2": pwNew}, true},
		{"rotated: peer lacks 2", map[string]string{"1": pwOld, "2": pwNew}, iron.Options{}, map[string]string{"1": pwOld}, false},
		{"wrong password", map[string]string{"1": pwOld}, iron.Options{}, pwNew, false},
		{"no expiry", map[string]string{"1": pwOld}, iron.Options{TTL: -1}, pwOld, true},
		{"expired", map[string]string{"1": pwOld}, iron.Options{TTL: time.Hour, Now: func() time.Time { return time.Now().Add(-time.Hour - 61*time.Second) }}, pwOld, false},
		{"expired within skew", map[string]string{"1": pwOld}, iron.Options{TTL: time.Hour, Now: func() time.Time { return time.Now().Add(-time.Hour - 50*time.Second) }}, pwOld, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := iron.New(tc.goPW, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			seal, err := c.Seal(payload)
			if err != nil {
				t.Fatal(err)
			}
			var u peerResp
			peer(t, peerReq{Op: "unseal", Password: tc.jsPW, Value: seal}, &u)
			if u.Error != "" {
				t.Fatalf("iron-session threw: %s", u.Error)
			}
			// unsealData answers {} for a seal it rejects.
			if ok := reflect.DeepEqual(u.Data, data); ok != tc.wantOK {
				t.Fatalf("iron-session read %v, want ok=%v", u.Data, tc.wantOK)
			}
			if !tc.wantOK && len(u.Data) != 0 {
				t.Fatalf("iron-session read %v from a seal it should reject", u.Data)
			}
		})
	}
	// A tampered Go seal: iron-session rejects it too.
	good := seal(t, newCodec(t, map[string]string{"1": pwOld}, iron.Options{}), string(payload))
	f := strings.Split(good, "*")
	f[4] = "A" + f[4][1:]
	if f[4] == strings.Split(good, "*")[4] {
		f[4] = "B" + f[4][1:]
	}
	var u peerResp
	peer(t, peerReq{Op: "unseal", Password: pwOld, Value: strings.Join(f, "*")}, &u)
	if u.Error != "" || len(u.Data) != 0 {
		t.Fatalf("iron-session read a tampered seal: %v %s", u.Data, u.Error)
	}
}
