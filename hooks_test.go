package sealed

import (
	"bytes"
	"testing"

	"github.com/sealedcookie/sealed/internal/secret"
)

// TestSecretBytesIsACopy guards the encoders' habit of clearing what
// secretBytes returns: that must never touch the key itself.
func TestSecretBytesIsACopy(t *testing.T) {
	k, err := NewKey("k", bytes.Repeat([]byte{7}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	b := k.secretBytes()
	if !bytes.Equal(b, bytes.Repeat([]byte{7}, KeySize)) {
		t.Fatalf("secretBytes = %x", b)
	}
	clear(b)
	if !bytes.Equal(k.k.secret[:], bytes.Repeat([]byte{7}, KeySize)) {
		t.Fatal("clearing the result of secretBytes cleared the key")
	}
	clear(secret.Bytes(k)) // as jwks.Marshal does
	if k.k.secret[0] != 7 {
		t.Fatal("clearing secret.Bytes cleared the key")
	}
	if (Key{}).secretBytes() != nil {
		t.Fatal("zero Key has a secret")
	}
}
