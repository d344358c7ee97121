package redisstore

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/sealedcookie/sealed"
)

// The encodings of the data in Redis (see the package documentation):
//
//	field    "s:" + 32 hex digits (a session entry) or "u:" + subject
//	value    notBefore ":" expires ":" except ":" subject
//	message  len(field) ":" field value
//
// Times are Unix milliseconds in decimal; notBefore is empty for a session
// entry, except is empty or 32 hex digits, and subject (last, so it may hold
// any byte) is set only for a session entry: a subject entry's is its field.

const (
	sessionField = "s:"
	subjectField = "u:"
)

// field returns the hash field of r.
func field(r *sealed.Revocation) string {
	if r.Session != (sealed.SessionID{}) {
		return sessionField + r.Session.String()
	}
	return subjectField + r.Subject
}

// expiresMilli is r.Expires in Unix milliseconds, rounded up: an entry is
// never dropped early.
func expiresMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).Before(t) {
		ms++
	}
	return ms
}

// value returns the hash value of r. NotBefore is rounded down to the
// millisecond, which changes nothing: mint times are whole milliseconds.
func value(r *sealed.Revocation) string {
	b := make([]byte, 0, 64)
	if r.Session == (sealed.SessionID{}) {
		b = strconv.AppendInt(b, r.NotBefore.UnixMilli(), 10)
	}
	b = append(b, ':')
	b = strconv.AppendInt(b, expiresMilli(r.Expires), 10)
	b = append(b, ':')
	if r.Session == (sealed.SessionID{}) && r.Except != (sealed.SessionID{}) {
		b = append(b, r.Except.String()...)
	}
	b = append(b, ':')
	if r.Session != (sealed.SessionID{}) {
		b = append(b, r.Subject...)
	}
	return string(b)
}

var errEncoding = errors.New("redisstore: malformed entry")

// decode returns the Revocation that a hash field and value encode.
func decode(f, v string) (sealed.Revocation, error) {
	var r sealed.Revocation
	nb, rest, ok1 := strings.Cut(v, ":")
	exp, rest, ok2 := strings.Cut(rest, ":")
	except, subject, ok3 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || !ok3 {
		return r, errEncoding
	}
	ms, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return r, errEncoding
	}
	r.Expires = time.UnixMilli(ms)
	switch {
	case strings.HasPrefix(f, sessionField):
		if r.Session, err = sealed.ParseSessionID(f[len(sessionField):]); err != nil || r.Session == (sealed.SessionID{}) || nb != "" || except != "" {
			return r, errEncoding
		}
		r.Subject = subject
	case strings.HasPrefix(f, subjectField):
		r.Subject = f[len(subjectField):]
		if r.Subject == "" || subject != "" {
			return r, errEncoding
		}
		if ms, err = strconv.ParseInt(nb, 10, 64); err != nil {
			return r, errEncoding
		}
		r.NotBefore = time.UnixMilli(ms)
		if except != "" {
			if r.Except, err = sealed.ParseSessionID(except); err != nil {
				return r, errEncoding
			}
		}
	default:
		return r, errEncoding
	}
	return r, nil
}

// decodeMessage returns the Revocation of a published message.
func decodeMessage(m string) (sealed.Revocation, error) {
	n, rest, ok := strings.Cut(m, ":")
	size, err := strconv.Atoi(n)
	if !ok || err != nil || size < 0 || size > len(rest) {
		return sealed.Revocation{}, errEncoding
	}
	return decode(rest[:size], rest[size:])
}

// record is a SessionRecord as JSON in a subject's device-list hash; the
// field is the ID and the key names the subject. Times are Unix
// milliseconds.
type record struct {
	Created   int64  `json:"created"`
	Refreshed int64  `json:"refreshed"`
	Expires   int64  `json:"expires"`
	Device    string `json:"device,omitempty"`
}

func encodeRecord(s *sealed.SessionRecord) string {
	b, _ := json.Marshal(record{ // cannot fail: ints and a string
		Created:   s.Created.UnixMilli(),
		Refreshed: s.Refreshed.UnixMilli(),
		Expires:   expiresMilli(s.Expires),
		Device:    s.Device,
	})
	return string(b)
}

func decodeRecord(subject, id, v string) (sealed.SessionRecord, error) {
	var rec record
	sid, err := sealed.ParseSessionID(id)
	if err != nil {
		return sealed.SessionRecord{}, errEncoding
	}
	if err := json.Unmarshal([]byte(v), &rec); err != nil {
		return sealed.SessionRecord{}, errEncoding
	}
	return sealed.SessionRecord{
		ID:        sid,
		Subject:   subject,
		Created:   time.UnixMilli(rec.Created),
		Refreshed: time.UnixMilli(rec.Refreshed),
		Expires:   time.UnixMilli(rec.Expires),
		Device:    rec.Device,
	}, nil
}
