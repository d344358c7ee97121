"""Sealing and opening values (docs/FORMAT.md).

This module follows the specification's *Sealing* and *Opening* steps in
order; the step numbers in the comments are the specification's.
"""

from __future__ import annotations

import math
import os
import struct
import time
import zlib
from datetime import datetime, timedelta, timezone
from typing import NamedTuple, Optional, Tuple, Union

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from . import _b64, _xchacha
from .errors import Expired, Invalid, Malformed, TooLarge, UnknownKey
from .keys import Key, KeyRing

__all__ = [
    "DEFAULT_MAX_LEN",
    "DEFAULT_MAX_DECOMPRESSED",
    "MAX_PURPOSE_LEN",
    "OVERHEAD",
    "OVERHEAD_V2",
    "OpenInfo",
    "Keys",
    "Time",
    "encoded_len",
    "open",
    "seal",
    "seal_deflated",
]

VERSION_1 = 0x01
VERSION_2 = 0x02
FLAG_DEFLATE = 0x01
_KNOWN_FLAGS = FLAG_DEFLATE
HEADER_LEN = 14  # version(1) flags(1) kid(4) expiry(8)
NONCE_LEN = 24
SALT_LEN = 16
GCM_NONCE_LEN = 12
TAG_LEN = 16
OVERHEAD = HEADER_LEN + NONCE_LEN + TAG_LEN  # 54 bytes, version 1
OVERHEAD_V2 = HEADER_LEN + SALT_LEN + GCM_NONCE_LEN + TAG_LEN  # 58 bytes
MIN_ENCODED = math.ceil(OVERHEAD * 8 / 6)  # 72 characters: an empty plaintext
V2_INFO = b"sealed v2 AES-256-GCM key derivation"

DEFAULT_MAX_LEN = 4000  # characters (bytes of the value)
DEFAULT_MAX_DECOMPRESSED = 65536  # bytes
MAX_PURPOSE_LEN = 255  # bytes

_INT64 = 1 << 63

Keys = Union[KeyRing, str]
"""A key ring, or its text form (``KeyRing.parse``)."""

Time = Union[int, float, datetime]
"""Unix seconds, or an aware datetime (a naive one is taken as UTC)."""


class OpenInfo(NamedTuple):
    """What opening a value tells besides its plaintext."""

    key_id: str  #: the ID of the key that opened it
    expires: int  #: its sealed expiry, Unix seconds
    stale: bool  #: opened with a key other than the primary: re-seal it


def _ring(keys: Keys) -> KeyRing:
    if isinstance(keys, KeyRing):
        return keys
    if isinstance(keys, str):
        return KeyRing.parse(keys)
    raise TypeError("keys must be a KeyRing or its text form")


def _bytes(x: Union[str, bytes, bytearray, memoryview], what: str) -> bytes:
    if isinstance(x, str):
        # Names and purposes are UTF-8, as Go's strings usually are; a lone
        # surrogate (from surrogateescape) stands for the byte it escaped.
        return x.encode("utf-8", "surrogateescape")
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x)
    raise TypeError(f"{what} must be str or bytes")


def _seconds(t: Time) -> float:
    if isinstance(t, datetime):
        return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp()
    if isinstance(t, (int, float)) and not isinstance(t, bool):
        return t
    raise TypeError("a time is Unix seconds (int or float) or a datetime")


def _duration(d: Union[int, float, timedelta]) -> float:
    if isinstance(d, timedelta):
        return d.total_seconds()
    if isinstance(d, (int, float)) and not isinstance(d, bool):
        return d
    raise TypeError("a duration is seconds (int or float) or a timedelta")


def _additional_data(header: bytes, name: bytes, purpose: bytes) -> bytes:
    """AD = header || name, and with a purpose || 0x00 || purpose."""
    if purpose:
        return header + name + b"\x00" + purpose
    return header + name


