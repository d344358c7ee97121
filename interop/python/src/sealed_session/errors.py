"""The error classes of docs/FORMAT.md, as exceptions.

Every failure to open a value raises a subclass of :class:`SealedError`,
whose ``kind`` is the class's name in the specification and in the test
vectors. Messages never contain key material, key IDs from configuration,
or session data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Optional

if TYPE_CHECKING:
    from .sealed import OpenInfo

__all__ = [
    "SealedError",
    "Malformed",
    "UnknownKey",
    "Invalid",
    "Expired",
    "TooLarge",
    "Rejected",
    "HeadersWritten",
]


class SealedError(Exception):
    """A value that does not open. ``kind`` is the specification's error class."""

    kind: ClassVar[str] = "sealed"


class Malformed(SealedError):
    """Not a sealed value: too short, not canonical base64url, an unknown
    version or flag, a key of the other suite, a broken DEFLATE stream or
    middleware payload, a missing chunk."""

    kind = "malformed"


class UnknownKey(SealedError):
    """Sealed with a key the ring does not hold (retired, or another ring)."""

    kind = "unknown_key"


class Invalid(SealedError):
    """Authentication failed: tampered, another secret, another cookie name,
    another purpose. The AEAD gives one answer for all of these."""

    kind = "invalid"


class Expired(SealedError):
    """An authentic value past its expiry (or a session past its deadline or
    idle timeout). ``info`` describes the value that was opened."""

    kind = "expired"

    def __init__(self, message: str, info: Optional["OpenInfo"] = None) -> None:
        super().__init__(message)
        self.info = info


class TooLarge(SealedError):
    """Longer than the maximum length (checked before decoding), inflating
    past the bound, or a session that needs more cookies than its budget."""

    kind = "too_large"


class Rejected(SealedError):
    """An authentic session that the middleware's ``validate`` hook refused.
    Not a class of the format: only the middleware raises it."""

    kind = "rejected"


class HeadersWritten(RuntimeError):
    """A session changed after the response headers went out: the change
    cannot reach the client. Reported to ``on_error``, never raised."""
