package compattest

import (
	"encoding/json"
	"testing"

	"github.com/sealedcookie/sealed/internal/peertest"
)

// A Sealer seals a JSON session into a cookie value, as every compat codec
// does.
type Sealer interface {
	Seal(payload []byte) (string, error)
}

// MustSeal seals session with c, failing tb if it cannot.
func MustSeal(tb testing.TB, c Sealer, session string) string {
	tb.Helper()
	v, err := c.Seal([]byte(session))
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// CheckPeer checks what a framework's own code (peer: "Flask") did with
// sessions, JSON objects that Go sealed with c at ts. sent holds the cookie
// values Go sent the peer, those of sessions first; opened, what the peer
// found in each. made holds the cookie values the peer set for sessions at
// ts: each must be Go's byte for byte, unless sameCookie(made, sent) says
// they may differ, and open with c to its session, as Go's cookies must in
// the peer. It returns what the peer found in the cookies sent after those
// of sessions.
func CheckPeer(t *testing.T, c Timed, peer string, ts int64, sessions, sent, made []string, opened []json.RawMessage, sameCookie func(made, sent string) bool) (rest []json.RawMessage) {
	t.Helper()
	if len(made) != len(sessions) || len(opened) != len(sent) {
		t.Fatalf("%s made %d cookies for %d sessions and opened %d of %d", peer, len(made), len(sessions), len(opened), len(sent))
	}
	for i, s := range sessions {
		if made[i] != sent[i] && (sameCookie == nil || !sameCookie(made[i], sent[i])) {
			t.Errorf("session %s:\n%s set %s\nGo sealed %s", s, peer, made[i], sent[i])
		}
		p, issued, err := c.Open(made[i])
		if err != nil {
			t.Errorf("Go cannot open %s's %s: %v", peer, made[i], err)
			continue
		}
		if issued.Unix() != ts {
			t.Errorf("issued %v, want %d", issued, ts)
		}
		if !peertest.SameJSON(t, p, []byte(s)) {
			t.Errorf("Go opened %s's cookie as %s, want %s", peer, p, s)
		}
		if !peertest.SameJSON(t, opened[i], []byte(s)) {
			t.Errorf("%s opened Go's cookie as %s, want %s", peer, opened[i], s)
		}
	}
	return opened[len(sessions):]
}
