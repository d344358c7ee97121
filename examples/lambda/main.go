// Command lambda is an AWS Lambda function behind an API Gateway HTTP API
// (payload format 2.0) that keeps its sessions in sealed cookies. Lambda
// has no http.ResponseWriter, so it uses the Manager's middleware-free
// functions: LoadHeader reads the event's Cookies, SaveHeader produces the
// Set-Cookie lines for the response's Cookies.
//
//	POST /login     body {"name": "alice"}: start a session
//	GET  /whoami    the session, or 401 without one
//	POST /visit     count a visit in the session
//	POST /notes     body {"note": "..."}: append a note (large sessions are
//	                split over several cookies; 413 when over the budget)
//	POST /logout    end the session
//
// Every instance of the function must seal with the same keys: deploy them
// as the SEALED_KEYS environment variable (from 'sealed keygen --env',
// stored in AWS Secrets Manager or an encrypted Lambda environment
// variable). The function refuses to start without it: an ephemeral key
// would log users out whenever a request reached another instance.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/sealedcookie/sealed"
)

// Session is what the cookie carries.
type Session struct {
	Name   string   `json:"name"`
	Visits int      `json:"visits"`
	Notes  []string `json:"notes,omitempty"`
}

// Handler is the Lambda function's handler type.
type Handler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// app is the function's state, built once per execution environment.
type app struct {
	m *sealed.Manager[Session]
}

// newHandler returns the function's handler, sealing sessions with keys.
func newHandler(keys sealed.KeySource, opts sealed.Options) (Handler, error) {
	m, err := sealed.New(keys, sealed.JSON[Session](), opts)
	if err != nil {
		return nil, err
	}
	a := &app{m: m}
	return a.handle, nil
}

// handle serves one event: it loads the session from the event's cookies,
// routes, and saves the session into the response's cookies.
func (a *app) handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	// API Gateway (payload 2.0) moves the Cookie header to ev.Cookies, one
	// "name=value" per element; each element is read as a Cookie line.
	ctx = a.m.LoadHeader(ctx, http.Header{"Cookie": ev.Cookies})

	code, body := a.route(ctx, ev)

	h := http.Header{"Content-Type": {"application/json"}}
	// Save before the response leaves: Set-Cookie lines (none if the
	// session did not change), Vary: Cookie and a Cache-Control directive.
	if err := a.m.SaveHeader(ctx, h); err != nil {
		if !errors.Is(err, sealed.ErrTooLarge) {
			return events.APIGatewayV2HTTPResponse{}, err // the invocation fails: 502
		}
		// Nothing was written: the client keeps its previous cookie.
		code, body = http.StatusRequestEntityTooLarge, map[string]string{"error": "the session is full"}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	resp := events.APIGatewayV2HTTPResponse{
		StatusCode: code,
		Cookies:    h.Values("Set-Cookie"),
		Headers:    map[string]string{},
		Body:       string(b),
	}
	h.Del("Set-Cookie")
	for k, v := range h {
		resp.Headers[k] = strings.Join(v, ", ")
	}
	return resp, nil
}

// route runs the request's handler and returns the status and the value to
// send as JSON.
func (a *app) route(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (int, any) {
	m := a.m
	switch ev.RequestContext.HTTP.Method + " " + ev.RawPath {
	case "POST /login":
		var in struct{ Name string }
		if err := decodeBody(ev, &in); err != nil || in.Name == "" || len(in.Name) > 64 {
			return http.StatusBadRequest, map[string]string{"error": `body must be {"name": "1 to 64 bytes"}`}
		}
		m.Put(ctx, Session{Name: in.Name})
		m.Renew(ctx) // a login starts a new session
		return http.StatusOK, map[string]string{"created": in.Name}
	case "GET /whoami":
		s, ok := m.Get(ctx)
		if !ok {
			return http.StatusUnauthorized, map[string]string{"error": "no session"}
		}
		return http.StatusOK, s
	case "POST /visit":
		if _, ok := m.Get(ctx); !ok {
			return http.StatusUnauthorized, map[string]string{"error": "no session"}
		}
		var n int
		m.Update(ctx, func(s *Session) { s.Visits++; n = s.Visits })
		return http.StatusOK, map[string]int{"visits": n}
	case "POST /notes":
		var in struct{ Note string }
		if err := decodeBody(ev, &in); err != nil {
			return http.StatusBadRequest, map[string]string{"error": err.Error()}
		}
		if _, ok := m.Get(ctx); !ok {
			return http.StatusUnauthorized, map[string]string{"error": "no session"}
		}
		var n int
		m.Update(ctx, func(s *Session) { s.Notes = append(s.Notes, in.Note); n = len(s.Notes) })
		return http.StatusOK, map[string]int{"notes": n}
	case "POST /logout":
		_, had := m.Get(ctx)
		m.Destroy(ctx)
		return http.StatusOK, map[string]bool{"deleted": had}
	}
	return http.StatusNotFound, map[string]string{"error": "not found"}
}

// decodeBody decodes the event's JSON body into v.
func decodeBody(ev events.APIGatewayV2HTTPRequest, v any) error {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return err
		}
	}
	return json.Unmarshal(body, v)
}

func main() {
	keys, err := sealed.ParseKeyRing(os.Getenv("SEALED_KEYS"))
	if err != nil {
		log.Fatalf("SEALED_KEYS: %v", err)
	}
	h, err := newHandler(keys, sealed.Options{})
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h)
}
