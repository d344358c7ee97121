// Command login is a small but complete login flow on sealed sessions:
//
//   - a login form (HTML) protected against cross-site request forgery in
//     three layers: net/http's CrossOriginProtection refuses cross-origin
//     POSTs outright (from the Sec-Fetch-Site and Origin headers every
//     current browser sends); the session cookie is SameSite=Lax, so
//     browsers do not send it with cross-site POSTs; and every form carries
//     a random token kept in the session and compared in constant time, for
//     the clients the first two cannot judge (see csrfToken);
//   - flash messages ("Welcome, alice.", "Wrong user name or password.")
//     shown once after a redirect;
//   - Renew on login, so the signed-in session starts a new lifetime and
//     nothing from the anonymous session's cookie stays valid as a login;
//   - a page for signed-in users only, guarded by Manager.RequireFunc with a
//     predicate (a session alone is not a login: the form's CSRF token
//     gives every visitor one);
//   - logout, which expires the cookie in this browser and revokes the
//     session, so a copy of the cookie stops working too;
//   - "sign out other devices", "sign out everywhere" and a list of the
//     user's sessions, each with a button that revokes it; a password change
//     signs the user's other devices out through the same call;
//   - an idle timeout (the session ends after -idle without a request) and
//     an absolute lifetime (it ends -lifetime after login, however active).
//
// Try the timeouts with short values:
//
//	go run ./examples/login -idle 30s -lifetime 2m
//
// then sign in at http://localhost:8080/ as alice with the password
// "correct horse battery staple".
package main

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"flag"
	"html/template"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/sealedcookie/sealed"
)

// Session is the login session. An anonymous visitor who opens the login
// form gets a session holding only a CSRF token; User is set at login.
type Session struct {
	User string `json:"user,omitempty"`
	CSRF string `json:"csrf"`
}

// demoUsers stands in for a user store. A real application keeps password
// hashes (golang.org/x/crypto/argon2 or bcrypt) and compares those.
var demoUsers = map[string]string{
	"alice": "correct horse battery staple",
}

// checkPassword reports whether password is user's, in time that does not
// depend on where the strings differ.
func checkPassword(user, password string) bool {
	want, ok := demoUsers[user]
	if !ok {
		want = "\x00 no such user" // compare anyway, so the time does not tell
	}
	return subtle.ConstantTimeCompare([]byte(password), []byte(want)) == 1 && ok
}

// server is the application.
type server struct {
	m    *sealed.Manager[Session]
	opts sealed.Options
}

// newServer returns the application, sealing sessions with keys. opts sets
// the session's lifetime and idle timeout (and, in tests, its clock).
func newServer(keys sealed.KeySource, opts sealed.Options) (http.Handler, error) {
	opts.SameSite = http.SameSiteLaxMode // the default; CSRF defence number two
	if opts.Revocations == nil {
		// One instance: revocations in memory. A fleet shares a store
		// (the redisstore module).
		opts.Revocations = sealed.NewMemoryStore(opts.Now)
	}
	opts.Device = func(h http.Header) string { return h.Get("User-Agent") }
	var m *sealed.Manager[Session]
	// Requests that RequireFunc turns away go to the login form.
	opts.Unauthorized = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.Flash(r.Context(), "Please sign in.")
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})
	m, err := sealed.New(keys, sealed.JSON[Session](), opts)
	if err != nil {
		return nil, err
	}
	m.Subject = func(sess Session) string { return sess.User } // whose session it is
	s := &server{m: m, opts: opts}
	// A session is not a login: every visitor who opens the login form has
	// one, holding only a CSRF token. Pages for signed-in users say so with
	// a predicate; m.Require alone would admit those anonymous sessions.
	signedIn := m.RequireFunc(func(sess Session) bool { return sess.User != "" })
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.checkCSRF(s.login))
	mux.HandleFunc("POST /logout", s.checkCSRF(s.logout))
	mux.Handle("GET /account", signedIn(http.HandlerFunc(s.account)))
	mux.Handle("POST /signout/others", signedIn(s.checkCSRF(s.signoutOthers)))
	mux.Handle("POST /signout/everywhere", signedIn(s.checkCSRF(s.signoutEverywhere)))
	mux.Handle("POST /sessions/{id}/revoke", signedIn(s.checkCSRF(s.revokeSession)))
	mux.Handle("POST /password", signedIn(s.checkCSRF(s.changePassword)))
	// CSRF defence number one: refuse cross-origin POSTs before anything
	// else runs (net/http since Go 1.25; no need to hand-roll it).
	return http.NewCrossOriginProtection().Handler(m.Handler(mux)), nil
}

