package sealed

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed/internal/format"
)

const middlewareVectorsPath = "testdata/middleware-vectors.json"

// middlewareVectorFile is the layout of testdata/middleware-vectors.json,
// documented in docs/FORMAT-middleware.md ("Test vectors").
type middlewareVectorFile struct {
	Format  string             `json:"format"`
	Comment string             `json:"comment"`
	Vectors []middlewareVector `json:"vectors"`
}

type middlewareVector struct {
	Comment string            `json:"comment"`
	Keys    []vectorKey       `json:"keys"` // first is primary
	Name    string            `json:"name"` // Options.Name
	Now     int64             `json:"now"`  // Unix seconds
	Cookies map[string]string `json:"cookies"`
	Valid   bool              `json:"valid"`

	// For valid vectors: the decoded payload.
	Issued    int64    `json:"issued,omitempty"`
	Deadline  int64    `json:"deadline,omitempty"`
	Refreshed int64    `json:"refreshed,omitempty"`
	ID        string   `json:"id,omitempty"`     // hex; absent without an identity
	Minted    int64    `json:"minted,omitempty"` // Unix milliseconds
	Subject   string   `json:"subject,omitempty"`
	Flashes   []string `json:"flashes,omitempty"`
	Value     string   `json:"value,omitempty"` // the session's JSON; absent for flashes only
	// Persistence is the session's own cookie-lifetime choice (payload
	// flag bits 2 and 3): "persistent", "browser_session", or absent when
	// the session made none (the Manager's BrowserSession option decides).
	Persistence string `json:"persistence,omitempty"`

	// For invalid vectors: the error class (as in testdata/vectors.json).
	Error string `json:"error,omitempty"`
}

