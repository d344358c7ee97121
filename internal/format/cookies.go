package format

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxChunks is the most chunks a session may use (a Manager's largest chunk
// budget): a Cookie header over about 16 KB is refused by most servers.
const MaxChunks = 16

// ChunkedName is the name a value split into n chunks is sealed for: the
// cookie name, '#', and n in decimal. It authenticates the chunk count.
func ChunkedName(name string, n int) string { return name + "#" + strconv.Itoa(n) }

// ChunkName is the name of chunk i of the cookie called name.
func ChunkName(name string, i int) string { return name + "." + strconv.Itoa(i) }

// Layout returns how a sealed value of total characters is stored: in n
// chunks of size characters each but the last, which is shorter, or in one
// unchunked cookie (n = 0) when it fits in chunkSize. The last chunk is
// never full: a reader ends the value at the first chunk shorter than chunk
// 0, so a full last chunk would let a leftover chunk of an older, longer
// session join it. When total is a multiple of chunkSize, the chunks are
// one character shorter instead.
func Layout(total, chunkSize int) (n, size int) {
	if total <= chunkSize {
		return 0, total
	}
	size = chunkSize
	if total%size == 0 {
		size--
	}
	return (total + size - 1) / size, size
}

// Cookies are the cookies of one session that a request carried: the
// unchunked cookie and the chunks.
type Cookies struct {
	Plain    string
	HasPlain bool
	Carried  uint64 // bit i: chunk i was carried (i < 64)
	Chunks   [MaxChunks]string
}

// Read collects the session cookies called name from the values of a
// request's Cookie header lines. When a name occurs twice, the first is
// used (the most specific Path, RFC 6265 section 5.4). Values in double
// quotes are unquoted.
func (c *Cookies) Read(lines []string, name string) {
	for _, line := range lines {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			n, val, ok := strings.Cut(part, "=")
			if !ok {
				continue
			}
			n = strings.TrimSpace(n)
			if !strings.HasPrefix(n, name) {
				continue
			}
			val = strings.TrimSpace(val)
			if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				val = val[1 : len(val)-1]
			}
			if len(n) == len(name) {
				if !c.HasPlain {
					c.HasPlain, c.Plain = true, val
				}
				continue
			}
			i, ok := chunkIndex(n[len(name):])
			if !ok || c.Carried&(1<<i) != 0 {
				continue
			}
			c.Carried |= 1 << i
			if int(i) < len(c.Chunks) {
				c.Chunks[i] = val
			}
		}
	}
}

// Any reports whether the request carried any session cookie.
func (c *Cookies) Any() bool { return c.HasPlain || c.Carried != 0 }

// chunkIndex parses a chunk suffix ".N" (decimal, no leading zeros, N < 64).
func chunkIndex(suffix string) (uint, bool) {
	if len(suffix) < 2 || len(suffix) > 3 || suffix[0] != '.' || (suffix[1] == '0' && len(suffix) > 2) {
		return 0, false
	}
	n := uint(0)
	for _, c := range []byte(suffix[1:]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint(c-'0')
	}
	return n, n < 64
}

// A MissingChunkError reports a chunk absent from the request: chunk 0, or
// the chunk after a run of full chunks (writers never end on a full chunk),
// usually because a client or proxy cut the Cookie header.
type MissingChunkError struct {
	Name  string // the cookie name
	Index int
}

func (e *MissingChunkError) Error() string {
	return fmt.Sprintf("chunk %s.%d missing: Cookie header truncated?", e.Name, e.Index)
}

// A TooManyChunksError reports a run of chunks longer than the budget.
type TooManyChunksError struct{ Budget int }

func (e *TooManyChunksError) Error() string {
	return fmt.Sprintf("more than %d chunks", e.Budget)
}

// A Carried is the sealed value a request's cookies carry.
type Carried struct {
	Value string
	Name  string // the name it was sealed for: the cookie name, or ChunkedName
	// Chunks is the number of chunks joined, 0 for the unchunked cookie.
	Chunks int
	// Missing is set when the chunks end on a full chunk: it is the error
	// to report if the value does not open. Values written before writers
	// kept the last chunk short may end on a full chunk, so callers try to
	// open the value first.
	Missing error
}

// Value returns the sealed value the cookies carry (docs/FORMAT-middleware.md,
// "Reading"): the unchunked cookie if present, else chunks 0..n-1, where
// the run goes on while the chunk before is as long as chunk 0. The value
// is built only when chunked.
func (c *Cookies) Value(name string, budget int) (Carried, error) {
	if c.HasPlain {
		return Carried{Value: c.Plain, Name: name}, nil
	}
	if c.Carried&1 == 0 {
		return Carried{}, &MissingChunkError{Name: name, Index: 0}
	}
	full, n := len(c.Chunks[0]), 1
	for n < 64 && c.Carried&(1<<n) != 0 && len(c.Chunks[n-1]) == full {
		if n >= budget {
			return Carried{}, &TooManyChunksError{Budget: budget}
		}
		n++
	}
	v := Carried{Name: ChunkedName(name, n), Chunks: n}
	if len(c.Chunks[n-1]) == full {
		v.Missing = &MissingChunkError{Name: name, Index: n}
	}
	var b strings.Builder
	b.Grow(n * full)
	for _, s := range c.Chunks[:n] {
		b.WriteString(s)
	}
	v.Value = b.String()
	return v, nil
}
