package compattest

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/sealedcookie/sealed"
)

// failed is what fatalTB panics with.
type failed string

// fatalTB turns a check's Fatalf into a panic, which fails recovers.
type fatalTB struct{ testing.TB }

func (fatalTB) Helper() {}

func (fatalTB) Fatalf(format string, args ...any) { panic(failed(fmt.Sprintf(format, args...))) }

// fails runs check and returns what it failed with, or "".
func fails(check func(tb testing.TB)) (msg string) {
	defer func() {
		if p := recover(); p != nil {
			msg = string(p.(failed))
		}
	}()
	check(fatalTB{})
	return ""
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