// generateMiddlewareVectors builds the file with deterministic nonces, for
// a Manager with the default name and attributes (chunks of 4,031
// characters).
func generateMiddlewareVectors(t *testing.T) middlewareVectorFile {
	k1 := vecKey("k1", 0x00)
	const now, issued, deadline = 1763726400, 1763726000, 1763812400
	ring := (&vector{Keys: []vectorKey{k1}}).ring(t)
	s := NewSealer(ring)
	s.MaxLen = 16 << 10
	nonceN := byte(0)
	// sealRaw seals the bytes b as a payload, until exp.
	sealRaw := func(name string, b []byte, exp int64) string {
		nonceN++
		nonce := make([]byte, 24)
		for j := range nonce {
			nonce[j] = nonceN*24 + byte(j)
		}
		return sealWithFlags(s, name, b, 0, exp, nonce)
	}
	seal := func(name string, p format.Payload) string {
		return sealRaw(name, append(format.AppendPayload(nil, &p), p.Value...), min(p.Deadline, deadline))
	}
	id := [16]byte{0x5e, 0x55, 0x10, 0x4e, 15: 0x01}
	base := format.Payload{
		HasValue: true, Issued: issued, Deadline: deadline, Refreshed: issued,
		HasIdentity: true, ID: id, Minted: issued*1000 + 123, Subject: "alice",
		Value: []byte(`{"user":"alice","n":3}`),
	}
	valid := func(comment string, cookies map[string]string, p format.Payload) middlewareVector {
		v := middlewareVector{
			Comment: comment, Keys: []vectorKey{k1}, Name: "session", Now: now, Cookies: cookies, Valid: true,
			Issued: p.Issued, Deadline: p.Deadline, Refreshed: p.Refreshed, Flashes: p.Flashes,
		}
		if p.HasIdentity {
			v.ID, v.Minted, v.Subject = hex.EncodeToString(p.ID[:]), p.Minted, p.Subject
		}
		if p.HasValue {
			v.Value = string(p.Value)
		}
		if p.Persistence {
			v.Persistence = map[bool]string{true: "persistent", false: "browser_session"}[p.Persistent]
		}
		return v
	}
	invalid := func(comment string, cookies map[string]string, class string) middlewareVector {
		return middlewareVector{Comment: comment, Keys: []vectorKey{k1}, Name: "session", Now: now, Cookies: cookies, Error: class}
	}
	// chunks splits a value the way format.Layout says, or into full
	// chunks of cs when full is set (as releases before the rule did).
	chunks := func(v string, full bool) map[string]string {
		n, size := format.Layout(len(v), 4031)
		if full {
			size, n = 4031, (len(v)+4030)/4031
		}
		out := map[string]string{}
		for i := range n {
			out[format.ChunkName("session", i)] = v[i*size : min(len(v), (i+1)*size)]
		}
		return out
	}
	var vs []middlewareVector
	one := seal("session", base)
	vs = append(vs, valid("a session with an identity, in one cookie", map[string]string{"session": one}, base))

	flashes := base
	flashes.Flashes = []string{"Saved.", "Welcome, alice!"}
	vs = append(vs, valid("two flash messages and a session", map[string]string{"session": seal("session", flashes)}, flashes))

	flashOnly := format.Payload{Issued: issued, Deadline: deadline, Refreshed: issued, Flashes: []string{"Signed out."}}
	vs = append(vs, valid("flash messages only: no session, no identity", map[string]string{"session": seal("session", flashOnly)}, flashOnly))

	legacy := base
	legacy.HasIdentity, legacy.ID, legacy.Minted, legacy.Subject = false, [16]byte{}, 0, ""
	vs = append(vs, valid("sealed before session identities: still opens", map[string]string{"session": seal("session", legacy)}, legacy))

	big := base
	big.Value = []byte(`{"user":"alice","blob":"` + strings.Repeat("x", 7000) + `"}`)
	bigSealed := seal("session#3", big)
	vs = append(vs, valid("three chunks", chunks(bigSealed, false), big))
	leftover := chunks(bigSealed, false)
	leftover["session.3"] = strings.Repeat("A", 4031)
	vs = append(vs, valid("three chunks and a leftover full chunk of an older session: ignored", leftover, big))

	// A value of exactly 2 × 4,031 characters: written as 3 chunks of 4,030
	// (the last chunk is never full), or, by releases before that rule, as
	// 2 full chunks, which still open.
	exact := base
	for n := 0; ; n++ {
		exact.Value = []byte(`{"user":"alice","blob":"` + strings.Repeat("y", n) + `"}`)
		if EncodedLen(len(format.AppendPayload(nil, &exact))+len(exact.Value)) == 2*4031 {
			break
		}
	}
	vs = append(vs, valid("exactly two chunks' length, written as three: the last chunk is never full",
		chunks(seal("session#3", exact), false), exact))
	vs = append(vs, valid("exactly two chunks' length, written as two full chunks by an older release",
		chunks(seal("session#2", exact), true), exact))

	missing := chunks(bigSealed, false)
	delete(missing, "session.2")
	vs = append(vs, invalid("the last chunk missing (a truncated Cookie header)", missing, "malformed"))
	noFirst := chunks(bigSealed, false)
	delete(noFirst, "session.0")
	vs = append(vs, invalid("chunk 0 missing", noFirst, "malformed"))
	swapped := chunks(bigSealed, false)
	swapped["session.0"], swapped["session.1"] = swapped["session.1"], swapped["session.0"]
	vs = append(vs, invalid("chunks swapped: chunk 1 does not start with a version 1 header", swapped, "malformed"))
	vs = append(vs, invalid("a three-chunk value presented as one cookie", map[string]string{"session": bigSealed}, "invalid"))
	vs = append(vs, invalid("chunks sealed for another count", chunks(seal("session#2", big), false), "invalid"))
	vs = append(vs, invalid("sealed for another cookie name", map[string]string{"session": seal("other", base)}, "invalid"))

	expired := base
	expired.Deadline = now - 1
	vs = append(vs, invalid("past its absolute deadline", map[string]string{"session": seal("session", expired)}, "expired"))

	badFlags := append(format.AppendPayload(nil, &base), base.Value...)
	badFlags[1] |= 0x10
	nonceN++
	vs = append(vs, invalid("an unknown payload flag", map[string]string{"session": sealWithFlags(s, "session", badFlags, 0, deadline, make([]byte, 24))}, "malformed"))
	longSubject := append(format.AppendPayload(nil, &legacy), legacy.Value...)
	longSubject[1] |= format.PayloadHasIdentity // claims an identity the bytes do not hold
	vs = append(vs, invalid("an identity that runs past the end", map[string]string{"session": sealWithFlags(s, "session", longSubject[:format.PayloadHeaderLen+10], 0, deadline, make([]byte, 24))}, "malformed"))

	// Added after the vectors above, so that they keep their nonces and
	// bytes: the rules docs/FORMAT-middleware.md states for implementers.
	remember := base
	remember.Persistence, remember.Persistent = true, true
	vs = append(vs, valid("RememberMe(true): flag bits 2 and 3, a persistent cookie", map[string]string{"session": seal("session", remember)}, remember))
	forget := base
	forget.Persistence = true
	vs = append(vs, valid("RememberMe(false): flag bit 2 alone, a browser-session cookie", map[string]string{"session": seal("session", forget)}, forget))
	nothing := format.Payload{Issued: issued, Deadline: deadline, Refreshed: issued}
	vs = append(vs, valid("the smallest payload (27 bytes): no session, no flashes, which is no session", map[string]string{"session": seal("session", nothing)}, nothing))
	utf := base
	utf.Subject, utf.Flashes = "josé", []string{"¡Guardado! ✓"}
	vs = append(vs, valid("a subject and a flash in UTF-8", map[string]string{"session": seal("session", utf)}, utf))

	raw := func(comment string, b []byte) {
		vs = append(vs, invalid(comment, map[string]string{"session": sealRaw("session", b, deadline)}, "malformed"))
	}
	payload := func(p format.Payload) []byte { return append(format.AppendPayload(nil, &p), p.Value...) }
	raw("an empty payload", []byte{})
	raw("a payload of 26 bytes, one short of the smallest", payload(nothing)[:26])
	v2 := payload(base)
	v2[0] = 2
	raw("payload version 2", v2)
	bit3 := payload(base)
	bit3[1] |= format.PayloadPersistent
	raw("flag bit 3 (persistent) without bit 2", bit3)
	nonMinimal := append(payload(nothing)[:format.PayloadHeaderLen], 0x80, 0x00) // flash count 0 in two bytes
	raw("a flash count in a non-minimal varint (0x80 0x00 for 0)", nonMinimal)
	badFlash := payload(format.Payload{Issued: issued, Deadline: deadline, Refreshed: issued, Flashes: []string{"ok"}})
	badFlash[len(badFlash)-1] = 0xff
	raw("a flash message that is not UTF-8", badFlash)
	badSubject := base
	badSubject.Subject = "al\xffce"
	raw("a subject that is not UTF-8", payload(badSubject))
	subject256 := base
	subject256.Subject = strings.Repeat("s", 256)
	raw("a subject of 256 bytes, over the 255 limit", payload(subject256))
	flashesTrailing := append(payload(flashOnly), 'x')
	raw("a byte after the flash messages without a session value (flag bit 0 clear)", flashesTrailing)
	flashRuns := payload(flashOnly)
	raw("a flash message that runs past the end", flashRuns[:len(flashRuns)-1])
	notJSON := base
	notJSON.Value = []byte(`{"user":"alice"`)
	raw("a session value that does not decode (truncated JSON)", payload(notJSON))
	// The order of the payload checks, with an envelope expiry later than
	// the payload's deadline (a writer never seals such a value; the
	// order decides the class).
	badExpired := append(payload(expired)[:format.PayloadHeaderLen], 0x80, 0x00)
	vs = append(vs, invalid("payload past its deadline, with a malformed flash count: malformed (the payload is parsed first)",
		map[string]string{"session": sealRaw("session", badExpired, deadline)}, "malformed"))
	undecodable := expired
	undecodable.Value = []byte("not json")
	vs = append(vs, invalid("payload past its deadline, with a value that does not decode: expired (the deadline is checked before the value is decoded)",
		map[string]string{"session": sealRaw("session", payload(undecodable), deadline)}, "expired"))

	return middlewareVectorFile{
		Format:  "sealed middleware payload v1",
		Comment: "Generated by `go test -run TestMiddlewareVectors -update`. Layout and meaning: docs/FORMAT-middleware.md.",
		Vectors: vs,
	}
}

