package sealed

import (
	"context"
	"strings"
)

// Flash adds a one-time message, such as "Saved." after a form post
// redirects, to be read by the next request that calls Flashes. Messages
// travel in the session cookie (sealed like the session) but do not need a
// session: a flash added after Destroy survives the logout, and Get still
// reports no session. Keep them short; they count against the cookie budget.
// A message is text: invalid UTF-8 in msg is replaced with U+FFFD, so
// readers in any language decode it (docs/FORMAT-middleware.md).
//
// Like Put, Flash panics if ctx carries no session from this Manager.
func (m *Manager[T]) Flash(ctx context.Context, msg string) {
	m.modify(ctx, "Flash", func(s *state[T]) {
		s.flashes = append(s.flashes, strings.ToValidUTF8(msg, "\uFFFD"))
	})
}

// Flashes returns the pending flash messages, oldest first, and removes
// them (read-and-clear), or returns nil if there are none. It returns nil
// when ctx carries no session from this Manager.
func (m *Manager[T]) Flashes(ctx context.Context) (msgs []string) {
	s, err := m.lock(ctx)
	if s == nil {
		return nil
	}
	late := false
	if msgs = s.flashes; len(msgs) > 0 {
		s.flashes = nil
		s.dirty = true
		late = s.committed
	}
	m.unlock(ctx, s, err)
	if late {
		m.report(ctx, ErrHeadersWritten, true)
	}
	return msgs
}
