"""Canonical base64url without padding (docs/FORMAT.md, "Opening", step 3)."""

from __future__ import annotations

import base64
import re
from typing import Optional

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}
_ONLY_ALPHABET = re.compile(r"[A-Za-z0-9_-]*\Z")


def encode(raw: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_canonical(s: str) -> Optional[bytes]:
    """Decodes canonical unpadded base64url, or returns None.

    Canonical: only the 64 characters of the alphabet (no ``=``, ``+``,
    ``/``, whitespace, CR or LF), a length not 1 more than a multiple of 4,
    and zero unused bits in the last character; every byte string has
    exactly one such encoding. (Python's decoders, like Go's, would accept
    some of these.)
    """
    if not _ONLY_ALPHABET.match(s):
        return None
    rem = len(s) % 4
    if rem == 1:
        return None
    if rem:
        last = _INDEX[s[-1]]
        if (rem == 2 and last & 0x0F) or (rem == 3 and last & 0x03):
            return None
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def decode_secret(s: str) -> Optional[bytes]:
    """Decodes a key's secret as Go's internal/secret does: base64url,
    unpadded or correctly padded, canonical otherwise. None if it is not."""
    if s.endswith("="):
        if len(s) % 4:
            return None
        body = s.rstrip("=")
        pad = len(s) - len(body)
        if pad > 2 or len(body) % 4 != 4 - pad:
            return None
        s = body
    return decode_canonical(s)
