package jwe_test

import (
	"fmt"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/jwe"
)

// A service that hands sessions to readers in other languages seals them
// as JWE. sealed.Typed works over a jwe.Sealer as over a sealed.Sealer.
func ExampleSealer() {
	key, _ := sealed.GenerateKey("2025-06")
	ring, _ := sealed.NewKeyRing(key)

	type Session struct {
		User string `json:"user"`
	}
	sessions := sealed.NewTyped(jwe.NewSealer(ring), sealed.JSON[Session]())
	v, err := sessions.Seal("session", &Session{User: "ann"}, time.Now().Add(time.Hour))
	if err != nil {
		fmt.Println(err)
		return
	}
	// v is a compact JWE: "alg":"dir", "enc":"A256GCM", with "kid", "exp"
	// and "cookie" in its protected header. Node's jose reads it with
	// compactDecrypt, then checks exp and cookie itself.
	s, info, err := sessions.Open("session", v)
	fmt.Println(s.User, info.KeyID, err)
	// Output: ann 2025-06 <nil>
}
