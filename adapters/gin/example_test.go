package sealedgin_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"
	"github.com/sealedcookie/sealed"
	sealedgin "github.com/sealedcookie/sealed/adapters/gin"
)

// The helpers take the *gin.Context and read the session from
// c.Request.Context(), where the middleware put it, whatever the engine's
// ContextWithFallback.
func Example() {
	type Session struct{ Name string }
	key, _ := sealed.GenerateKey("k1")
	keys, _ := sealed.NewKeyRing(key)
	m, _ := sealed.New(keys, sealed.JSON[Session](), sealed.Options{})

	r := gin.New()
	r.Use(sealedgin.Middleware(m)) // before the routes
	r.POST("/login/:name", func(c *gin.Context) {
		sealedgin.Put(c, m, Session{Name: c.Param("name")})
		sealedgin.Renew(c, m)
		c.Status(http.StatusNoContent)
	})
	r.GET("/me", sealedgin.Require(m), func(c *gin.Context) {
		s, _ := sealedgin.Get(c, m)
		c.String(http.StatusOK, "hello %s", s.Name)
	})

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("POST", "/login/alice", nil))
	req := httptest.NewRequest("GET", "/me", nil)
	for _, ck := range rec.Result().Cookies() {
		req.AddCookie(ck)
	}
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	fmt.Println(rec.Body)
	// Output: hello alice
}