// TestMiddlewareVectors checks testdata/middleware-vectors.json with a
// default Manager: every valid vector opens to its payload, every invalid
// one is no session with its error class. With -update it rewrites the
// file first.
func TestMiddlewareVectors(t *testing.T) {
	if *update {
		b, err := json.MarshalIndent(generateMiddlewareVectors(t), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(middlewareVectorsPath, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(middlewareVectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	var f middlewareVectorFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) < 15 {
		t.Fatalf("%d vectors", len(f.Vectors))
	}
	for _, v := range f.Vectors {
		t.Run(v.Comment, func(t *testing.T) {
			var reported []error
			m, err := New((&vector{Keys: v.Keys}).ring(t), JSON[json.RawMessage](), Options{
				Name: v.Name, Now: func() time.Time { return time.Unix(v.Now, 0) },
				OnError: func(_ context.Context, err error) { reported = append(reported, err) },
			})
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, name := range slices.Sorted(func(yield func(string) bool) {
				for k := range v.Cookies {
					if !yield(k) {
						return
					}
				}
			}) {
				lines = append(lines, name+"="+v.Cookies[name])
			}
			ctx := m.LoadHeader(context.Background(), http.Header{"Cookie": {strings.Join(lines, "; ")}})
			val, has := m.Get(ctx)
			info, _ := m.Info(ctx)
			flashes := m.Flashes(ctx)
			if !v.Valid {
				if has || len(reported) != 1 || !errors.Is(reported[0], errorClasses[v.Error]) {
					t.Fatalf("got a session %v, errors %v; want %s", has, reported, v.Error)
				}
				return
			}
			if len(reported) != 0 {
				t.Fatalf("errors %v", reported)
			}
			if has != (v.Value != "") || string(val) != v.Value || !slices.Equal(flashes, v.Flashes) {
				t.Fatalf("value %q (%v), flashes %q", val, has, flashes)
			}
			if st, _ := m.lock(ctx); st != nil {
				got := ""
				if st.chosen {
					got = map[bool]string{true: "persistent", false: "browser_session"}[st.persist]
				}
				m.unlock(ctx, st, nil)
				if got != v.Persistence {
					t.Fatalf("persistence %q, want %q", got, v.Persistence)
				}
			}
			if has && (info.Issued.Unix() != v.Issued || info.Deadline.Unix() != v.Deadline || info.Refreshed.Unix() != v.Refreshed ||
				info.Subject != v.Subject || (v.ID != "" && info.ID.String() != v.ID)) {
				t.Fatalf("info %+v", info)
			}
		})
	}
}
