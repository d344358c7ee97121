"""sealed_session: sealed cookies and sessions, compatible with Go's
github.com/sealedcookie/sealed.

Values are sealed with XChaCha20-Poly1305 (format version 1) or, with
``aes256gcm`` keys, AES-256-GCM (version 2), as docs/FORMAT.md specifies;
:class:`SessionMiddleware` stores a JSON session in them, as the Go
``sealed.Manager`` does (docs/FORMAT-middleware.md), so Go and Python
services behind one load balancer share one session.

    from sealed_session import KeyRing, open, seal
    ring = KeyRing.parse(os.environ["SEALED_KEYS"])
    value = seal(ring, "session", b'{"user":"alice"}', time.time() + 3600)
    plaintext, info = open(ring, "session", value)
"""

from .errors import (
    Expired,
    HeadersWritten,
    Invalid,
    Malformed,
    Rejected,
    SealedError,
    TooLarge,
    UnknownKey,
)
from .keys import AES256GCM, XCHACHA20POLY1305, Key, KeyRing, KeyRingError
from .sealed import (
    DEFAULT_MAX_DECOMPRESSED,
    DEFAULT_MAX_LEN,
    MAX_PURPOSE_LEN,
    OpenInfo,
    encoded_len,
    open,
    seal,
    seal_deflated,
)
from .payload import OpenedSession, Payload, open_session, parse_payload, encode_payload, seal_session
from .middleware import Session, SessionInfo, SessionMiddleware

__version__ = "0.1.0"

__all__ = [
    "AES256GCM",
    "DEFAULT_MAX_DECOMPRESSED",
    "DEFAULT_MAX_LEN",
    "Expired",
    "HeadersWritten",
    "Invalid",
    "Key",
    "KeyRing",
    "KeyRingError",
    "MAX_PURPOSE_LEN",
    "Malformed",
    "OpenInfo",
    "OpenedSession",
    "Payload",
    "Rejected",
    "SealedError",
    "Session",
    "SessionInfo",
    "SessionMiddleware",
    "TooLarge",
    "UnknownKey",
    "XCHACHA20POLY1305",
    "encode_payload",
    "encoded_len",
    "open",
    "open_session",
    "parse_payload",
    "seal",
    "seal_deflated",
    "seal_session",
]
