package sealedecho_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/labstack/echo/v5"
	"github.com/sealedcookie/sealed"
	sealedecho "github.com/sealedcookie/sealed/adapters/echo"
)

// Handlers reach the session through c.Request().Context(), where the
// middleware put it.
func Example() {
	type Session struct{ Name string }
	key, _ := sealed.GenerateKey("k1")
	keys, _ := sealed.NewKeyRing(key)
	m, _ := sealed.New(keys, sealed.JSON[Session](), sealed.Options{})

	e := echo.New()
	e.Use(sealedecho.Middleware(m))
	e.POST("/login/:name", func(c *echo.Context) error {
		m.Put(c.Request().Context(), Session{Name: c.Param("name")})
		m.Renew(c.Request().Context())
		return c.NoContent(http.StatusNoContent)
	})
	e.GET("/me", func(c *echo.Context) error {
		s, _ := m.Get(c.Request().Context())
		return c.String(http.StatusOK, "hello "+s.Name)
	}, sealedecho.Require(m))

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("POST", "/login/alice", nil))
	req := httptest.NewRequest("GET", "/me", nil)
	for _, ck := range rec.Result().Cookies() {
		req.AddCookie(ck)
	}
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	fmt.Println(rec.Body)
	// Output: hello alice
}
