package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var revokeForm = regexp.MustCompile(`action="/sessions/([0-9a-f]{32})/revoke"`)

// Logging out ends a copy of the cookie too; the account page lists the
// user's sessions, and its buttons sign out one, the others, or all.
func TestSignOutButtons(t *testing.T) {
	h, clk, _ := newTestServer(t)
	laptop, phone, tablet := newBrowser(t, h), newBrowser(t, h), newBrowser(t, h)
	laptop.signIn("alice", password)

	// A copy of the laptop's cookie, taken before logout, stops working.
	stolen := newBrowser(t, h)
	for name, v := range laptop.Cookies() {
		stolen.SetCookie(&http.Cookie{Name: name, Value: v})
	}
	if !stolen.signedIn() {
		t.Fatal("the copy before logout is not signed in")
	}
	laptop.post("/logout", url.Values{"csrf": {token(t, laptop.get("/account"))}})
	if stolen.signedIn() {
		t.Fatal("a copy of the cookie still works after logout")
	}

	clk.Add(time.Millisecond)
	laptop.signIn("alice", password)
	clk.Add(time.Millisecond)
	phone.signIn("alice", password)
	clk.Add(time.Millisecond)
	tablet.signIn("alice", password)
	account := laptop.get("/account")
	if n := strings.Count(account.body, "<li>"); n != 3 || !strings.Contains(account.body, "(this one)") {
		t.Fatalf("the account lists %d sessions:\n%s", n, account.body)
	}
	ids := revokeForm.FindAllStringSubmatch(account.body, -1)
	if len(ids) != 2 {
		t.Fatalf("%d revoke buttons", len(ids))
	}
	// Sign out one device (the phone, the second listed).
	laptop.post("/sessions/"+ids[0][1]+"/revoke", url.Values{"csrf": {token(t, account)}})
	if phone.signedIn() || !tablet.signedIn() || !laptop.signedIn() {
		t.Fatal("revoking one device signed out the wrong ones")
	}
	// Sign out other devices keeps the laptop.
	clk.Add(time.Millisecond)
	laptop.post("/signout/others", url.Values{"csrf": {token(t, laptop.get("/account"))}})
	if tablet.signedIn() || !laptop.signedIn() {
		t.Fatal("sign out other devices")
	}
	// Sign out everywhere ends the laptop's session too.
	clk.Add(time.Millisecond)
	phone.signIn("alice", password)
	clk.Add(time.Millisecond)
	laptop.post("/signout/everywhere", url.Values{"csrf": {token(t, laptop.get("/account"))}})
	if phone.signedIn() || laptop.signedIn() {
		t.Fatal("sign out everywhere")
	}
	// A password change signs the other devices out.
	clk.Add(time.Millisecond)
	laptop.signIn("alice", password)
	clk.Add(time.Millisecond)
	phone.signIn("alice", password)
	clk.Add(time.Millisecond)
	laptop.post("/password", url.Values{"csrf": {token(t, laptop.get("/account"))}})
	if phone.signedIn() || !laptop.signedIn() {
		t.Fatal("a password change")
	}
}

// A cross-origin POST is refused by CrossOriginProtection before the
// session is even read, however good its CSRF token.
func TestCrossOriginPostRefused(t *testing.T) {
	h, _, _ := newTestServer(t)
	b := newBrowser(t, h)
	b.signIn("alice", password)
	tok := token(t, b.get("/account"))
	req := httptest.NewRequest("POST", "/logout", strings.NewReader(url.Values{"csrf": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, _ := b.Send(req); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d, want 403", resp.StatusCode)
	}
	if !b.signedIn() {
		t.Fatal("the cross-site POST signed the user out")
	}
	// The same POST from the same origin goes through.
	req = httptest.NewRequest("POST", "/logout", strings.NewReader(url.Values{"csrf": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if resp, _ := b.Send(req); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin POST: %d", resp.StatusCode)
	}
}
