//go:build !go1.27 || !goexperiment.jsonv2

package sealed

import "encoding/json"

// jsonFastDecode reports whether JSON decodes through encoding/json/v2.
const jsonFastDecode = false

// jsonDecode is json.Unmarshal where encoding/json/v2 is missing.
func jsonDecode[T any](data []byte, v *T) error { return json.Unmarshal(data, v) }
