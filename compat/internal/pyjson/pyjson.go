// Package pyjson is a small ordered JSON tree for the compat packages: it
// parses JSON the way Python's json.loads builds a dict (keys keep their
// first position and take their last value) and writes it the way Python's
// json.dumps does (separators, ensure_ascii escaping, optional key sort),
// so that Go can reproduce a Python framework's cookie byte for byte.
// Numbers are kept as their source text.
package pyjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"unicode/utf8"
)

// MaxDepth bounds nesting (Python's own recursion limit is about 1000).
const MaxDepth = 500

// Kind is the JSON type of a Value.
type Kind uint8

// The JSON kinds.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

// Value is one JSON value.
type Value struct {
	Kind    Kind
	Bool    bool     // for Bool
	Text    string   // for String (decoded) and Number (source literal)
	Items   []*Value // for Array
	Members []Member // for Object, in order, keys unique
}

// Member is one key of an Object.
type Member struct {
	Key   string
	Value *Value
}

// Str returns a String value.
func Str(s string) *Value { return &Value{Kind: String, Text: s} }

// Parse parses one JSON document. Invalid UTF-8, trailing data and nesting
// deeper than MaxDepth are errors.
func Parse(data []byte) (*Value, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("pyjson: invalid UTF-8")
	}
	if !json.Valid(data) {
		return nil, errors.New("pyjson: invalid JSON")
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := parse(d, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("pyjson: trailing data")
	}
	return v, nil
}

func parse(d *json.Decoder, depth int) (*Value, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, fmt.Errorf("pyjson: %v", err)
	}
	return value(d, tok, depth)
}

func value(d *json.Decoder, tok json.Token, depth int) (*Value, error) {
	switch t := tok.(type) {
	case nil:
		return &Value{Kind: Null}, nil
	case bool:
		return &Value{Kind: Bool, Bool: t}, nil
	case json.Number:
		return &Value{Kind: Number, Text: string(t)}, nil
	case string:
		return Str(t), nil
	case json.Delim:
		if depth >= MaxDepth {
			return nil, errors.New("pyjson: nested too deeply")
		}
		switch t {
		case '[':
			v := &Value{Kind: Array, Items: []*Value{}}
			for d.More() {
				item, err := parse(d, depth+1)
				if err != nil {
					return nil, err
				}
				v.Items = append(v.Items, item)
			}
			_, err := d.Token() // ']'
			return v, err
		case '{':
			v := &Value{Kind: Object, Members: []Member{}}
			index := map[string]int{}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("pyjson: object key is not a string")
				}
				item, err := parse(d, depth+1)
				if err != nil {
					return nil, err
				}
				if i, dup := index[k]; dup {
					v.Members[i].Value = item // dict semantics: last value wins
					continue
				}
				index[k] = len(v.Members)
				v.Members = append(v.Members, Member{k, item})
			}
			_, err := d.Token() // '}'
			return v, err
		}
	}
	return nil, fmt.Errorf("pyjson: unexpected token %v", tok)
}

// Style says how Append writes JSON.
type Style struct {
	ItemSep, KeySep string // Python's separators=(ItemSep, KeySep)
	ASCII           bool   // ensure_ascii: escape every non-ASCII character and DEL
	SortKeys        bool   // sort_keys
}

// Append appends v written in style st to dst.
func (v *Value) Append(dst []byte, st Style) []byte {
	switch v.Kind {
	case Null:
		return append(dst, "null"...)
	case Bool:
		if v.Bool {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case Number:
		return append(dst, v.Text...)
	case String:
		return appendString(dst, v.Text, st.ASCII)
	case Array:
		dst = append(dst, '[')
		for i, item := range v.Items {
			if i > 0 {
				dst = append(dst, st.ItemSep...)
			}
			dst = item.Append(dst, st)
		}
		return append(dst, ']')
	default: // Object
		ms := v.Members
		if st.SortKeys {
			ms = append([]Member(nil), ms...)
			// Byte order of UTF-8 equals Python's code point order.
			sort.SliceStable(ms, func(i, j int) bool { return ms[i].Key < ms[j].Key })
		}
		dst = append(dst, '{')
		for i, m := range ms {
			if i > 0 {
				dst = append(dst, st.ItemSep...)
			}
			dst = appendString(dst, m.Key, st.ASCII)
			dst = append(dst, st.KeySep...)
			dst = m.Value.Append(dst, st)
		}
		return append(dst, '}')
	}
}

const hexDigits = "0123456789abcdef"

func appendU(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// appendString quotes s as Python's json encoder does (ascii selects
// ensure_ascii=True, with surrogate pairs above U+FFFF).
func appendString(dst []byte, s string, ascii bool) []byte {
	dst = append(dst, '"')
	for _, r := range s {
		switch {
		case r == '"':
			dst = append(dst, '\\', '"')
		case r == '\\':
			dst = append(dst, '\\', '\\')
		case r == '\n':
			dst = append(dst, '\\', 'n')
		case r == '\r':
			dst = append(dst, '\\', 'r')
		case r == '\t':
			dst = append(dst, '\\', 't')
		case r == '\b':
			dst = append(dst, '\\', 'b')
		case r == '\f':
			dst = append(dst, '\\', 'f')
		case r < 0x20:
			dst = appendU(dst, r)
		case r < 0x7f || !ascii:
			dst = utf8.AppendRune(dst, r)
		case r <= 0xffff:
			dst = appendU(dst, r)
		default:
			r -= 0x10000
			dst = appendU(dst, 0xd800|(r>>10)&0x3ff)
			dst = appendU(dst, 0xdc00|r&0x3ff)
		}
	}
	return append(dst, '"')
}
