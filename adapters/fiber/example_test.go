package sealedfiber_test

import (
	"fmt"
	"io"
	"net/http/httptest"

	"github.com/gofiber/fiber/v3"
	"github.com/sealedcookie/sealed"
	sealedfiber "github.com/sealedcookie/sealed/adapters/fiber"
)

// Handlers pass the fiber.Ctx to the Manager: the middleware makes it carry
// the session.
func Example() {
	type Session struct{ Name string }
	key, _ := sealed.GenerateKey("k1")
	keys, _ := sealed.NewKeyRing(key)
	m, _ := sealed.New(keys, sealed.JSON[Session](), sealed.Options{})

	app := fiber.New(fiber.Config{ReadBufferSize: 20 << 10})
	app.Use(sealedfiber.Middleware(m)) // before the routes
	app.Post("/login/:name", func(c fiber.Ctx) error {
		m.Put(c, Session{Name: c.Params("name")})
		m.Renew(c)
		return c.SendStatus(fiber.StatusNoContent)
	})
	app.Get("/me", sealedfiber.Require(m), func(c fiber.Ctx) error {
		s, _ := m.Get(c)
		return c.SendString("hello " + s.Name)
	})

	resp, _ := app.Test(httptest.NewRequest("POST", "/login/alice", nil))
	req := httptest.NewRequest("GET", "/me", nil)
	for _, ck := range resp.Cookies() {
		req.AddCookie(ck)
	}
	resp, _ = app.Test(req)
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output: hello alice
}
