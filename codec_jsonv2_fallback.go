//go:build !go1.27 || !goexperiment.jsonv2

package sealed

// hasJSONv2 reports whether JSONv2 uses encoding/json/v2 in this build.
const hasJSONv2 = false

// jsonV2Codec is JSON's codec where encoding/json/v2 is missing.
func jsonV2Codec[T any]() Codec[T] { return jsonCodec[T]{} }
