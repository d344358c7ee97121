package authjs_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/authjs"
	"github.com/sealedcookie/sealed/internal/peertest"
)

// These tests drive the real @auth/core and next-auth@4 through
// ../../interop/authjs.mjs. Without Node or the installed packages they
// skip, unless SEALED_INTEROP=1, when they fail: run
// `npm ci --prefix interop` from the repository root first.

// peer runs the interop script with one request and decodes its answer.
func peer(t *testing.T, req, resp any) {
	t.Helper()
	peertest.RunJSON(t, peertest.NodeScript(t, "authjs.mjs", "@auth/core", "next-auth", "jose"), req, resp)
}

type peerReq struct {
	Op         string            `json:"op"`
	Version    int               `json:"version"`
	Secret     any               `json:"secret,omitempty"`
	Salt       string            `json:"salt,omitempty"`
	Token      any               `json:"token,omitempty"`
	MaxAge     int               `json:"maxAge,omitempty"`
	Value      string            `json:"value,omitempty"`
	Name       string            `json:"name,omitempty"`
	CookieName string            `json:"cookieName,omitempty"`
	Cookies    map[string]string `json:"cookies,omitempty"`
}

type peerResp struct {
	Value   string         `json:"value"`
	Payload map[string]any `json:"payload"`
	Error   string         `json:"error"`
	Cookies []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"cookies"`
}

var user = map[string]any{"sub": "user-7", "name": "Grace", "email": "grace@example.com", "roles": []any{"a", "b"}}

func checkUser(t *testing.T, claims map[string]any, extra ...string) {
	t.Helper()
	for _, k := range append([]string{"sub", "name", "email"}, extra...) {
		if claims[k] != user[k] && !(k == "blob" && len(claims[k].(string)) == 6000) {
			t.Fatalf("claim %s = %v, want %v (claims %.200v)", k, claims[k], user[k], claims)
		}
	}
	if claims["jti"] == nil || claims["iat"] == nil || claims["exp"] == nil {
		t.Fatalf("claims lack iat/exp/jti: %.200v", claims)
	}
}

func secretArg(version int, secrets []string) any {
	if version == 4 {
		return secrets[0] // NextAuth v4 takes a single string
	}
	return secrets
}

// TestPeerEncodeGoOpen: the JavaScript library encodes, Go opens.
func TestPeerEncodeGoOpen(t *testing.T) {
	for _, tc := range []struct {
		name       string
		version    int
		cookieName string
		jsSecrets  []string
		goSecrets  []string
	}{
		{"v5", 5, authjs.CookieName, []string{"peer-secret"}, []string{"peer-secret"}},
		{"v5 secure", 5, authjs.SecureCookieName, []string{"peer-secret"}, []string{"peer-secret"}},
		{"v5 rotated", 5, authjs.CookieName, []string{"old-secret"}, []string{"new-secret", "old-secret"}},
		{"v4", 4, authjs.V4CookieName, []string{"peer-secret"}, []string{"peer-secret"}},
		{"v4 rotated", 4, authjs.V4CookieName, []string{"old-secret"}, []string{"new-secret", "old-secret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			salt := tc.cookieName
			if tc.version == 4 {
				salt = ""
			}
			var enc peerResp
			peer(t, peerReq{Op: "encode", Version: tc.version, Secret: secretArg(tc.version, tc.jsSecrets), Salt: salt, Token: user, MaxAge: 600}, &enc)
			c := newCodec(t, tc.version, tc.goSecrets, authjs.Options{CookieName: tc.cookieName})
			got, err := c.Open(enc.Value)
			if err != nil {
				t.Fatal(err)
			}
			var claims map[string]any
			if err := json.Unmarshal(got, &claims); err != nil {
				t.Fatal(err)
			}
			checkUser(t, claims)
			if claims["exp"].(float64)-claims["iat"].(float64) != 600 {
				t.Fatalf("exp-iat = %v", claims["exp"].(float64)-claims["iat"].(float64))
			}
			// The wrong secret does not open it.
			_, err = newCodec(t, tc.version, []string{"wrong"}, authjs.Options{CookieName: tc.cookieName}).Open(enc.Value)
			if !errors.Is(err, sealed.ErrUnknownKey) && !errors.Is(err, sealed.ErrInvalid) {
				t.Fatalf("wrong secret: %v", err)
			}
			// Expired by the peer's clock.
			peer(t, peerReq{Op: "encode", Version: tc.version, Secret: secretArg(tc.version, tc.jsSecrets), Salt: salt, Token: user, MaxAge: -30}, &enc)
			if _, err := c.Open(enc.Value); !errors.Is(err, sealed.ErrExpired) {
				t.Fatalf("expired: %v", err)
			}
		})
	}
}

// TestPeerChunked: a session too big for one cookie, split by the
// library's own SessionStore, read with OpenRequest.
func TestPeerChunked(t *testing.T) {
	big := map[string]any{"blob": strings.Repeat("z", 6000)}
	for k, v := range user {
		big[k] = v
	}
	for _, version := range []int{5, 4} {
		name := authjs.CookieName
		salt := name
		if version == 4 {
			name, salt = authjs.V4CookieName, ""
		}
		var enc, chunks peerResp
		peer(t, peerReq{Op: "encode", Version: version, Secret: secretArg(version, []string{"peer-secret"}), Salt: salt, Token: big}, &enc)
		peer(t, peerReq{Op: "chunk", Version: version, Name: name, Value: enc.Value}, &chunks)
		if len(chunks.Cookies) < 2 {
			t.Fatalf("v%d: %d chunks", version, len(chunks.Cookies))
		}
		req := httptest.NewRequest("GET", "/", nil)
		for i := len(chunks.Cookies) - 1; i >= 0; i-- { // reversed on purpose
			req.AddCookie(&http.Cookie{Name: chunks.Cookies[i].Name, Value: chunks.Cookies[i].Value})
		}
		c := newCodec(t, version, []string{"peer-secret"}, authjs.Options{})
		got, err := c.OpenRequest(req)
		if err != nil {
			t.Fatalf("v%d: %v", version, err)
		}
		var claims map[string]any
		if err := json.Unmarshal(got, &claims); err != nil {
			t.Fatal(err)
		}
		checkUser(t, claims, "blob")

		// Go's own chunking matches the library's.
		ours := c.Cookies(enc.Value, nil)
		if len(ours) != len(chunks.Cookies) {
			t.Fatalf("v%d: Go made %d chunks, the library %d", version, len(ours), len(chunks.Cookies))
		}
		for i := range ours {
			if ours[i].Name != chunks.Cookies[i].Name || ours[i].Value != chunks.Cookies[i].Value {
				t.Fatalf("v%d: chunk %d differs: Go %s (%d chars), library %s (%d chars)", version, i,
					ours[i].Name, len(ours[i].Value), chunks.Cookies[i].Name, len(chunks.Cookies[i].Value))
			}
		}
	}
}

// TestGoSealPeerOpen: Go seals, the library decodes (decode and getToken,
// which joins chunked cookies).
func TestGoSealPeerOpen(t *testing.T) {
	for _, version := range []int{5, 4} {
		c := newCodec(t, version, []string{"go-secret", "older"}, authjs.Options{MaxAge: time.Hour})
		salt := c.CookieName()
		if version == 4 {
			salt = ""
		}
		claims, _ := json.Marshal(user)
		value, err := c.Seal(claims)
		if err != nil {
			t.Fatal(err)
		}
		var dec peerResp
		// v5: the library finds the secret by kid, so the sealing secret
		// need not come first on its side.
		secret := secretArg(version, []string{"go-secret"})
		if version == 5 {
			secret = []string{"other", "go-secret"}
		}
		peer(t, peerReq{Op: "decode", Version: version, Secret: secret, Salt: salt, Value: value}, &dec)
		if dec.Error != "" {
			t.Fatalf("v%d: library rejected Go's value: %s", version, dec.Error)
		}
		checkUser(t, dec.Payload)
		if dec.Payload["exp"].(float64)-dec.Payload["iat"].(float64) != 3600 {
			t.Fatalf("v%d: exp-iat = %v", version, dec.Payload["exp"].(float64)-dec.Payload["iat"].(float64))
		}
		// The library rejects a tampered value and a wrong secret.
		parts := strings.Split(value, ".")
		parts[3] = flip(parts[3], 0)
		peer(t, peerReq{Op: "decode", Version: version, Secret: secret, Salt: salt, Value: strings.Join(parts, ".")}, &dec)
		if dec.Error == "" {
			t.Fatalf("v%d: library accepted a tampered value", version)
		}
		peer(t, peerReq{Op: "decode", Version: version, Secret: secretArg(version, []string{"wrong"}), Salt: salt, Value: value}, &dec)
		if dec.Error == "" {
			t.Fatalf("v%d: library accepted the wrong secret", version)
		}

		// A chunked session written by Go, read by getToken.
		big := map[string]any{"blob": strings.Repeat("q", 6000)}
		for k, v := range user {
			big[k] = v
		}
		claims, _ = json.Marshal(big)
		if value, err = c.Seal(claims); err != nil {
			t.Fatal(err)
		}
		cookies := map[string]string{}
		for _, ck := range c.Cookies(value, nil) {
			cookies[ck.Name] = ck.Value
		}
		if len(cookies) < 2 {
			t.Fatalf("v%d: not chunked: %d cookies", version, len(cookies))
		}
		peer(t, peerReq{Op: "getToken", Version: version, Secret: secret, CookieName: c.CookieName(), Cookies: cookies}, &dec)
		if dec.Payload == nil {
			t.Fatalf("v%d: getToken rejected Go's chunked cookies", version)
		}
		checkUser(t, dec.Payload, "blob")
	}
}