// csrfToken returns the session's CSRF token, starting a session with a
// new token if there is none.
//
// CrossOriginProtection and SameSite=Lax stop cross-site form posts from
// current browsers. The token is still needed for what they cannot judge:
// requests that carry neither Sec-Fetch-Site nor Origin (browsers from
// before 2023, some privacy proxies), which CrossOriginProtection lets
// through as same-origin; a sibling subdomain, which is same-site, so
// SameSite=Lax sends it the cookie; and any origin you add with
// AddTrustedOrigin. If you support none of those, the token can go.
func (s *server) csrfToken(r *http.Request) string {
	if sess, ok := s.m.Get(r.Context()); ok && sess.CSRF != "" {
		return sess.CSRF
	}
	var token string
	s.m.Update(r.Context(), func(sess *Session) {
		if sess.CSRF == "" {
			sess.CSRF = rand.Text() // 128 random bits
		}
		token = sess.CSRF
	})
	return token
}

// checkCSRF serves next only for POSTs whose "csrf" form field matches the
// token in the session; the others get 403 Forbidden.
func (s *server) checkCSRF(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		sess, ok := s.m.Get(r.Context())
		sent := r.PostFormValue("csrf")
		if !ok || sess.CSRF == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(sess.CSRF)) != 1 {
			http.Error(w, "Forbidden: invalid or missing CSRF token; reload the page and try again", http.StatusForbidden)
			return
		}
		next(w, r)
	}
}

func (s *server) home(w http.ResponseWriter, r *http.Request) {
	sess, _ := s.m.Get(r.Context())
	data := page{Title: "Home", User: sess.User, Flashes: s.m.Flashes(r.Context())}
	if sess.User != "" {
		data.CSRF = s.csrfToken(r)
	}
	s.render(w, data)
}

