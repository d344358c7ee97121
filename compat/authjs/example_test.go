package authjs_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"

	"github.com/sealedcookie/sealed/compat/authjs"
)

// A Go service reads the session that an Auth.js v5 application (or, with
// NewV4, NextAuth v4) set: same AUTH_SECRET, same cookie name.
func Example() {
	codec, err := authjs.New([]string{"the AUTH_SECRET value"}, authjs.Options{
		CookieName: authjs.SecureCookieName, // the app runs on https
	})
	if err != nil {
		panic(err)
	}

	// Here the cookie is made by Seal; in production the browser sends
	// the one Auth.js set (possibly split into .0, .1, ... chunks).
	value, err := codec.Seal([]byte(`{"sub":"user-1","email":"ada@example.com"}`))
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest("GET", "https://example.com/", nil)
	for _, c := range codec.Cookies(value, nil) {
		req.AddCookie(c)
	}

	claims, err := codec.OpenRequest(req) // errors.Is(err, sealed.ErrExpired), ...
	if err != nil {
		panic(err)
	}
	var session struct {
		Sub   string `json:"sub"`
		Email string `json:"email"`
		Exp   int64  `json:"exp"`
		Iat   int64  `json:"iat"`
	}
	if err := json.Unmarshal(claims, &session); err != nil {
		panic(err)
	}
	fmt.Println(session.Sub, session.Email, session.Exp-session.Iat)
	// Output: user-1 ada@example.com 2592000
}
