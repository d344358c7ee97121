package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/redisstore"
)

type Session struct {
	User string `json:"user"`
}

// Each instance of the application has one Store on its Redis client, and
// gives it to its Managers. A revocation made on any instance (here, "sign
// out everywhere") holds on every one.
func Example() {
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_ADDR")})
	defer client.Close()
	store, err := redisstore.New(ctx, client, redisstore.Options{Prefix: "example:"})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	key, err := sealed.GenerateKey("k1") // in production: sealed.ParseKeyRing(os.Getenv("SEALED_KEYS"))
	if err != nil {
		log.Fatal(err)
	}
	keys, err := sealed.NewKeyRing(key)
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := sealed.New(keys, sealed.JSON[Session](), sealed.Options{Revocations: store})
	if err != nil {
		log.Fatal(err)
	}
	sessions.Subject = func(s Session) string { return s.User }

	// On a password change: end every session of the user, everywhere.
	err = sessions.RevokeSubject(ctx, "alice")
	if errors.Is(err, redisstore.ErrQueued) {
		log.Print(err) // Redis is down: in force here now, everywhere once it is back
	} else if err != nil {
		log.Fatal(err)
	}

	// The Manager asks the Store about every session it opens, without I/O.
	minted := time.Now().Add(-time.Hour)
	fmt.Println("alice's session revoked:", store.Revoked(sealed.SessionID{1}, "alice", minted))
	fmt.Println("bob's session revoked:", store.Revoked(sealed.SessionID{2}, "bob", minted))
	// Output:
	// alice's session revoked: true
	// bob's session revoked: false
}
