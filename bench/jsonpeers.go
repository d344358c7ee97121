package bench

// The Go JSON libraries people compare sealed's JSON codec with, as
// sealed.Codec implementations, so that they seal exactly like sealed.JSON:
// github.com/goccy/go-json and github.com/segmentio/encoding/json here,
// github.com/bytedance/sonic in sonic.go and encoding/json/v2 in jsonv2.go
// (neither builds everywhere). They live in this module so that sealed's
// own go.mod never requires them.

import (
	"errors"

	goccy "github.com/goccy/go-json"
	"github.com/sealedcookie/sealed"
	segjson "github.com/segmentio/encoding/json"
)

// A Peer is a JSON library's codec, by name.
type Peer[T any] struct {
	Name  string
	Codec sealed.Codec[T]
}

// JSONPeers returns the codecs of the JSON libraries this build has:
// encoding/json/v2 (Go 1.27), goccy/go-json, segmentio/encoding/json and,
// where its JIT runs, sonic.
func JSONPeers[T any]() []Peer[T] {
	var peers []Peer[T]
	if c := JSONv2Codec[T](); c != nil {
		peers = append(peers, Peer[T]{"v2", c})
	}
	peers = append(peers, Peer[T]{"goccy", GoccyCodec[T]()}, Peer[T]{"segmentio", SegmentioCodec[T]()})
	if c := SonicCodec[T](); c != nil {
		peers = append(peers, Peer[T]{"sonic", c})
	}
	return peers
}

// GoccyCodec returns a codec that uses github.com/goccy/go-json's Marshal
// and Unmarshal (which rejects trailing data), with their defaults.
func GoccyCodec[T any]() sealed.Codec[T] { return goccyCodec[T]{} }

type goccyCodec[T any] struct{}

// Append copies what goccy.Marshal returns: go-json has no append form.
func (goccyCodec[T]) Append(dst []byte, v *T) ([]byte, error) {
	b, err := goccy.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

func (goccyCodec[T]) Decode(data []byte, v *T) error { return goccy.Unmarshal(data, v) }

// SegmentioCodec returns a codec that uses github.com/segmentio/encoding/json
// with the flags of its Marshal and Unmarshal, appending in place.
func SegmentioCodec[T any]() sealed.Codec[T] { return segmentioCodec[T]{} }

type segmentioCodec[T any] struct{}

func (segmentioCodec[T]) Append(dst []byte, v *T) ([]byte, error) {
	out, err := segjson.Append(dst, v, segjson.EscapeHTML|segjson.SortMapKeys)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// Decode parses one value and rejects what follows it but whitespace.
func (segmentioCodec[T]) Decode(data []byte, v *T) error {
	rest, err := segjson.Parse(data, v, 0)
	if err != nil {
		return err
	}
	for _, c := range rest {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return errors.New("segmentio: trailing data after the value")
		}
	}
	return nil
}
