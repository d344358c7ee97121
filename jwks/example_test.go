package jwks_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/jwks"
)

func ExampleParse() {
	// Usually read from a file mounted from a secret store; see Watch.
	// The first key seals; every key opens.
	set := []byte(`{"keys": [
	  {"kty": "oct", "kid": "2025-06", "k": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"},
	  {"kty": "oct", "kid": "2025-01", "k": "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8"}
	]}`)
	ring, err := jwks.Parse(set)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ring)
	fmt.Println("primary:", ring.Primary().ID())

	// Errors name a bad key by its position, never by its kid or secret.
	_, err = jwks.Parse([]byte(`{"keys": [{"kty": "oct", "kid": "short", "k": "AAECAwQFBgcICQoLDA0ODw"}]}`))
	fmt.Println(err)
	// Output:
	// sealed.KeyRing(2025-06,2025-01)
	// primary: 2025-06
	// jwks: key 1: "k": 16 bytes, want 32
}

// A server reads its keys from a JWKS file that "sealed rotate" edits: each
// edit (add a key, promote it, retire the old one) reaches every instance
// within the poll interval, without a restart.
func ExampleWatch() {
	dir, _ := os.MkdirTemp("", "keys")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "keys.json")
	k1, _ := sealed.GenerateKey("k1")
	ring, _ := sealed.NewKeyRing(k1)
	data, _ := jwks.Marshal(ring)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		log.Fatal(err)
	}

	keys, err := jwks.Watch(context.Background(), path, jwks.WatchOptions{
		OnChange: func(r *sealed.KeyRing) { log.Printf("keys reloaded: %v", r) }, // key IDs only
		OnError:  func(err error) { log.Printf("key file: %v (keeping the last good ring)", err) },
	})
	if err != nil {
		log.Fatal(err) // the first load must succeed
	}
	defer keys.Close()

	// The File is a KeySource: the Manager seals with whatever ring the file
	// holds now.
	type Session struct{ User string }
	sessions, err := sealed.New(keys, sealed.JSON[Session](), sealed.Options{})
	if err != nil {
		log.Fatal(err)
	}
	_ = sessions
	fmt.Println(keys.Current())

	// A rotation step: add k2 after k1 (it opens, k1 still seals).
	k2, _ := sealed.GenerateKey("k2")
	ring, _ = sealed.NewKeyRing(k1, k2)
	data, _ = jwks.Marshal(ring)
	_ = os.WriteFile(path, data, 0o600)
	_ = keys.Reload() // or wait for the next poll
	fmt.Println(keys.Current())
	// Output:
	// sealed.KeyRing(k1)
	// sealed.KeyRing(k1,k2)
}
