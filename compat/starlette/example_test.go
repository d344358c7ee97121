package starlette_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/starlette"
)

// Read a session cookie set by Starlette's
// SessionMiddleware(app, secret_key="secret-key"), and write one it accepts.
func Example() {
	now := func() time.Time { return time.Unix(1700000000, 0) } // for a stable example; omit in real code
	codec, err := starlette.New("secret-key", starlette.Options{Now: now})
	if err != nil {
		panic(err)
	}

	// The value of the "session" cookie (r.Cookie(starlette.DefaultCookieName)).
	session, issued, err := codec.Open("eyJ1c2VyIjogImFsaWNlIn0=.ZVPxAA.kMDYFhvHVLOK6MD71iELqZ-MwJ0")
	if err != nil {
		fmt.Println("no valid session:", errors.Is(err, sealed.ErrInvalid))
		return
	}
	fmt.Println(string(session), issued.Format(time.RFC3339))

	value, err := codec.Seal([]byte(`{"user":"bob"}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(value)

	_, _, err = codec.Open("x" + value[1:]) // tampered
	fmt.Println(errors.Is(err, sealed.ErrInvalid))
	// Output:
	// {"user":"alice"} 2023-11-14T22:13:20Z
	// eyJ1c2VyIjogImJvYiJ9.ZVPxAA.leDoM_K5k1CXbtcqDpuX0zYMAa0
	// true
}
