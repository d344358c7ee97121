package sealed_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

type session struct {
	UserID int64
	Email  string
	Roles  []string
	CSRF   string
}

var sample = session{UserID: 42, Email: "ada@example.com", Roles: []string{"admin", "dev"}, CSRF: "c2VjcmV0LXRva2Vu"}

func TestCodecs(t *testing.T) {
	for name, c := range map[string]sealed.Codec[session]{"json": sealed.JSON[session](), "gob": sealed.Gob[session]()} {
		t.Run(name, func(t *testing.T) {
			b, err := c.Append([]byte("prefix"), &sample)
			if err != nil || !strings.HasPrefix(string(b), "prefix") {
				t.Fatalf("Append = %q, %v", b, err)
			}
			var got session
			if err := c.Decode(b[len("prefix"):], &got); err != nil {
				t.Fatal(err)
			}
			if got.UserID != sample.UserID || got.Email != sample.Email || len(got.Roles) != 2 || got.CSRF != sample.CSRF {
				t.Fatalf("round trip = %+v", got)
			}
			var v session
			if err := c.Decode(append(b[len("prefix"):], 0), &v); err == nil {
				t.Fatal("trailing byte accepted")
			}
			if err := c.Decode(append(b[len("prefix"):], b[len("prefix"):]...), &v); err == nil {
				t.Fatal("two values accepted")
			}
			if err := c.Decode(b[len("prefix"):len(b)-1], &v); err == nil {
				t.Fatal("truncated value accepted")
			}
		})
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
	raw, _ := s.Seal("session", []byte("not json"), expiry)
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
