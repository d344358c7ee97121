package sealedtest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/sealedcookie/sealed"
)

// TestCodec checks that codec keeps the contract of [sealed.Codec] for each
// of values and for the zero T. It returns nil, or an error joining every
// failure it found, as testing/fstest.TestFS does. It checks that:
//
//   - Decode, given a pointer to a zero T as the Manager gives it, returns
//     the value that Append encoded: equal as by reflect.DeepEqual, except
//     that values of a type with an Equal method (such as time.Time) are
//     compared with it, and nil and empty slices and maps are equal;
//   - Append appends: the bytes of dst are left in place, whether or not
//     dst has room to spare;
//   - the decoded value keeps no reference to the data, which the caller
//     clears and reuses once Decode returns;
//   - Decode rejects the encoding with a zero byte added, the encoding
//     twice, and every truncation of it, with an error and without a panic;
//   - Append and Decode are safe for concurrent use (run the test with
//     -race to check for data races).
//
// It does not check that encodings are deterministic: the Codec contract
// does not ask for it, and codecs that write maps in iteration order (gob,
// CBOR, MessagePack) are not.
//
// Give it values like the sessions the application stores: structs, with
// their fields set. A bare number would not do with JSON, whose prefixes
// and repetitions of "42" are numbers too.
func TestCodec[T any](codec sealed.Codec[T], values ...T) error {
	if codec == nil {
		return errors.New("sealedtest: TestCodec: nil codec")
	}
	values = append(values[:len(values):len(values)], *new(T))
	var errs []error
	for i, v := range values {
		if err := checkValue(codec, v); err != nil {
			errs = append(errs, fmt.Errorf("value %d, %s: %w", i, short(v), err))
		}
	}
	if len(errs) == 0 {
		errs = append(errs, checkConcurrent(codec, values))
	}
	return errors.Join(errs...)
}

// checkValue checks codec with one value and returns what failed.
func checkValue[T any](codec sealed.Codec[T], v T) error {
	enc, err := codec.Append(nil, &v)
	if err != nil {
		return fmt.Errorf("appending: %w", err)
	}
	if err := roundTrip(codec, bytes.Clone(enc), v); err != nil {
		return err
	}
	var errs []error
	for _, room := range []int{0, 1 << 10} { // dst without, and with, spare capacity
		const prefix = "prefix"
		dst := append(make([]byte, 0, len(prefix)+room), prefix...)
		out, err := codec.Append(dst, &v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("appending to %d bytes with %d to spare: %w", len(prefix), room, err))
		case len(out) < len(prefix) || string(out[:len(prefix)]) != prefix:
			errs = append(errs, fmt.Errorf("appending to %q with %d bytes to spare overwrote them: %.40q", prefix, room, out))
		default:
			if err := roundTrip(codec, out[len(prefix):], v); err != nil {
				errs = append(errs, fmt.Errorf("after appending to a non-empty dst: %w", err))
			}
		}
	}
	if decodes(codec, append(bytes.Clone(enc), 0)) == nil {
		errs = append(errs, fmt.Errorf("the %d-byte value with a zero byte after it decodes", len(enc)))
	}
	if len(enc) > 0 && decodes(codec, append(bytes.Clone(enc), enc...)) == nil {
		errs = append(errs, errors.New("the value twice decodes"))
	}
	for n := range len(enc) {
		if err := decodes(codec, bytes.Clone(enc[:n])); err == nil {
			errs = append(errs, fmt.Errorf("the value truncated to %d of %d bytes decodes", n, len(enc)))
			break
		} else if errors.Is(err, errPanic) {
			errs = append(errs, fmt.Errorf("the value truncated to %d of %d bytes: %w", n, len(enc), err))
			break
		}
	}
	return errors.Join(errs...)
}

