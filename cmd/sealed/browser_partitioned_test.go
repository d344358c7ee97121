//go:build unix

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/sealedtest"
)

// TestBrowserPartitionedIframe: a session in a cross-site iframe, in
// headless Chromium with third-party cookies blocked (as Chrome's
// third-party cookie phase-out blocks them). With Options.Partitioned
// (CHIPS) the session works inside the iframe; without it the same
// SameSite=None cookie is refused, which shows the iframe really is a
// third party (it works when the widget's site is visited directly). The
// partitioned cookie belongs to the embedding site only:
// the widget's own site, visited directly, has no session.
func TestBrowserPartitionedIframe(t *testing.T) {
	browser, driver := findBrowser(t)
	wd := startWebDriver(t, browser, driver, "--test-third-party-cookie-phaseout")

	for _, tc := range []struct {
		partitioned bool
		want        string // whoami inside the iframe after logging in
	}{
		{false, "401"},
		{true, "200 alice 3"},
	} {
		t.Run("partitioned="+strconv.FormatBool(tc.partitioned), func(t *testing.T) {
			widget := serveWidget(t, tc.partitioned) // http://127.0.0.1:P2, the third party
			top := serveEmbedder(t, widget+"/frame") // http://localhost:P1, the page the user visits
			wd.navigate(top + "/")
			wd.waitFor(`return window.result || ""`, "done")
			got := strings.TrimSuffix(fmt.Sprint(wd.exec(`return window.result`)), " done")
			if got != tc.want {
				t.Fatalf("in the cross-site iframe: %q, want %q", got, tc.want)
			}
			if !tc.partitioned {
				// The control: the same cookie works first-party, so it
				// was refused above for being a third party's.
				wd.navigate(widget + "/frame")
				wd.waitFor(`return window.result || ""`, "done")
				if got := fmt.Sprint(wd.exec(`return window.result`)); got != "200 alice 3 done" {
					t.Fatalf("the widget visited directly: %q", got)
				}
				return
			}
			// The widget's site visited directly: another partition, so
			// no session there.
			wd.navigate(widget + "/whoami")
			if body := fmt.Sprint(wd.exec(`return document.body.innerText`)); body != "401" {
				t.Errorf("widget site, top level: %q; want no session (401)", body)
			}
		})
	}
}

// serveWidget serves the embedded site: /frame logs in, bumps a counter
// twice and asks /whoami, all with credentialed fetches, and posts the
// answer to the embedding page.
func serveWidget(t *testing.T, partitioned bool) string {
	type widgetSession struct {
		User string
		N    int
	}
	// Each widget has its own cookie name: cookies do not depend on the
	// port, and the browser keeps those of earlier subtests.
	m, err := sealed.New(sealedtest.NewKeyRing(t, "widget"), sealed.JSON[widgetSession](), sealed.Options{
		Name: "widget_partitioned_" + strconv.FormatBool(partitioned), SameSite: http.SameSiteNoneMode, Partitioned: partitioned,
		OnError: func(ctx context.Context, err error) { t.Errorf("widget: %v", err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		m.Put(r.Context(), widgetSession{User: "alice"})
	})
	mux.HandleFunc("POST /bump", func(w http.ResponseWriter, r *http.Request) {
		m.Update(r.Context(), func(s *widgetSession) { s.N++ })
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		s, ok := m.Get(r.Context())
		if !ok {
			io.WriteString(w, "401")
			return
		}
		fmt.Fprintf(w, "200 %s %d", s.User, s.N)
	})
	mux.HandleFunc("GET /frame", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<!doctype html><title>widget</title><script>
(async () => {
  const call = (m, p) => fetch(p, {method: m, credentials: "include"}).then(r => r.text());
  await call("POST", "/login");
  await call("POST", "/bump");
  await call("POST", "/bump");
  await call("POST", "/bump");
  const answer = await call("GET", "/whoami");
  window.result = answer + " done"; // for a top-level visit
  parent.postMessage(answer, "*");
})().catch(e => { window.result = "error " + e + " done"; parent.postMessage("error " + e, "*"); });
</script>`)
	})
	srv := httptest.NewServer(m.Handler(mux)) // 127.0.0.1
	t.Cleanup(srv.Close)
	return srv.URL
}

// serveEmbedder serves the top-level page, on "localhost": another site
// than 127.0.0.1, and like it a secure context over plain http, so Secure
// cookies are kept.
func serveEmbedder(t *testing.T, frame string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>embedder</title>
<script>addEventListener("message", e => { window.result = e.data + " done"; });</script>
<iframe src=%q></iframe>`, frame)
	}))
	t.Cleanup(srv.Close)
	return "http://localhost:" + strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)
}
