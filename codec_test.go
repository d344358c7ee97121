package sealed_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/sealedtest"
)

type session struct {
	UserID int64
	Email  string
	Roles  []string
	CSRF   string
}

var sample = session{UserID: 42, Email: "ada@example.com", Roles: []string{"admin", "dev"}, CSRF: "c2VjcmV0LXRva2Vu"}

// JSON and Gob keep the Codec contract.
func TestCodecs(t *testing.T) {
	for name, c := range map[string]sealed.Codec[session]{"json": sealed.JSON[session](), "gob": sealed.Gob[session]()} {
		if err := sealedtest.TestCodec(c, sample, session{Email: "Zoë ☃ 𝄞", Roles: []string{""}}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestTyped(t *testing.T) {
	s := at(newSealer(t, fixedKey(t, "k1", 1)), t0)
	typed := sealed.NewTyped(s, sealed.JSON[session]())
	v, err := typed.Seal("session", &sample, expiry)
	if err != nil {
		t.Fatal(err)
	}
	got, info, err := typed.Open("session", v)
	if err != nil || got.Email != sample.Email || info.KeyID != "k1" {
		t.Fatalf("Open = %+v, %+v, %v", got, info, err)
	}
	if _, _, err := typed.Open("other", v); !errors.Is(err, sealed.ErrInvalid) {
		t.Fatalf("wrong name: %v", err)
	}
	// Authentic bytes that are not a session decode to ErrMalformed.
	raw := mustSeal(t, s, "session", []byte("not json"), expiry)
	if _, _, err := typed.Open("session", raw); !errors.Is(err, sealed.ErrMalformed) {
		t.Fatalf("undecodable payload: %v, want ErrMalformed", err)
	}
	// Unencodable values are errors, not panics.
	bad := sealed.NewTyped(s, sealed.JSON[map[string]any]())
	if _, err := bad.Seal("session", &map[string]any{"f": func() {}}, expiry); err == nil {
		t.Fatal("unencodable value sealed")
	}
	// Too large is reported with ErrTooLarge.
	big := session{Email: strings.Repeat("x", 4000)}
	if _, err := typed.Seal("session", &big, time.Now().Add(time.Hour)); !errors.Is(err, sealed.ErrTooLarge) {
		t.Fatalf("big session: %v, want ErrTooLarge", err)
	}
}
