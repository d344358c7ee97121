package sealed_test

import (
	"encoding/hex"
	"errors"
	"expvar"
	"fmt"
	"time"

	"github.com/sealedcookie/sealed"
)

func ExampleDeriveKey() {
	// One master secret of at least 32 random bytes, for example from
	// "openssl rand -hex 32" in an environment variable.
	master, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")

	// One key per cookie: the purpose goes into HKDF's info.
	sessionKey, err := sealed.DeriveKey(master, "k1", "session")
	if err != nil {
		fmt.Println(err)
		return
	}
	prefsKey, _ := sealed.DeriveKey(master, "k1", "prefs")
	sessionRing, _ := sealed.NewKeyRing(sessionKey)
	prefsRing, _ := sealed.NewKeyRing(prefsKey)

	expires := time.Now().Add(time.Hour)
	v, _ := sealed.NewSealer(sessionRing).Seal("session", []byte("user=42"), expires)
	pt, _, err := sealed.NewSealer(sessionRing).Open("session", v)
	fmt.Printf("%s %v\n", pt, err)
	_, _, err = sealed.NewSealer(prefsRing).Open("session", v)
	fmt.Println("prefs key opens it:", !errors.Is(err, sealed.ErrInvalid))

	// A password is not a master secret.
	_, err = sealed.DeriveKey([]byte("correct horse"), "k1", "session")
	fmt.Println(err)
	// Output:
	// user=42 <nil>
	// prefs key opens it: false
	// sealed: derive key "k1": master secret is 13 bytes, want at least 32 random bytes (not a password)
}

func ExampleSealer_Stats_expvar() {
	k, _ := sealed.GenerateKey("2025-06")
	ring, _ := sealed.NewKeyRing(k)
	s := sealed.NewSealer(ring)

	// Publish the counters at /debug/vars (expvar's handler is registered
	// on http.DefaultServeMux). Watch Opened[oldID] fall to zero growth
	// before retiring a key, and UnknownKey after retiring one.
	expvar.Publish("sealed_session", expvar.Func(func() any { return s.Stats() }))

	v, _ := s.Seal("session", []byte("{}"), time.Now().Add(time.Hour))
	_, _, _ = s.Open("session", v)
	_, _, _ = s.Open("session", "not a sealed value, far too short")
	fmt.Println(expvar.Get("sealed_session"))
	// Output:
	// {"Sealed":{"2025-06":1},"Opened":{"2025-06":1},"Stale":0,"UnknownKey":0,"Invalid":0,"Expired":0,"Malformed":1,"TooLarge":0,"Revoked":0}
}
