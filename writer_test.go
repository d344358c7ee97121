package sealed_test

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// The cookie goes out with the headers, whenever they go out,
// and the body is streamed, not buffered.

func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func hasSessionCookie(h http.Header) bool {
	for _, line := range h.Values("Set-Cookie") {
		if strings.HasPrefix(line, "session=") {
			return true
		}
	}
	return false
}

func TestWriterFlushCommitsAndStreams(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flush func(w http.ResponseWriter) error
	}{
		{"http.Flusher", func(w http.ResponseWriter) error { w.(http.Flusher).Flush(); return nil }},
		{"ResponseController", func(w http.ResponseWriter) error { return http.NewResponseController(w).Flush() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, sealed.Options{})
			release := make(chan struct{})
			flushErr := make(chan error, 1)
			srv := serve(t, f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				f.m.Put(r.Context(), sess{User: "stream"})
				flushErr <- tc.flush(w) // before any write: must still carry the cookie
				io.WriteString(w, "first\n")
				tc.flush(w)
				select {
				case <-release:
				case <-time.After(10 * time.Second):
				}
				io.WriteString(w, "second\n")
			})))
			defer close(release)
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if err := <-flushErr; err != nil {
				t.Errorf("flush: %v", err)
			}
			if !hasSessionCookie(resp.Header) {
				t.Errorf("flushed headers lack the cookie: %v", resp.Header)
			}
			line, err := readLineTimeout(resp.Body, 5*time.Second)
			if err != nil || line != "first" {
				t.Errorf("first line %q, %v: the body is not streamed", line, err)
			}
			f.hook.expectNone(t)
		})
	}
}

func readLineTimeout(r io.Reader, d time.Duration) (string, error) {
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := bufio.NewReader(r).ReadString('\n')
		ch <- result{strings.TrimSpace(s), err}
	}()
	select {
	case res := <-ch:
		return res.s, res.err
	case <-time.After(d):
		return "", io.ErrNoProgress
	}
}

func TestWriterEarlyHints(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	srv := serve(t, f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		f.m.Put(r.Context(), sess{User: "hints"})
		io.WriteString(w, "ok")
	})))
	var hints []textproto.MIMEHeader
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		hints = append(hints, h)
		return nil
	}}
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(hints) != 1 || hints[0].Get("Link") == "" || len(hints[0].Values("Set-Cookie")) != 0 {
		t.Errorf("103 headers = %v, want Link and no cookie", hints)
	}
	if resp.StatusCode != 200 || !hasSessionCookie(resp.Header) {
		t.Errorf("final response %d lacks the cookie: %v", resp.StatusCode, resp.Header)
	}
	f.hook.expectNone(t)
}

// onlyReader hides a reader's WriteTo, so io.Copy uses the destination's
// ReadFrom.
type onlyReader struct{ io.Reader }

func TestWriterReadFrom(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	body := strings.Repeat("x", 100<<10)
	srv := serve(t, f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.m.Put(r.Context(), sess{User: "copy"})
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Error("wrapped writer is not an io.ReaderFrom")
		}
		if _, err := io.Copy(w, onlyReader{strings.NewReader(body)}); err != nil {
			t.Error(err)
		}
	})))
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != body || !hasSessionCookie(resp.Header) {
		t.Errorf("ReadFrom: %d bytes, cookie %v", len(b), resp.Header.Values("Set-Cookie"))
	}
	f.hook.expectNone(t)
}

func TestWriterHijack(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	srv := serve(t, f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.m.Put(r.Context(), sess{User: "ws"})
		conn, bw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		// The session can no longer change.
		f.m.Put(r.Context(), sess{User: "late"})
		// A hijacker writing its own response takes the header, which now
		// holds the cookie.
		io.WriteString(bw, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n")
		w.Header().Write(bw)
		io.WriteString(bw, "\r\nok")
		bw.Flush()
	})))
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !hasSessionCookie(resp.Header) {
		t.Errorf("hijacked response lacks the cookie: %v", resp.Header)
	}
	f.hook.expect(t, sealed.ErrHeadersWritten)
}

func TestWriterLateChangeReported(t *testing.T) {
	for _, tc := range []struct {
		name   string
		commit func(w http.ResponseWriter)
		change func(m *sealed.Manager[sess], r *http.Request)
	}{
		{"Put after Write", func(w http.ResponseWriter) { io.WriteString(w, "x") }, func(m *sealed.Manager[sess], r *http.Request) { m.Put(r.Context(), sess{User: "a"}) }},
		{"Update after WriteHeader", func(w http.ResponseWriter) { w.WriteHeader(204) }, func(m *sealed.Manager[sess], r *http.Request) { m.Update(r.Context(), func(*sess) {}) }},
		{"Destroy after Flush", func(w http.ResponseWriter) { w.(http.Flusher).Flush() }, func(m *sealed.Manager[sess], r *http.Request) { m.Destroy(r.Context()) }},
		{"Flash after Write", func(w http.ResponseWriter) { io.WriteString(w, "x") }, func(m *sealed.Manager[sess], r *http.Request) { m.Flash(r.Context(), "x") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, sealed.Options{})
			srv := serve(t, f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tc.commit(w)
				tc.change(f.m, r)
			})))
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			// The body ends when the handler returns: after Flush the
			// headers arrive before the change is made.
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if sc := resp.Header.Values("Set-Cookie"); len(sc) != 0 {
				t.Errorf("Set-Cookie %q", sc)
			}
			f.hook.expect(t, sealed.ErrHeadersWritten)
		})
	}
}

func TestWriterUnwrapAndController(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	var outer http.ResponseWriter
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok || u.Unwrap() != outer {
			t.Error("Unwrap does not return the underlying writer")
		}
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through the wrapper: %v", err)
		}
		if err := rc.EnableFullDuplex(); err != nil {
			t.Errorf("EnableFullDuplex through the wrapper: %v", err)
		}
		f.m.Put(r.Context(), sess{User: "rc"})
		w.WriteHeader(http.StatusCreated)
	})
	mw := f.m.Handler(inner)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outer = w
		mw.ServeHTTP(w, r)
	}))
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 || !hasSessionCookie(resp.Header) {
		t.Errorf("status %d, Set-Cookie %v", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	f.hook.expectNone(t)
}

// A writer without Flush or Hijack: the wrapper reports ErrNotSupported
// through ResponseController instead of panicking.
type plainWriter struct {
	h    http.Header
	code int
	body strings.Builder
}

func (p *plainWriter) Header() http.Header         { return p.h }
func (p *plainWriter) WriteHeader(code int)        { p.code = code }
func (p *plainWriter) Write(b []byte) (int, error) { return p.body.Write(b) }

func TestWriterUnsupported(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	pw := &plainWriter{h: http.Header{}}
	f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.m.Put(r.Context(), sess{User: "p"})
		rc := http.NewResponseController(w)
		if err := rc.Flush(); !errors.Is(err, http.ErrNotSupported) {
			t.Errorf("Flush: %v", err)
		}
		if _, _, err := rc.Hijack(); !errors.Is(err, http.ErrNotSupported) {
			t.Errorf("Hijack: %v", err)
		}
		if err := w.(http.Pusher).Push("/x", nil); err != http.ErrNotSupported {
			t.Errorf("Push: %v", err)
		}
		io.Copy(w, onlyReader{strings.NewReader("body")})
	})).ServeHTTP(pw, httptest.NewRequest("GET", "/", nil))
	if !hasSessionCookie(pw.h) || pw.body.String() != "body" {
		t.Errorf("header %v, body %q", pw.h, pw.body.String())
	}
	f.hook.expectNone(t)
}
