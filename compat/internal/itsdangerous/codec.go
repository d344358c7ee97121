package itsdangerous

import (
	"errors"
	"fmt"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/internal/pyjson"
)

// Options are the options that the session codecs built on a Signer
// share (flask.Options and starlette.Options convert to it). See those for
// the meaning of each field.
type Options struct {
	MaxAge time.Duration
	Now    func() time.Time
	MaxLen int
}

// A Codec is what Flask's and Starlette's session codecs share: a Signer,
// the age and length bounds, and the clock. Its errors start with the name
// of the package that uses it.
type Codec struct {
	Signer Signer
	pkg    string
	maxAge int64 // seconds; -1: no check
	now    func() time.Time
	maxLen int
}

// NewCodec returns the Codec of package pkg for secrets, of which the first
// signs and all verify, with each secret's key made by derive. No secret
// may be empty; opts.MaxAge zero means defaultMaxAge; opts.MaxLen zero
// means defaultMaxLen, and negative is an error.
func NewCodec(pkg string, derive func(secret string) []byte, secrets []string, opts Options, defaultMaxAge time.Duration, defaultMaxLen int) (*Codec, error) {
	c := &Codec{pkg: pkg, now: opts.Now, maxLen: opts.MaxLen}
	for i, s := range secrets {
		switch {
		case s == "" && i == 0:
			return nil, errors.New(pkg + ": empty secret")
		case s == "":
			return nil, errors.New(pkg + ": empty fallback secret")
		}
		c.Signer.Keys = append(c.Signer.Keys, derive(s))
	}
	if len(c.Signer.Keys) == 0 {
		return nil, errors.New(pkg + ": no secret")
	}
	var err error
	if c.maxAge, err = MaxAgeSeconds(opts.MaxAge, defaultMaxAge); err != nil {
		return nil, fmt.Errorf("%s: %v", pkg, err)
	}
	if c.maxLen < 0 {
		return nil, errors.New(pkg + ": negative MaxLen")
	}
	if c.maxLen == 0 {
		c.maxLen = defaultMaxLen
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Unsign verifies a cookie value and returns its signed data and the time
// it was signed. A value longer than MaxLen fails with sealed.ErrTooLarge
// before anything else is looked at, an empty one with
// sealed.ErrMalformed; then come the Signer's checks.
func (c *Codec) Unsign(value string) (string, time.Time, error) {
	if len(value) > c.maxLen {
		return "", time.Time{}, fmt.Errorf("%s: %w: %d bytes > %d", c.pkg, sealed.ErrTooLarge, len(value), c.maxLen)
	}
	if value == "" {
		return "", time.Time{}, c.Malformed("empty value")
	}
	data, issued, err := c.Signer.Unsign(value, c.now(), c.maxAge)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%s: %w", c.pkg, err)
	}
	return data, issued, nil
}

// Sign signs data with the current time into a cookie value, and fails with
// sealed.ErrTooLarge if that is longer than MaxLen.
func (c *Codec) Sign(data string) (string, error) {
	out, err := c.Signer.Sign(data, c.now().Unix())
	if err != nil {
		return "", fmt.Errorf("%s: %v", c.pkg, err)
	}
	if len(out) > c.maxLen {
		return "", fmt.Errorf("%s: %w: %d bytes > %d", c.pkg, sealed.ErrTooLarge, len(out), c.maxLen)
	}
	return out, nil
}

// ParseObject parses JSON that must be an object: a payload to seal, or
// the session a cookie holds. Anything else fails with sealed.ErrMalformed.
func (c *Codec) ParseObject(js []byte) (*pyjson.Value, error) {
	v, err := pyjson.Parse(js)
	if err != nil {
		return nil, c.Malformed("%v", err)
	}
	if err := c.CheckObject(v); err != nil {
		return nil, err
	}
	return v, nil
}

// CheckObject fails with sealed.ErrMalformed unless v is a JSON object.
func (c *Codec) CheckObject(v *pyjson.Value) error {
	if v.Kind != pyjson.Object {
		return c.Malformed("session is not a JSON object")
	}
	return nil
}

// Malformed returns an error of the codec's package that wraps
// sealed.ErrMalformed.
func (c *Codec) Malformed(format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", c.pkg, sealed.ErrMalformed, fmt.Sprintf(format, args...))
}
