package starlette

import (
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
	Secret string            `json:"secret"`
	MaxAge *int64            `json:"max_age"`
	TS     int64             `json:"ts"`
	Make   []json.RawMessage `json:"make"`
	Open   []string          `json:"open"`
}

type peerResponse struct {
	Made   []string          `json:"made"`
	Opened []json.RawMessage `json:"opened"`
}

var interopSessions = []string{
	`{"user":"alice"}`,
	`{"user_id":42,"roles":["admin","dev"],"cart":{"items":[{"sku":"A-1","qty":2}],"total":19.5},"flag":true,"none":null}`,
	`{"z":1,"a":2,"m":{"y":1,"b":2}}`,
	`{"name":"Zoë ☃ 𝄞","ctl":"tab\there \"quoted\" back\\slash\b\f\u0001\u007f","html":"<script>&amp;</script>","sep":". ; = ,"}`,
	`{" t":"looks like a Flask tag","empty":{},"list":[]}`,
}

// TestInteropStarlette runs the real SessionMiddleware: cookies it sets open
// in Go, cookies Go seals open in it, and both are byte for byte equal for
// the same session and second.
func TestInteropStarlette(t *testing.T) {
	// A Python with Starlette and httpx (for starlette.testclient). Debian's
	// python3-starlette lands in the system interpreter, which a pyenv or
	// venv python3 on PATH may hide.
	py := peertest.Python(t, "SEALED_STARLETTE_PYTHON", "starlette.testclient, starlette.middleware.sessions, httpx",
		"install with: apt-get update && apt-get install -y python3-starlette python3-httpx", "/usr/bin/python3", "python3")
	const secret = "interop-secret-☃"
	ts := time.Now().Unix()
	maxAge := int64(3600)

	for _, cfg := range []struct {
		name   string
		maxAge *int64
		opts   Options
	}{
		{"max_age=3600", &maxAge, Options{MaxAge: time.Hour}},
		{"max_age=None", nil, Options{MaxAge: -1}},
	} {
		t.Run(cfg.name, func(t *testing.T) {
			opts := cfg.opts
			opts.Now = at(ts)
			c := newCodec(t, secret, opts)
			req := peerRequest{Secret: secret, MaxAge: cfg.maxAge, TS: ts}
			for _, s := range interopSessions {
				req.Make = append(req.Make, json.RawMessage(s))
				req.Open = append(req.Open, compattest.MustSeal(t, c, s))
			}
			// Cookies the middleware must reject.
			bad := compattest.MustSeal(t, newCodec(t, "another-secret", Options{Now: at(ts)}), `{"user":"mallory"}`)
			tampered := []byte(req.Open[0])
			tampered[2] ^= 1
			oldValue := compattest.MustSeal(t, newCodec(t, secret, Options{MaxAge: -1, Now: at(ts - 3601)}), `{"user":"old"}`)
			req.Open = append(req.Open, bad, string(tampered), oldValue)

			var resp peerResponse
			peertest.RunJSON(t, exec.Command(py, filepath.Join("testdata", "peer.py")), req, &resp)
			extra := compattest.CheckPeer(t, c, "Starlette", ts, interopSessions, req.Open, resp.Made, resp.Opened, nil)
			for i, got := range extra {
				want := "{}"
				if i == 2 && cfg.maxAge == nil {
					want = `{"user":"old"}` // no age check
				}
				if !peertest.SameJSON(t, got, []byte(want)) {
					t.Errorf("bad cookie %d: Starlette opened it as %s, want %s", i, got, want)
				}
			}
			// And Go agrees on the expired one.
			_, _, err := c.Open(oldValue)
			if cfg.maxAge != nil && !errors.Is(err, sealed.ErrExpired) {
				t.Errorf("Go opened the expired cookie: %v", err)
			}
		})
	}
}
