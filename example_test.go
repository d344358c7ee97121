package sealed_test

import (
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/sealedcookie/sealed"
)

// In production keys come from configuration (ParseKeyRing, a JWKS file) or
// GenerateKey; examples use a fixed secret so their output is stable.
func exampleKey(id string, fill byte) sealed.Key {
	k, err := sealed.NewKey(id, []byte(strings.Repeat(string(rune('a'+fill)), 32)))
	if err != nil {
		log.Fatal(err)
	}
	return k
}

func ExampleSealer() {
	ring, err := sealed.NewKeyRing(exampleKey("2026-11", 0))
	if err != nil {
		log.Fatal(err)
	}
	s := sealed.NewSealer(ring)

	value, err := s.Seal("session", []byte(`{"user":"ada"}`), time.Now().Add(24*time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("cookie value length:", len(value))

	plaintext, info, err := s.Open("session", value)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s opened with key %s\n", plaintext, info.KeyID)

	// A value cannot be moved to another cookie.
	_, _, err = s.Open("admin_session", value)
	fmt.Println(errors.Is(err, sealed.ErrInvalid))
	// Output:
	// cookie value length: 91
	// {"user":"ada"} opened with key 2026-11
	// true
}

// Rotation: the new key seals, the old one still opens, and values it opened
// are marked stale so the application re-seals them.
func ExampleKeyRing_rotation() {
	oldKey, newKey := exampleKey("2026-10", 0), exampleKey("2026-11", 1)
	before, _ := sealed.NewKeyRing(oldKey)
	value, _ := sealed.NewSealer(before).Seal("session", []byte("hello"), time.Now().Add(time.Hour))

	after, _ := sealed.NewKeyRing(newKey, oldKey) // primary first
	s := sealed.NewSealer(after)
	plaintext, info, err := s.Open("session", value)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s key=%s stale=%v\n", plaintext, info.KeyID, info.Stale)
	if info.Stale {
		value, _ = s.Seal("session", plaintext, info.Expires) // keep the same expiry
	}
	_, info, _ = s.Open("session", value)
	fmt.Printf("re-sealed: key=%s stale=%v\n", info.KeyID, info.Stale)

	// Once no stale values remain, drop the old key: leftovers are unknown.
	retired, _ := sealed.NewKeyRing(newKey)
	_, _, err = sealed.NewSealer(retired).Open("session", sealX(before))
	fmt.Println(errors.Is(err, sealed.ErrUnknownKey))
	// Output:
	// hello key=2026-10 stale=true
	// re-sealed: key=2026-11 stale=false
	// true
}

// sealX seals "x" for the cookie "session" with r.
func sealX(r *sealed.KeyRing) string {
	v, err := sealed.NewSealer(r).Seal("session", []byte("x"), time.Now().Add(time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	return v
}

func ExampleTyped() {
	type Session struct {
		UserID int64    `json:"uid"`
		Roles  []string `json:"roles"`
	}
	ring, _ := sealed.NewKeyRing(exampleKey("k1", 0))
	sessions := sealed.NewTyped(sealed.NewSealer(ring), sealed.JSON[Session]())

	value, err := sessions.Seal("session", &Session{UserID: 42, Roles: []string{"admin"}}, time.Now().Add(time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	sess, _, err := sessions.Open("session", value)
	if err != nil {
		// Any error means "no session": treat the user as logged out.
		log.Fatal(err)
	}
	fmt.Println(sess.UserID, sess.Roles)
	// Output: 42 [admin]
}

func ExampleParseKeyRing() {
	// SEALED_KEYS="2026-11:<base64url secret>,2026-10:<base64url secret>"
	env := "2026-11:" + strings.Repeat("A", 43) + ",2026-10:" + strings.Repeat("B", 42) + "A"
	ring, err := sealed.ParseKeyRing(env)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ring.Primary().ID(), len(ring.Keys()))
	fmt.Println(ring) // key IDs only, never secrets
	// Output:
	// 2026-11 2
	// sealed.KeyRing(2026-11,2026-10)
}
