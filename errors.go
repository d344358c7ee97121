package sealed

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// prefixed is an error with context that wraps another of this package's
// errors and carries the "sealed: " prefix once: "sealed: session cookie
// "s": invalid value: ..." rather than repeating it.
type prefixed struct {
	context string
	err     error
}

// wrap returns err with context, which should not start with "sealed: ".
func wrap(err error, format string, args ...any) error {
	return &prefixed{context: fmt.Sprintf(format, args...), err: err}
}

func (e *prefixed) Error() string {
	return "sealed: " + e.context + ": " + strings.TrimPrefix(e.err.Error(), "sealed: ")
}

func (e *prefixed) Unwrap() error { return e.err }

// codecFailure describes a codec's error by its type and, when it has one,
// the byte offset: never by its message, which may quote session data
// (encoding/json quotes the offending value). The error itself is not
// wrapped, because error reporters print every error in a chain.
func codecFailure(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("%T at byte %d", syntax, syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("%T at byte %d", typ, typ.Offset)
	}
	return fmt.Sprintf("%T", err)
}
