package main

import (
	"net/http"
	"strings"
	"time"

	"github.com/sealedcookie/sealed"
)

// demoStats is what GET /debug/sealed answers: the Manager's counters
// (Stats.Revoked counts sessions refused as revoked) and the revocation
// store's.
type demoStats struct {
	sealed.Stats
	Revocations any
}

// revocationStats returns the store's own counters: its Stats when it has
// a Stats method (the demo's Redis store), else the number of entries of a
// MemoryStore.
func revocationStats(store sealed.RevocationStore) any {
	switch s := store.(type) {
	case interface{ Stats() any }:
		return s.Stats()
	case *sealed.MemoryStore:
		return map[string]int{"Size": s.Len()}
	}
	return nil
}

// demoSessionJSON is one entry of GET /sessions.
type demoSessionJSON struct {
	ID        string    `json:"id"`
	Current   bool      `json:"current"`
	Created   time.Time `json:"created"`
	Refreshed time.Time `json:"refreshed"`
	Expires   time.Time `json:"expires"`
	Device    string    `json:"device"`
}

// addRevocationRoutes adds the sign-out and device-list endpoints, which
// act for the subject of the request's session: its user's name. A
// revocation that the store queued because Redis is unreachable answers
// 202 Accepted with a note (answerRevoke); the device list, which lives in
// the store, answers 503 while it cannot be read.
func addRevocationRoutes(mux *http.ServeMux, m *sealed.Manager[demoSession]) {
	signedIn := m.RequireFunc(func(s demoSession) bool { return s.Name != "" })
	handle := func(pattern string, f func(w http.ResponseWriter, r *http.Request, info sealed.SessionInfo)) {
		mux.Handle(pattern, signedIn(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			info, _ := m.Info(r.Context())
			f(w, r, info)
		})))
	}
	handle("POST /signout_everywhere", func(w http.ResponseWriter, r *http.Request, info sealed.SessionInfo) {
		err := m.RevokeSubject(r.Context(), info.Subject)
		if revokeFailed(err) {
			answerRevoke(w, err, nil)
			return
		}
		m.Destroy(r.Context()) // this browser's cookie too
		answerRevoke(w, err, map[string]any{"signed_out": info.Subject})
	})
	handle("POST /signout_others", func(w http.ResponseWriter, r *http.Request, info sealed.SessionInfo) {
		err := m.RevokeOthers(r.Context())
		answerRevoke(w, err, map[string]any{"signed_out_others_of": info.Subject})
	})
	handle("GET /sessions", func(w http.ResponseWriter, r *http.Request, info sealed.SessionInfo) {
		recs, err := m.Sessions(r.Context(), info.Subject)
		if err != nil {
			demoJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
			return
		}
		out := make([]demoSessionJSON, 0, len(recs))
		for _, rec := range recs {
			out = append(out, demoSessionJSON{
				ID: rec.ID.String(), Current: rec.ID == info.ID,
				Created: rec.Created.UTC(), Refreshed: rec.Refreshed.UTC(), Expires: rec.Expires.UTC(),
				Device: rec.Device,
			})
		}
		demoJSON(w, http.StatusOK, out)
	})
	handle("POST /sessions/{id}/revoke", func(w http.ResponseWriter, r *http.Request, info sealed.SessionInfo) {
		id, err := sealed.ParseSessionID(r.PathValue("id"))
		if err != nil {
			demoJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		// Only the user's own sessions: a session ID is not a capability.
		recs, err := m.Sessions(r.Context(), info.Subject)
		if err != nil {
			demoJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
			return
		}
		for _, rec := range recs {
			if rec.ID == id {
				err := m.Revoke(r.Context(), info.Subject, id)
				answerRevoke(w, err, map[string]any{"revoked": id.String()})
				return
			}
		}
		demoJSON(w, http.StatusNotFound, map[string]string{"error": "no such session of " + info.Subject})
	})
}

// browserFamily describes a client coarsely from its User-Agent, for the
// device list: the browser family and, when it says, the platform.
func browserFamily(h http.Header) string {
	ua := h.Get("User-Agent")
	family := "other"
	for _, f := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"},
		{"Safari/", "Safari"}, {"curl/", "curl"}, {"Go-http-client", "Go"},
	} {
		if strings.Contains(ua, f.token) {
			family = f.name
			break
		}
	}
	for _, p := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iOS"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, p.token) {
			return family + " on " + p.name
		}
	}
	return family
}
