package bench

import (
	"testing"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/sealedtest"
)

// Each JSON peer keeps the Codec contract (trailing data and truncations
// rejected, safe for concurrent use), and reads what sealed.JSON writes.
func TestJSONPeers(t *testing.T) {
	for _, p := range JSONPeers[Small]() {
		if err := sealedtest.TestCodec(p.Codec, NewSmall(), Small{Roles: []string{}}); err != nil {
			t.Errorf("%s: small: %v", p.Name, err)
		}
	}
	for _, p := range JSONPeers[Large]() {
		if err := sealedtest.TestCodec(p.Codec, NewLarge()); err != nil {
			t.Errorf("%s: large: %v", p.Name, err)
		}
		enc, err := sealed.JSON[Large]().Append(nil, new(NewLarge()))
		if err != nil {
			t.Fatal(err)
		}
		var got Large
		if err := p.Codec.Decode(enc, &got); err != nil || len(got.Cart) != 30 {
			t.Errorf("%s: reading sealed.JSON's encoding: %v", p.Name, err)
		}
	}
}
