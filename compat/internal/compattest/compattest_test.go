package compattest

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/sealedcookie/sealed"
)

// fatalTB records the first Fatal of a check and stops it, as testing.T
// does.
type fatalTB struct {
	testing.TB
	msg string
}

func (*fatalTB) Helper() {}

func (tb *fatalTB) Fatalf(format string, args ...any) {
	tb.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// fails runs check with a fatalTB and returns what it failed with.
func fails(check func(tb testing.TB)) string {
	tb := &fatalTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(tb)
	}()
	<-done
	return tb.msg
}

func TestChecks(t *testing.T) {
	wrapped := fmt.Errorf("x: %w", sealed.ErrExpired)
	for name, tc := range map[string]struct {
		check func(tb testing.TB)
		fails bool
	}{
		"WantErr, one of":       {func(tb testing.TB) { WantErr(tb, wrapped, sealed.ErrInvalid, sealed.ErrExpired) }, false},
		"WantErr, other":        {func(tb testing.TB) { WantErr(tb, wrapped, sealed.ErrInvalid) }, true},
		"WantErr, nil":          {func(tb testing.TB) { WantErr(tb, nil, sealed.ErrInvalid) }, true},
		"CheckOpen, sentinel":   {func(tb testing.TB) { CheckOpen(tb, "Open", nil, wrapped, IsObject) }, false},
		"CheckOpen, other":      {func(tb testing.TB) { CheckOpen(tb, "Open", nil, errors.New("x"), IsObject) }, true},
		"CheckOpen, object":     {func(tb testing.TB) { CheckOpen(tb, "Open", []byte(`{}`), nil, IsObject) }, false},
		"CheckOpen, not object": {func(tb testing.TB) { CheckOpen(tb, "Open", []byte(`null`), nil, IsObject) }, true},
		"CheckOpen, valid":      {func(tb testing.TB) { CheckOpen(tb, "Open", []byte(`1`), nil, json.Valid) }, false},
	} {
		if msg := fails(tc.check); (msg != "") != tc.fails {
			t.Errorf("%s: failed with %q, want failure %v", name, msg, tc.fails)
		}
	}
}
