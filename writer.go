package sealed

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// writer wraps the handler's ResponseWriter and writes the session cookie
// into the header just before it goes out: at the first final WriteHeader,
// Write, ReadFrom, Flush or Hijack. It never buffers the body. Informational
// responses (1xx other than 101, such as 103 Early Hints) pass through without
// committing, so the cookie lands on the final response.
//
// It implements Flush, Hijack and Push (answering http.ErrNotSupported
// through http.ResponseController when the underlying writer cannot) and
// Unwrap, so http.ResponseController reaches deadlines and full duplex.
type writer[T any] struct {
	rw   http.ResponseWriter
	s    *state[T]
	done bool // committed; touched only by the goroutine writing the response
}

// commit writes the cookie into the header, once, and reports any error.
func (w *writer[T]) commit() {
	if w.done {
		return
	}
	w.done = true
	if err := w.s.commit(w.rw.Header()); err != nil {
		w.s.m.report(w.s, err, true)
	}
}

func (w *writer[T]) Header() http.Header { return w.rw.Header() }

func (w *writer[T]) WriteHeader(code int) {
	if code < 100 || code > 199 || code == http.StatusSwitchingProtocols {
		w.commit()
	}
	w.rw.WriteHeader(code)
}

func (w *writer[T]) Write(b []byte) (int, error) {
	w.commit()
	return w.rw.Write(b)
}

// ReadFrom commits, then lets the underlying writer use its own ReadFrom
// (sendfile for *os.File bodies) when it has one.
func (w *writer[T]) ReadFrom(r io.Reader) (int64, error) {
	w.commit()
	if rf, ok := w.rw.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{w.rw}, r)
}

// writerOnly hides every method but Write, so io.Copy does not loop back
// into ReadFrom.
type writerOnly struct{ io.Writer }

// Flush implements http.Flusher.
func (w *writer[T]) Flush() { _ = w.FlushError() }

// FlushError is the form http.ResponseController prefers: it reports
// http.ErrNotSupported when the underlying writer cannot flush.
func (w *writer[T]) FlushError() error {
	w.commit()
	return http.NewResponseController(w.rw).Flush()
}

// Hijack implements http.Hijacker. The cookie is written into the header
// first, so a handler that writes its own response from the header (such as
// a WebSocket upgrade) can include it.
func (w *writer[T]) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.commit()
	return http.NewResponseController(w.rw).Hijack()
}

// Push implements http.Pusher when the underlying writer does.
func (w *writer[T]) Push(target string, opts *http.PushOptions) error {
	if p, ok := w.rw.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}

// Unwrap returns the underlying ResponseWriter for http.ResponseController.
func (w *writer[T]) Unwrap() http.ResponseWriter { return w.rw }

var (
	_ http.Flusher  = (*writer[int])(nil)
	_ http.Hijacker = (*writer[int])(nil)
	_ http.Pusher   = (*writer[int])(nil)
	_ io.ReaderFrom = (*writer[int])(nil)
)
