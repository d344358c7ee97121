package flask_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/flask"
)

// Read a session cookie set by a Flask app with SECRET_KEY = "secret-key",
// and write one it accepts.
func Example() {
	now := func() time.Time { return time.Unix(1700000000, 0) } // for a stable example; omit in real code
	codec, err := flask.New("secret-key", flask.Options{Now: now})
	if err != nil {
		panic(err)
	}

	// The value of the "session" cookie (r.Cookie(flask.DefaultCookieName)).
	session, issued, err := codec.Open("eyJ1c2VyIjoiYWxpY2UifQ.ZVPxAA.uUhuIpOZ_RbBZ4ImWrqwftflJck")
	if err != nil {
		fmt.Println("no valid session:", errors.Is(err, sealed.ErrInvalid))
		return
	}
	fmt.Println(string(session), issued.Format(time.RFC3339))

	value, err := codec.Seal([]byte(`{"user":"bob","_permanent":true}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(value)

	_, _, err = codec.Open("x" + value[1:]) // tampered
	fmt.Println(errors.Is(err, sealed.ErrInvalid))

	// A cookie older than PERMANENT_SESSION_LIFETIME (31 days by default).
	later, _ := flask.New("secret-key", flask.Options{Now: func() time.Time { return now().AddDate(0, 0, 32) }})
	_, _, err = later.Open(value)
	fmt.Println(errors.Is(err, sealed.ErrExpired))
	// Output:
	// {"user":"alice"} 2023-11-14T22:13:20Z
	// eyJfcGVybWFuZW50Ijp0cnVlLCJ1c2VyIjoiYm9iIn0.ZVPxAA.wNPXX3eVgFbLqKQW4ssEvaTIDWw
	// true
	// true
}
