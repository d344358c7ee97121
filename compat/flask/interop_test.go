package flask

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/internal/compattest"
	"github.com/sealedcookie/sealed/internal/peertest"
)

type peerRequest struct {
	Secret    string            `json:"secret"`
	Fallbacks []string          `json:"fallbacks"`
	MaxAge    int64             `json:"max_age"`
	TS        int64             `json:"ts"`
	Make      []json.RawMessage `json:"make"`
	Open      []string          `json:"open"`
}

type peerResponse struct {
	Made   []string          `json:"made"`
	Rich   string            `json:"rich"`
	Opened []json.RawMessage `json:"opened"`
	// Fallbacks reports whether this Flask reads SECRET_KEY_FALLBACKS (3.1+).
	Fallbacks bool `json:"fallbacks"`
}

var interopSessions = []string{
	`{"user":"alice"}`,
	`{"user_id":42,"roles":["admin","dev"],"cart":{"items":[{"sku":"A-1","qty":2}],"total":19.5},"flag":true,"none":null,"_permanent":true}`,
	`{"z":1,"a":2,"m":{"y":1,"b":2}}`,
	`{"name":"Zoë ☃ 𝄞","ctl":"tab\there \"quoted\" back\\slash\b\f\u0001\u007f","html":"<script>&amp;</script>","sep":". ; = ,"}`,
	`{"tagkeys":{" t":"not a tuple"},"list":[{" di":{" b":"x"}},{" u":1,"other":2}],"empty":{}}`,
	`{"big":"` + string(bytes.Repeat([]byte("compress me "), 200)) + `"}`,
}

// TestInteropFlask runs Flask's real session interface: cookies it sets
// (including tagged Python types and compressed ones) open in Go, cookies
// Go seals open in Flask, and uncompressed ones are byte for byte equal for
// the same session and second.
func TestInteropFlask(t *testing.T) {
	// A Python with Flask: the pyenv or venv python3 on PATH first, then the
	// system one (Debian's python3-flask).
	py := peertest.Python(t, "SEALED_FLASK_PYTHON", "flask, flask.sessions, itsdangerous, markupsafe",
		"install with: apt-get install -y python3-flask (Debian, for /usr/bin/python3) or pip install flask", "python3", "/usr/bin/python3")
	const secret, oldSecret = "interop-secret-☃", "old-secret"
	ts := time.Now().Unix()
	opts := Options{MaxAge: time.Hour, Now: at(ts)}
	c := newCodec(t, secret, opts)

	req := peerRequest{Secret: secret, Fallbacks: []string{oldSecret}, MaxAge: 3600, TS: ts}
	for _, s := range interopSessions {
		req.Make = append(req.Make, json.RawMessage(s))
		req.Open = append(req.Open, compattest.MustSeal(t, c, s))
	}
	good := len(req.Open)
	// Signed with the fallback secret: Flask accepts it.
	oldValue := compattest.MustSeal(t, newCodec(t, oldSecret, opts), `{"user":"from-old-key"}`)
	// Cookies Flask must reject.
	bad := compattest.MustSeal(t, newCodec(t, "another-secret", opts), `{"user":"mallory"}`)
	tampered := []byte(req.Open[0])
	tampered[2] ^= 1
	expiredValue := compattest.MustSeal(t, newCodec(t, secret, Options{MaxAge: -1, Now: at(ts - 3601)}), `{"user":"old"}`)
	futureValue := compattest.MustSeal(t, newCodec(t, secret, Options{MaxAge: -1, Now: at(ts + 5)}), `{"user":"future"}`)
	req.Open = append(req.Open, oldValue, bad, string(tampered), expiredValue, futureValue)

	var resp peerResponse
	peertest.RunJSON(t, exec.Command(py, filepath.Join("testdata", "peer.py")), req, &resp)
	// Flask compresses as Go does, but zlib's bytes may differ, and so may
	// the decision: both keep the compressed form only when it is shorter,
	// and Go 1.27's compress/flate (a new implementation) is not zlib. When
	// either side compressed, the two are compared as sessions, not bytes.
	compressed := func(made, sent string) bool { return made[0] == '.' || sent[0] == '.' }
	extra := compattest.CheckPeer(t, c, "Flask", ts, interopSessions, req.Open, resp.Made, resp.Opened, compressed)
	fromOld := `{"user":"from-old-key"}`
	if !resp.Fallbacks {
		t.Log("this Flask predates SECRET_KEY_FALLBACKS: expecting it to reject the old-key cookie")
		fromOld = `{}`
	}
	for i, want := range []string{fromOld, `{}`, `{}`, `{}`, `{}`} {
		if got := extra[i]; !peertest.SameJSON(t, got, []byte(want)) {
			t.Errorf("extra cookie %d: Flask opened it as %s, want %s", i, got, want)
		}
	}
	// Go agrees with Flask on the extra cookies.
	withFallback := newCodec(t, secret, opts, oldSecret)
	if p, _, err := withFallback.Open(oldValue); err != nil || string(p) != `{"user":"from-old-key"}` {
		t.Errorf("Go with fallback: %s, %v", p, err)
	}
	for i, want := range []error{sealed.ErrInvalid, sealed.ErrInvalid, sealed.ErrExpired, sealed.ErrExpired} {
		if _, _, err := withFallback.Open(req.Open[good+1+i]); !errors.Is(err, want) {
			t.Errorf("extra cookie %d: Go got %v, want %v", i+1, err, want)
		}
	}

	// Python types in Flask's tagged JSON.
	if resp.Rich[0] != '.' {
		t.Errorf("rich cookie not compressed, the test lost its zlib case: %s", resp.Rich)
	}
	p, _, err := c.Open(resp.Rich)
	if err != nil {
		t.Fatalf("Go cannot open Flask's rich cookie %s: %v", resp.Rich, err)
	}
	const wantRich = `{"bytes":"AP9oaQ==","html":"<b>x</b>","id":"12345678-1234-5678-1234-56781234abcd",` +
		`"nested":[{" di":["eA=="]},{"k":{" b":1,"other":2}}],"plain":{"a":[1,2.5,null,true]},` +
		`"tagkey":{" t":"not a tuple"},"tuple":[1,"a",[2,3]],"when":"2015-10-21T07:28:00Z"}`
	if string(p) != wantRich {
		t.Errorf("rich cookie:\n got %s\nwant %s", p, wantRich)
	}
}
