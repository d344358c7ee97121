package sealed_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// exactBlob returns a blob length whose session {"user":"a","blob":...}
// seals to exactly k chunks of chunkSize characters, the length at which a
// reader cannot tell the last chunk from a full one.
func exactBlob(t *testing.T, k, chunkSize int) int {
	t.Helper()
	for n := k * chunkSize * 3 / 4 / 2; n < k*chunkSize; n++ {
		js, _ := json.Marshal(sess{User: "a", Blob: blob(n)})
		if sealed.EncodedLen(27+len(js)) == k*chunkSize { // 27: the payload header, no flashes
			return n
		}
	}
	t.Fatalf("no blob seals to %d chunks of %d", k, chunkSize)
	return 0
}

// chunkSize learns the Manager's chunk size from a three-chunk session.
func chunkSize(t *testing.T, f *fixture) int {
	t.Helper()
	c := newClient(t, f.app())
	c.do("POST", "/put?user=a&blob="+strconv.Itoa(f.m.MaxSessionLen()*2/3))
	return len(c.cookies["session.0"])
}

// A session whose sealed length is an exact multiple of the chunk size is
// never written with a full last chunk, so a leftover chunk from a longer
// session (two concurrent requests: one grows the session, one re-seals it
// at the old size) cannot join it.
func TestChunksNeverEndFull(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	size := chunkSize(t, f)
	for _, k := range []int{2} { // base64url has no length 3 mod 4: 3 × 4031 cannot occur
		t.Run(strconv.Itoa(k), func(t *testing.T) {
			n := exactBlob(t, k, size)
			c := newClient(t, f.app())
			c.do("POST", "/put?user=a&blob="+strconv.Itoa(n))
			var chunks []string
			for i := 0; ; i++ {
				v, ok := c.cookies["session."+strconv.Itoa(i)]
				if !ok {
					break
				}
				chunks = append(chunks, v)
			}
			if len(chunks) < 2 || len(chunks) > 4 {
				t.Fatalf("%d chunks for %d chars", len(chunks), k*size)
			}
			if last := chunks[len(chunks)-1]; len(last) >= len(chunks[0]) {
				t.Fatalf("last chunk is full: lengths %d and %d", len(chunks[0]), len(last))
			}
			// A leftover chunk from an older, longer session.
			c.cookies["session."+strconv.Itoa(len(chunks))] = strings.Repeat("A", len(chunks[0]))
			want, _ := json.Marshal(sess{User: "a", Blob: blob(n)})
			if got := c.body("GET", "/get"); got != string(want) {
				t.Errorf("with a leftover chunk, get = %.60q", got)
			}
			f.hook.expectNone(t)
		})
	}
	// The largest session still fits the budget with a short last chunk.
	c := newClient(t, f.app())
	c.do("POST", "/put?blob="+strconv.Itoa(f.m.MaxSessionLen()-len(`{"blob":""}`)))
	f.hook.expectNone(t)
	if len(c.cookies) != 4 { // the default ChunkBudget
		t.Errorf("MaxSessionLen session uses %d cookies", len(c.cookies))
	}
	c.do("POST", "/put?blob="+strconv.Itoa(f.m.MaxSessionLen()-len(`{"blob":""}`)+1))
	f.hook.expect(t, sealed.ErrTooLarge)
}

// A chunk missing from a run of full chunks is reported as such, not as a
// failed authentication.
func TestChunkMissingSaysTruncated(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	c := newClient(t, f.app())
	c.do("POST", "/put?user=a&blob="+strconv.Itoa(f.m.MaxSessionLen()*2/3)) // 3 chunks
	for _, drop := range []string{"session.2", "session.1", "session.0"} {
		t.Run(drop, func(t *testing.T) {
			d := newClient(t, f.app())
			for k, v := range c.cookies {
				if k != drop {
					d.cookies[k] = v
				}
			}
			if got := d.body("GET", "/get"); got != "none" {
				t.Fatalf("get = %.40q", got)
			}
			errs := f.hook.take()
			want := "chunk " + drop + " missing: Cookie header truncated?"
			if len(errs) != 1 || !errors.Is(errs[0], sealed.ErrMalformed) || !strings.Contains(errs[0].Error(), want) {
				t.Errorf("OnError = %v, want ErrMalformed saying %q", errs, want)
			}
		})
	}
}

// Cookies written before the last chunk was kept short may end on a full
// chunk; they still open.
func TestChunksWrittenFullStillOpen(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	size := chunkSize(t, f)
	n := exactBlob(t, 2, size)
	js, _ := json.Marshal(sess{User: "a", Blob: blob(n)})
	now := f.clock.Now().Unix()
	payload := []byte{1, 1} // version 1, a value is present
	for _, t := range []int64{now, now + 3600, now} {
		payload = binary.BigEndian.AppendUint64(payload, uint64(t))
	}
	payload = append(payload, 0) // no flashes
	payload = append(payload, js...)
	s := sealed.NewSealer(f.keys)
	s.Now = f.clock.Now
	s.MaxLen = 16 << 10
	v, err := s.Seal("session#2", payload, time.Unix(now+3600, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 2*size {
		t.Fatalf("sealed %d chars, want %d", len(v), 2*size)
	}
	c := newClient(t, f.app())
	c.cookies["session.0"], c.cookies["session.1"] = v[:size], v[size:]
	if got := c.body("GET", "/get"); got != string(js) {
		t.Errorf("get = %.60q", got)
	}
	f.hook.expectNone(t)
}
