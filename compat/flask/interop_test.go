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

func runPeer(t *testing.T, py string, req peerRequest) peerResponse {
	t.Helper()
	var resp peerResponse
	peertest.RunJSON(t, exec.Command(py, filepath.Join("testdata", "peer.py")), req, &resp)
	if len(resp.Made) != len(req.Make) || len(resp.Opened) != len(req.Open) {
		t.Fatalf("peer.py answered %d/%d of %d/%d", len(resp.Made), len(resp.Opened), len(req.Make), len(req.Open))
	}
	return resp
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
		v, err := c.Seal([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		req.Open = append(req.Open, v)
	}
	good := len(req.Open)

	// Signed with the fallback secret: Flask accepts it.
	old := newCodec(t, oldSecret, opts)
	oldValue, _ := old.Seal([]byte(`{"user":"from-old-key"}`))
	req.Open = append(req.Open, oldValue)
	// Cookies Flask must reject.
	wrong := newCodec(t, "another-secret", opts)
	bad, _ := wrong.Seal([]byte(`{"user":"mallory"}`))
	tampered := []byte(req.Open[0])
	tampered[2] ^= 1
	expired := newCodec(t, secret, Options{MaxAge: -1, Now: at(ts - 3601)})
	expiredValue, _ := expired.Seal([]byte(`{"user":"old"}`))
	future := newCodec(t, secret, Options{MaxAge: -1, Now: at(ts + 5)})
	futureValue, _ := future.Seal([]byte(`{"user":"future"}`))
	req.Open = append(req.Open, bad, string(tampered), expiredValue, futureValue)

	resp := runPeer(t, py, req)

	for i, s := range interopSessions {
		made := resp.Made[i]
		if made[0] == '.' {
			if req.Open[i][0] != '.' {
				t.Errorf("Flask compressed session %d but Go did not", i)
			}
		} else if made != req.Open[i] {
			t.Errorf("session %s:\n Flask set %s\nGo sealed %s", s, made, req.Open[i])
		}
		p, issued, err := c.Open(made)
		if err != nil {
			t.Errorf("Go cannot open Flask's %s: %v", made, err)
			continue
		}
		if issued.Unix() != ts {
			t.Errorf("issued %v, want %d", issued, ts)
		}
		if !peertest.SameJSON(t, p, []byte(s)) {
			t.Errorf("Go opened Flask's cookie as %s, want %s", p, s)
		}
		if !peertest.SameJSON(t, resp.Opened[i], []byte(s)) {
			t.Errorf("Flask opened Go's cookie as %s, want %s", resp.Opened[i], s)
		}
	}
	fromOld := `{"user":"from-old-key"}`
	if !resp.Fallbacks {
		t.Log("this Flask predates SECRET_KEY_FALLBACKS: expecting it to reject the old-key cookie")
		fromOld = `{}`
	}
	for i, want := range []string{fromOld, `{}`, `{}`, `{}`, `{}`} {
		if got := resp.Opened[good+i]; !peertest.SameJSON(t, got, []byte(want)) {
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