func (s *server) loginForm(w http.ResponseWriter, r *http.Request) {
	if sess, ok := s.m.Get(r.Context()); ok && sess.User != "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, page{Title: "Sign in", Login: true, CSRF: s.csrfToken(r), Flashes: s.m.Flashes(r.Context())})
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	user := r.PostFormValue("user")
	if !checkPassword(user, r.PostFormValue("password")) {
		s.m.Flash(r.Context(), "Wrong user name or password.")
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.m.Update(r.Context(), func(sess *Session) {
		sess.User = user
		sess.CSRF = rand.Text() // a new token for the signed-in session
	})
	s.m.Renew(r.Context()) // a new issue time and absolute deadline
	s.m.Flash(r.Context(), "Welcome, "+user+".")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	s.m.Destroy(r.Context())
	s.m.Flash(r.Context(), "You are signed out.") // flashes outlive Destroy
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *server) account(w http.ResponseWriter, r *http.Request) {
	sess, _ := s.m.Get(r.Context())
	info, _ := s.m.Info(r.Context())
	devices, err := s.m.Sessions(r.Context(), sess.User)
	if err != nil {
		log.Printf("listing the sessions of %s: %v", sess.User, err)
	}
	p := page{
		Title: "Account", User: sess.User, CSRF: s.csrfToken(r), Account: true,
		Issued: info.Issued.UTC(), Deadline: info.Deadline.UTC(), Idle: s.opts.IdleTimeout,
		Flashes: s.m.Flashes(r.Context()),
	}
	for _, d := range devices {
		p.Devices = append(p.Devices, device{ID: d.ID.String(), Name: d.Device, Created: d.Created.UTC(), This: d.ID == info.ID})
	}
	s.render(w, p)
}

// signoutOthers ends every other session of the user: the other devices.
func (s *server) signoutOthers(w http.ResponseWriter, r *http.Request) {
	s.done(w, r, s.m.RevokeOthers(r.Context()), "Your other devices are signed out.", "/account")
}

// signoutEverywhere ends every session of the user, this one included.
func (s *server) signoutEverywhere(w http.ResponseWriter, r *http.Request) {
	sess, _ := s.m.Get(r.Context())
	err := s.m.RevokeSubject(r.Context(), sess.User)
	if err == nil {
		s.m.Destroy(r.Context())
	}
	s.done(w, r, err, "You are signed out everywhere.", "/")
}

// revokeSession ends one of the user's own sessions, from the device list.
func (s *server) revokeSession(w http.ResponseWriter, r *http.Request) {
	sess, _ := s.m.Get(r.Context())
	id, err := sealed.ParseSessionID(r.PathValue("id"))
	if err == nil {
		err = errors.New("no such session")
		devices, lerr := s.m.Sessions(r.Context(), sess.User)
		for _, d := range devices { // only the user's own: an ID is not a capability
			if d.ID == id {
				err = s.m.Revoke(r.Context(), sess.User, id)
			}
		}
		if lerr != nil {
			err = lerr
		}
	}
	s.done(w, r, err, "That session is signed out.", "/account")
}

// changePassword stands in for a password change, an event after which
// the user's other sessions must end: it signs them out through the same
// call as the button.
func (s *server) changePassword(w http.ResponseWriter, r *http.Request) {
	// A real application checks the old password and stores the new hash.
	s.done(w, r, s.m.RevokeOthers(r.Context()), "Password changed; your other devices are signed out.", "/account")
}

// done redirects to next with a flash message saying whether it worked.
func (s *server) done(w http.ResponseWriter, r *http.Request, err error, ok, next string) {
	if err != nil {
		log.Printf("%s: %v", r.URL.Path, err)
		s.m.Flash(r.Context(), "That did not work; try again.")
	} else {
		s.m.Flash(r.Context(), ok)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// page is the data for the page template.
type page struct {
	Title, User, CSRF string
	Flashes           []string
	Login, Account    bool
	Issued, Deadline  time.Time
	Idle              time.Duration
	Devices           []device
}

// device is one of the user's sessions on the account page.
type device struct {
	ID, Name string
	Created  time.Time
	This     bool
}

func (s *server) render(w http.ResponseWriter, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store") // pages carry the CSRF token
	if err := pageTemplate.Execute(w, p); err != nil {
		log.Printf("rendering %s: %v", p.Title, err)
	}
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
{{range .Flashes}}<p class="flash">{{.}}</p>
{{end}}
{{- if .Login}}
<h1>Sign in</h1>
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label>User <input name="user" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button>Sign in</button>
</form>
{{- else if .User}}
<h1>{{.Title}}</h1>
<p>Signed in as <b id="user">{{.User}}</b>. <a href="/account">Account</a></p>
{{- if .Account}}
<p>Signed in at {{.Issued.Format "15:04:05"}} UTC. The session ends at
{{.Deadline.Format "15:04:05"}} UTC however active you are{{if .Idle}}, or
after {{.Idle}} without a request{{end}}.</p>
<h2>Your sessions</h2>
<ul id="devices">
{{- range .Devices}}
<li>{{or .Name "unknown device"}}, signed in at {{.Created.Format "15:04:05"}} UTC
{{- if .This}} (this one){{else}}
<form method="post" action="/sessions/{{.ID}}/revoke" style="display:inline">
<input type="hidden" name="csrf" value="{{$.CSRF}}"><button>Sign out</button></form>{{end}}</li>
{{- end}}
</ul>
<form method="post" action="/signout/others">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button>Sign out other devices</button>
</form>
<form method="post" action="/signout/everywhere">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button>Sign out everywhere</button>
</form>
<form method="post" action="/password">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button>Change password</button>
</form>
{{- end}}
<form method="post" action="/logout">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button>Sign out</button>
</form>
{{- else}}
<h1>{{.Title}}</h1>
<p>You are not signed in. <a href="/login">Sign in</a></p>
{{- end}}
</body>
</html>
`))

// loadKeys reads the key ring from $SEALED_KEYS ("id:secret,...", the first
// key seals) or, without it, generates a key that lives only in memory.
func loadKeys() (*sealed.KeyRing, error) {
	if v := os.Getenv("SEALED_KEYS"); v != "" {
		return sealed.ParseKeyRing(v)
	}
	log.Print("SEALED_KEYS is not set: using an ephemeral key (sessions end with the process)")
	key, err := sealed.GenerateKey("ephemeral")
	if err != nil {
		return nil, err
	}
	return sealed.NewKeyRing(key)
}

func main() {
	addr := flag.String("addr", "localhost:8080", "listen address")
	lifetime := flag.Duration("lifetime", 8*time.Hour, "absolute session lifetime, counted from login")
	idle := flag.Duration("idle", 30*time.Minute, "idle timeout: the session ends after this long without a request (0: none)")
	flag.Parse()
	keys, err := loadKeys()
	if err != nil {
		log.Fatal(err)
	}
	h, err := newServer(keys, sealed.Options{Lifetime: *lifetime, IdleTimeout: *idle})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on http://%s/ (lifetime %v, idle timeout %v)", *addr, *lifetime, *idle)
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
