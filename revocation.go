package sealed

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"time"
)

// ErrRevoked reports an authentic session that was revoked: signed out
// everywhere, signed out from another device, or destroyed while a copy of
// its cookie was kept. The Manager treats it as an invalid cookie.
var ErrRevoked = errors.New("sealed: session revoked")

// A SessionID identifies one session: 16 random bytes drawn when the
// session starts (Put or Update without a session) or is renewed, sealed
// in its cookie. Its String is lowercase hex.
type SessionID [16]byte

// String returns id in lowercase hex.
func (id SessionID) String() string { return hex.EncodeToString(id[:]) }

// ParseSessionID parses the hex form of a SessionID.
func ParseSessionID(s string) (SessionID, error) {
	var id SessionID
	if len(s) != 2*len(id) {
		return id, errors.New("sealed: session ID: want 32 hex digits")
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, errors.New("sealed: session ID: want 32 hex digits")
	}
	return id, nil
}

// A Revocation is one entry of a [RevocationStore]: either one session
// (Session set), or every session of a subject minted at or before
// NotBefore except one (Session zero).
type Revocation struct {
	Subject   string    // the user; may be empty for a single session
	Session   SessionID // the session revoked, or zero for all of Subject's
	NotBefore time.Time // with Session zero: sessions minted at or before it are revoked
	Except    SessionID // with Session zero: a session that stays (sign out other devices)
	Expires   time.Time // when no session the entry affects can still be alive
}

// A SessionRecord describes a session in a subject's device list.
type SessionRecord struct {
	ID        SessionID
	Subject   string
	Created   time.Time // when the session was minted: login or Renew
	Refreshed time.Time // when it was last re-sealed and registered
	Expires   time.Time // its absolute deadline
	Device    string    // Options.Device's description of the client
	Replaces  SessionID // the ID the session had before Renew drew this one; its record goes
}

// A RevocationStore holds a Manager's revocations and, for the device list,
// a registry of live sessions. It holds only what revocation needs: the
// sessions themselves stay in their cookies.
//
// Revoked is on the path of every request that reads a session, so it must
// answer from memory without I/O: a store shared by a fleet keeps a local
// mirror that the shared store pushes changes to. What it answers when the
// mirror is too stale to trust is the store's documented policy.
//
// Revoke, Register and Sessions may do I/O; the Manager calls Register only
// when a session is minted or re-sealed for its idle window, never on every
// request. Entries expire by themselves at their Expires time, so a store
// holds only the revocations made within one session lifetime.
type RevocationStore interface {
	// Revoked reports whether the session id of subject, minted at minted,
	// is revoked.
	Revoked(id SessionID, subject string, minted time.Time) bool
	// Revoke records r.
	Revoke(ctx context.Context, r Revocation) error
	// Register records or updates a session of the device list.
	Register(ctx context.Context, s SessionRecord) error
	// Sessions returns the registered, unexpired sessions of subject,
	// including revoked ones, which the Manager filters out.
	Sessions(ctx context.Context, subject string) ([]SessionRecord, error)
}

// revoked reports whether r revokes the session id of subject minted at
// minted, at time now. Stores share this rule.
func (r *Revocation) revokes(id SessionID, subject string, minted, now time.Time) bool {
	if !now.Before(r.Expires) {
		return false
	}
	if r.Session != (SessionID{}) {
		return r.Session == id
	}
	return r.Subject == subject && !minted.After(r.NotBefore) && (r.Except == (SessionID{}) || r.Except != id)
}

// errNoStore is returned by the revoking methods of a Manager without a
// store.
var errNoStore = errors.New("sealed: revocation needs Options.Revocations")

// RevokeSubject signs subject out everywhere: every session of subject
// minted until now (to the millisecond, this one included) stops working on
// every instance that shares the store, within the store's propagation
// bound. Call it for "sign out everywhere", and on events that must end a
// user's sessions, such as a password or role change; it needs no request.
// Sessions minted later, such as the user's next login, are not affected.
func (m *Manager[T]) RevokeSubject(ctx context.Context, subject string) error {
	if m.revs == nil {
		return errNoStore
	}
	if subject == "" {
		return errors.New("sealed: RevokeSubject: empty subject")
	}
	now := m.now()
	return m.revs.Revoke(ctx, Revocation{Subject: subject, NotBefore: time.UnixMilli(now.UnixMilli()), Expires: m.revocationExpiry(now)})
}

// RevokeOthers signs the subject of ctx's session out of every other
// session ("sign out other devices"): like RevokeSubject, but the session of
// this request stays. It fails if the request has no session or the session
// has no subject.
func (m *Manager[T]) RevokeOthers(ctx context.Context) error {
	if m.revs == nil {
		return errNoStore
	}
	s, err := m.lock(ctx)
	if s == nil {
		return errors.New("sealed: RevokeOthers: no session in this context")
	}
	ok := s.has && s.subject != ""
	now := m.now()
	if ok && s.id == (SessionID{}) { // a cookie sealed before IDs existed
		s.mint(now)
		s.dirty = true
	}
	r := Revocation{Subject: s.subject, NotBefore: time.UnixMilli(now.UnixMilli()), Except: s.id, Expires: m.revocationExpiry(now)}
	m.unlock(ctx, s, err)
	if !ok {
		return errors.New("sealed: RevokeOthers: the request's session has no subject")
	}
	return m.revs.Revoke(ctx, r)
}

// Revoke revokes one session of subject by its ID, as listed by Sessions
// ("sign out this device").
func (m *Manager[T]) Revoke(ctx context.Context, subject string, id SessionID) error {
	if m.revs == nil {
		return errNoStore
	}
	return m.revs.Revoke(ctx, Revocation{Subject: subject, Session: id, Expires: m.revocationExpiry(m.now())})
}

// Sessions returns the live sessions of subject, oldest first: the device
// list. Sessions are registered when they are minted (at login) and when
// they are re-sealed for their idle window, so Refreshed lags the last
// request by up to Options.IdleRefresh. Revoked sessions are left out.
func (m *Manager[T]) Sessions(ctx context.Context, subject string) ([]SessionRecord, error) {
	if m.revs == nil {
		return nil, errNoStore
	}
	recs, err := m.revs.Sessions(ctx, subject)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(recs, func(r SessionRecord) bool {
		return m.revs.Revoked(r.ID, r.Subject, r.Created)
	}), nil
}

// revocationExpiry is when a revocation made at now may be dropped: no
// session minted until now can be alive then.
func (m *Manager[T]) revocationExpiry(now time.Time) time.Time {
	return now.Add(time.Duration(m.lifetime+m.skew) * time.Second)
}

// revoked reports whether s, just opened, is revoked. A cookie sealed
// before session IDs existed is checked by its subject, as minted when it
// was issued.
func (m *Manager[T]) revoked(s *state[T]) bool {
	minted := time.UnixMilli(s.minted)
	if s.id == (SessionID{}) {
		minted = time.Unix(s.issued, 0)
	}
	return m.revs.Revoked(s.id, s.subject, minted)
}

// registration returns the device-list record of s, sealed at now.
func (m *Manager[T]) registration(s *state[T], now int64) SessionRecord {
	rec := SessionRecord{
		ID: s.id, Subject: s.subject,
		Created:   time.UnixMilli(s.minted),
		Refreshed: time.Unix(now, 0),
		Expires:   time.Unix(s.deadline+m.skew, 0),
		Replaces:  s.replaces,
	}
	if m.device != nil {
		rec.Device = m.device(s.hdr)
	}
	return rec
}