// roundTrip decodes data into a zero T, compares the result with want, and
// again once data is cleared, which catches a value that aliases it.
func roundTrip[T any](codec sealed.Codec[T], data []byte, want T) error {
	var got T
	if err := decode(codec, data, &got); err != nil {
		return fmt.Errorf("decoding the %d bytes of Append: %w", len(data), err)
	}
	if !equal(reflect.ValueOf(&got).Elem(), reflect.ValueOf(&want).Elem()) {
		return fmt.Errorf("it decodes as %s", short(got))
	}
	for i := range data {
		data[i] = 0xa5
	}
	if !equal(reflect.ValueOf(&got).Elem(), reflect.ValueOf(&want).Elem()) {
		return fmt.Errorf("the decoded value changed to %s when the data was overwritten: it shares its memory", short(got))
	}
	return nil
}

// short formats v for an error message, cut at 200 bytes.
func short(v any) string {
	s := fmt.Sprintf("%+v", v)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

var errPanic = errors.New("panic in Decode")

// decode calls codec.Decode, turning a panic into an error.
func decode[T any](codec sealed.Codec[T], data []byte, v *T) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", errPanic, p)
		}
	}()
	return codec.Decode(data, v)
}

// decodes decodes data into a zero T.
func decodes[T any](codec sealed.Codec[T], data []byte) error {
	var v T
	return decode(codec, data, &v)
}

// checkConcurrent encodes and decodes values from several goroutines at
// once.
func checkConcurrent[T any](codec sealed.Codec[T], values []T) error {
	const goroutines, rounds = 8, 25
	errs := make([]error, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			var buf []byte
			for r := range rounds {
				v := values[(g+r)%len(values)]
				var err error
				if buf, err = codec.Append(buf[:0], &v); err != nil {
					errs[g] = fmt.Errorf("concurrent Append: %w", err)
					return
				}
				var got T
				if err := decode(codec, buf, &got); err != nil {
					errs[g] = fmt.Errorf("concurrent Decode: %w", err)
					return
				}
				if !equal(reflect.ValueOf(&got).Elem(), reflect.ValueOf(&v).Elem()) {
					errs[g] = fmt.Errorf("concurrent round trip of %s = %s", short(v), short(got))
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// equal is reflect.DeepEqual, except that values of a type with a method
// Equal(T) bool are compared with it, nil and empty slices and maps are
// equal, and so are two NaNs.
func equal(x, y reflect.Value) bool {
	if x.IsValid() != y.IsValid() || (x.IsValid() && x.Type() != y.Type()) {
		return false
	}
	if !x.IsValid() {
		return true
	}
	if m, ok := x.Type().MethodByName("Equal"); ok && x.CanInterface() && y.CanInterface() &&
		m.Type.NumIn() == 2 && m.Type.In(1) == x.Type() && m.Type.NumOut() == 1 && m.Type.Out(0).Kind() == reflect.Bool {
		return x.Method(m.Index).Call([]reflect.Value{y})[0].Bool()
	}
	switch x.Kind() {
	case reflect.Slice, reflect.Array:
		if x.Len() != y.Len() {
			return false
		}
		for i := range x.Len() {
			if !equal(x.Index(i), y.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if x.Len() != y.Len() {
			return false
		}
		for it := x.MapRange(); it.Next(); {
			if !equal(it.Value(), y.MapIndex(it.Key())) {
				return false
			}
		}
		return true
	case reflect.Pointer, reflect.Interface:
		if x.IsNil() || y.IsNil() {
			return x.IsNil() == y.IsNil()
		}
		return equal(x.Elem(), y.Elem())
	case reflect.Struct:
		for i := range x.NumField() {
			if !equal(x.Field(i), y.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Bool:
		return x.Bool() == y.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return x.Int() == y.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return x.Uint() == y.Uint()
	case reflect.Float32, reflect.Float64:
		a, b := x.Float(), y.Float()
		return a == b || (a != a && b != b)
	case reflect.Complex64, reflect.Complex128:
		return x.Complex() == y.Complex()
	case reflect.String:
		return x.String() == y.String()
	case reflect.Func:
		return x.IsNil() && y.IsNil()
	default: // Chan, UnsafePointer
		return x.Pointer() == y.Pointer()
	}
}
