//go:build go1.27 && goexperiment.jsonv2

package sealed

import (
	jsonv1 "encoding/json"
	jsonv2 "encoding/json/v2"
)

// jsonFastDecode reports whether JSON decodes through encoding/json/v2.
const jsonFastDecode = true

// jsonFast is what json.Unmarshal passes to jsonv2.Unmarshal (it is
// jsonv2.Unmarshal with DefaultOptionsV1), without the legacy error
// reporting. That option makes Unmarshal check the whole value in a
// separate pass before decoding it, so that a syntax error is reported in
// preference to a type error, and it turns some of v2's errors into
// silent acceptance (a "string" tag option on a field that cannot take
// it, an object name matching two fields case-insensitively, null into an
// unsupported type). Without it, decoding either gives what json.Unmarshal
// gives or fails where json.Unmarshal may not; it never succeeds with a
// different value.
var jsonFast = jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsonv1.ReportErrorsWithLegacySemantics(false))

// jsonDecode decodes data into *v (a zero T) exactly as json.Unmarshal
// does: in one pass with jsonFast, and, when that fails, again with
// json.Unmarshal itself, from a zero T, for its result and its error. An
// UnmarshalJSON method of T runs twice for a value that takes that path:
// only authentic values that do not decode (sealed by an application with
// another T) do.
func jsonDecode[T any](data []byte, v *T) error {
	if jsonv2.Unmarshal(data, v, jsonFast) == nil {
		return nil
	}
	var zero T
	*v = zero
	return jsonv1.Unmarshal(data, v)
}
