package iron_test

import (
	"errors"
	"fmt"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/iron"
)

// A Go service shares sessions with an iron-session application whose
// password option is { 1: "...", 2: "..." }; the seal travels in the
// application's cookie (its cookieName option).
func Example() {
	codec, err := iron.New(map[string]string{
		"1": "an-old-password-at-least-32-characters",
		"2": "the-current-password-at-least-32-chars", // highest id seals
	}, iron.Options{})
	if err != nil {
		panic(err)
	}

	seal, err := codec.Seal([]byte(`{"user":{"id":42},"isLoggedIn":true}`))
	if err != nil {
		panic(err)
	}
	payload, err := codec.Open(seal)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(payload))

	// Another application's password under the same id does not open it.
	other, err := iron.New(map[string]string{"2": "another-app-password-32-characters-x"}, iron.Options{})
	if err != nil {
		panic(err)
	}
	_, err = other.Open(seal)
	fmt.Println(errors.Is(err, sealed.ErrInvalid))
	// Output:
	// {"user":{"id":42},"isLoggedIn":true}
	// true
}