def _value_key(secret: bytes, salt: bytes) -> bytes:
    """Version 2's key for one value: HKDF-SHA256(secret, salt, V2_INFO), 32 bytes."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=V2_INFO).derive(secret)


def encoded_len(plaintext_len: int, version: int = VERSION_1) -> int:
    """The length in characters of the value that seals plaintext_len bytes."""
    n = plaintext_len + (OVERHEAD if version == VERSION_1 else OVERHEAD_V2)
    return (n * 8 + 5) // 6


def open(  # noqa: A001 - the contract's name; shadows the builtin in this module only
    ring: Keys,
    name: Union[str, bytes],
    value: Union[str, bytes],
    now: Optional[Time] = None,
    *,
    skew: Union[int, float, timedelta] = 0,
    max_len: int = DEFAULT_MAX_LEN,
    max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
    purpose: Union[str, bytes] = b"",
) -> Tuple[bytes, OpenInfo]:
    """Opens a value sealed for the cookie called name; returns the plaintext
    and an :class:`OpenInfo`.

    now is Unix seconds or a datetime (default: the clock); a value expires
    when ``floor(now - skew) >= expiry``. max_len counts the value's bytes
    (its characters, for a valid value), max_decompressed the inflated
    plaintext's; zero or less means the default, as in Go. purpose must be the one the value was sealed with (default:
    none). Raises :class:`Malformed`, :class:`UnknownKey`, :class:`Invalid`,
    :class:`Expired` (with ``info``) or :class:`TooLarge`.
    """
    keys = _ring(ring)
    name_b = _bytes(name, "name")
    purpose_b = _bytes(purpose, "purpose")
    max_len = max_len if max_len > 0 else DEFAULT_MAX_LEN  # as Go's Sealer: 0 is the default
    max_decompressed = max_decompressed if max_decompressed > 0 else DEFAULT_MAX_DECOMPRESSED
    # 0. A purpose over 255 bytes: no value was sealed with it.
    if len(purpose_b) > MAX_PURPOSE_LEN:
        raise Invalid(f"purpose is {len(purpose_b)} bytes, limit {MAX_PURPOSE_LEN}: no value opens")
    if isinstance(value, (bytes, bytearray, memoryview)):
        value_b = bytes(value)
        value_s = value_b.decode("latin-1")
    elif isinstance(value, str):
        value_s = value
        value_b = value.encode("utf-8", "surrogatepass")
    else:
        raise TypeError("value must be str or bytes")
    # 1. Too long, before any decoding. Lengths are bytes, as in Go.
    if len(value_b) > max_len:
        raise TooLarge(f"value is {len(value_b)} bytes, limit {max_len}")
    # 2. Shorter than the value of an empty plaintext.
    if len(value_b) < MIN_ENCODED:
        raise Malformed(f"{len(value_b)} characters is shorter than any sealed value")
    # 3. Canonical unpadded base64url.
    raw = _b64.decode_canonical(value_s) if len(value_s) == len(value_b) else None
    if raw is None:
        raise Malformed("not canonical unpadded base64url")
    header = raw[:HEADER_LEN]
    # 4. Version 1, or 2, whose envelope is 4 bytes longer.
    version, flags = raw[0], raw[1]
    if version not in (VERSION_1, VERSION_2):
        raise Malformed(f"unsupported version {version}")
    if version == VERSION_2 and len(raw) < OVERHEAD_V2:
        raise Malformed(f"{len(raw)} bytes is shorter than any version 2 value")
    # 5. Only known flags (they are authenticated in step 7).
    if flags & ~_KNOWN_FLAGS:
        raise Malformed(f"unknown flags {flags:#04x}")
    # 6. The key, by its identifier: no trial decryption.
    index = keys.lookup(raw[2:6])
    if index is None:
        raise UnknownKey(f"key identifier {raw[2:6].hex()} is not in the ring")
    key = keys[index]
    # 7. A name with a NUL byte could make the AD of another name and purpose.
    if b"\x00" in name_b:
        raise Invalid("cookie name contains a NUL byte")
    #    A key of the other suite cannot have sealed this layout.
    if key.version != version:
        raise Malformed(f"a version {version} value, but the key found is of the other suite")
    #    One AEAD open with that key.
    ad = _additional_data(header, name_b, purpose_b)
    try:
        if version == VERSION_1:
            opened = _xchacha.open_(key.secret, raw[HEADER_LEN : HEADER_LEN + NONCE_LEN], raw[HEADER_LEN + NONCE_LEN :], ad)
        else:
            salt = raw[HEADER_LEN : HEADER_LEN + SALT_LEN]
            nonce = raw[HEADER_LEN + SALT_LEN : HEADER_LEN + SALT_LEN + GCM_NONCE_LEN]
            opened = AESGCM(_value_key(key.secret, salt)).decrypt(nonce, raw[HEADER_LEN + SALT_LEN + GCM_NONCE_LEN :], ad)
    except _xchacha.InvalidTag:
        raise Invalid("authentication failed (tampered, another secret, another cookie name or another purpose)") from None
    # 8. Expiry, now that the header is known to be authentic. Compared as
    #    floor(now - skew) >= expiry, as Go does: no overflow of expiry + skew.
    (expires,) = struct.unpack(">q", raw[6:14])
    info = OpenInfo(key.id, expires, index != 0)
    t = time.time() if now is None else _seconds(now)
    if math.floor(t - _duration(skew)) >= expires:
        raise Expired(f"expired at {expires}", info)
    # 9. Compressed: inflate, bounded.
    if flags & FLAG_DEFLATE:
        opened = _inflate(opened, max_decompressed)
    return opened, info


def _inflate(data: bytes, limit: int) -> bytes:
    """Inflates a raw DEFLATE stream that must end exactly at the end of data,
    producing at most limit bytes."""
    d = zlib.decompressobj(wbits=-15)
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error as e:
        raise Malformed(f"compressed plaintext does not inflate: {e}") from None
    if len(out) > limit:
        raise TooLarge(f"decompressed plaintext exceeds {limit} bytes")
    if not d.eof:
        raise Malformed("compressed plaintext does not inflate: the stream ends before its final block")
    if d.unused_data:
        raise Malformed("data after the final DEFLATE block")
    return out


def seal(
    ring: Keys,
    name: Union[str, bytes],
    plaintext: bytes,
    expires: Time,
    *,
    max_len: int = DEFAULT_MAX_LEN,
    compress_above: int = 0,
    max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
    purpose: Union[str, bytes] = b"",
    nonce: Optional[bytes] = None,
    salt: Optional[bytes] = None,
) -> str:
    """Seals plaintext for the cookie called name with the ring's primary key,
    to expire at expires (Unix seconds or a datetime, rounded down to whole
    seconds). The primary key's suite decides the version.

    compress_above > 0 compresses plaintexts of at least that many bytes
    (and at most max_decompressed) with raw DEFLATE when that makes them
    shorter. Raises :class:`TooLarge` if the value would be longer than
    max_len, ``ValueError`` for a name with a NUL byte or a purpose over 255
    bytes. nonce (24 bytes, or 12 for version 2) and salt (16 bytes, version
    2) default to random: set them only to reproduce test vectors.
    """
    plaintext = bytes(plaintext)
    max_len = max_len if max_len > 0 else DEFAULT_MAX_LEN
    max_decompressed = max_decompressed if max_decompressed > 0 else DEFAULT_MAX_DECOMPRESSED
    body, flags = plaintext, 0
    if 0 < compress_above <= len(plaintext) <= max_decompressed:
        c = zlib.compressobj(1, zlib.DEFLATED, -15)  # level 1, like Go's BestSpeed
        deflated = c.compress(plaintext) + c.flush()
        if len(deflated) < len(plaintext):
            body, flags = deflated, FLAG_DEFLATE
    return _seal_flagged(ring, name, body, flags, expires, max_len, purpose, nonce, salt)


def seal_deflated(
    ring: Keys,
    name: Union[str, bytes],
    deflated: bytes,
    expires: Time,
    *,
    max_len: int = DEFAULT_MAX_LEN,
    purpose: Union[str, bytes] = b"",
    nonce: Optional[bytes] = None,
    salt: Optional[bytes] = None,
) -> str:
    """Seals a raw DEFLATE stream as it is, with the compressed flag: for test
    vectors, whose stream another compressor made."""
    max_len = max_len if max_len > 0 else DEFAULT_MAX_LEN
    return _seal_flagged(ring, name, bytes(deflated), FLAG_DEFLATE, expires, max_len, purpose, nonce, salt)


def _seal_flagged(
    ring: Keys,
    name: Union[str, bytes],
    body: bytes,
    flags: int,
    expires: Time,
    max_len: int,
    purpose: Union[str, bytes],
    nonce: Optional[bytes],
    salt: Optional[bytes],
) -> str:
    # 0. Refuse what would make the AD ambiguous.
    name_b = _bytes(name, "name")
    purpose_b = _bytes(purpose, "purpose")
    if b"\x00" in name_b:
        raise ValueError("sealed: seal: cookie name contains a NUL byte")
    if len(purpose_b) > MAX_PURPOSE_LEN:
        raise ValueError(f"sealed: seal: purpose is {len(purpose_b)} bytes, limit {MAX_PURPOSE_LEN}")
    # 1. The primary key; the expiry in whole seconds, rounded down.
    key: Key = _ring(ring).primary
    if expires is None:
        raise ValueError("sealed: seal needs an expiry")
    exp = math.floor(_seconds(expires))
    if not -_INT64 <= exp < _INT64:
        raise ValueError("sealed: seal: expiry out of the signed 64-bit range")
    overhead = OVERHEAD if key.version == VERSION_1 else OVERHEAD_V2
    n = encoded_len(len(body), key.version)
    if n > max_len:
        raise TooLarge(f"{len(body)} bytes seal to {n} characters, limit {max_len}")
    # 3. Header, then the random fields.
    header = struct.pack(">BB4sq", key.version, flags, key.kid, exp)
    ad = _additional_data(header, name_b, purpose_b)
    if key.version == VERSION_1:
        if salt is not None:
            raise ValueError("sealed: a salt is for version 2 (aes256gcm) keys only")
        nonce = os.urandom(NONCE_LEN) if nonce is None else bytes(nonce)
        if len(nonce) != NONCE_LEN:
            raise ValueError(f"sealed: the nonce is {NONCE_LEN} bytes")
        # 4. AEAD seal with AD = header || name [|| 0x00 || purpose].
        raw = header + nonce + _xchacha.seal(key.secret, nonce, body, ad)
    else:
        salt = os.urandom(SALT_LEN) if salt is None else bytes(salt)
        nonce = os.urandom(GCM_NONCE_LEN) if nonce is None else bytes(nonce)
        if len(salt) != SALT_LEN or len(nonce) != GCM_NONCE_LEN:
            raise ValueError(f"sealed: version 2 takes a {SALT_LEN}-byte salt and a {GCM_NONCE_LEN}-byte nonce")
        raw = header + salt + nonce + AESGCM(_value_key(key.secret, salt)).encrypt(nonce, body, ad)
    assert len(raw) == len(body) + overhead
    # 5. Unpadded base64url. (6. was checked before sealing: the length is known.)
    return _b64.encode(raw)
