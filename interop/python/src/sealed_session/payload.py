"""The middleware payload and its cookies (docs/FORMAT-middleware.md).

The Go ``sealed.Manager`` stores each session as one sealed value whose
plaintext is the *payload* below, in one cookie ``N`` or in chunks ``N.0``,
``N.1``, ... sealed for the name ``N#n``. This module reads and writes both,
exactly as Go's internal/format does; :mod:`sealed_session.middleware` builds
the Starlette middleware on it, and :func:`open_session` and
:func:`seal_session` serve programs that only read or write the cookies.
"""

from __future__ import annotations

import json
import math
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from .errors import Expired, Invalid, Malformed, TooLarge
from .keys import KeyRing, _no_constant
from .sealed import (
    DEFAULT_MAX_DECOMPRESSED,
    Keys,
    OpenInfo,
    Time,
    _duration,
    _ring,
    _seconds,
    encoded_len,
)
from .sealed import open as _open
from .sealed import seal as _seal

__all__ = [
    "MAX_CHUNKS",
    "DEFAULT_CHUNK_SIZE",
    "Payload",
    "OpenedSession",
    "Carried",
    "CarriedCookies",
    "parse_payload",
    "encode_payload",
    "layout",
    "decode_json",
    "chunk_name",
    "chunked_name",
    "open_session",
    "seal_session",
]

PAYLOAD_VERSION = 0x01
HAS_VALUE = 0x01  # a session value follows the flashes
HAS_IDENTITY = 0x02  # a session ID, its mint time and a subject follow refreshed
PERSISTENCE = 0x04  # the session chose its cookie's persistence (RememberMe)
PERSISTENT = 0x08  # with PERSISTENCE: a persistent cookie (Max-Age)
_PAYLOAD_FLAGS = HAS_VALUE | HAS_IDENTITY | PERSISTENCE | PERSISTENT
PAYLOAD_HEADER_LEN = 1 + 1 + 8 + 8 + 8
MIN_PAYLOAD_LEN = PAYLOAD_HEADER_LEN + 1  # with a zero flash count
SESSION_ID_LEN = 16
MAX_SUBJECT_LEN = 255

MAX_CHUNKS = 16  # the largest chunk budget
DEFAULT_CHUNK_SIZE = 4031  # a default Manager's: name "session", its attributes, Max-Age=86400
DEFAULT_BUDGET = 4


def _text(b: bytes, what: str) -> str:
    """Flash messages and subjects are UTF-8 text: anything else is malformed."""
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed(f"middleware payload: {what} is not UTF-8") from None


def _utf8(s: str, what: str) -> bytes:
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid UTF-8 (a lone surrogate)") from None


@dataclass
class Payload:
    """A decoded middleware payload, version 1. Times are Unix seconds but
    ``minted``, which is Unix milliseconds."""

    issued: int = 0  #: created, or last renewed
    deadline: int = 0  #: the absolute end
    refreshed: int = 0  #: when it was sealed: the start of the idle window
    flashes: List[str] = field(default_factory=list)
    value: Optional[bytes] = None  #: the session's JSON; None: flash messages only
    id: Optional[bytes] = None  #: the 16-byte session ID; None: no identity
    minted: int = 0  #: when the ID was drawn, Unix milliseconds
    subject: str = ""  #: the application's user, or "" (anonymous)
    persistent: Optional[bool] = None  #: the session's own choice (RememberMe), or None

    @property
    def has_value(self) -> bool:
        return self.value is not None

    @property
    def has_identity(self) -> bool:
        return self.id is not None


def _uvarint(b: bytes, pos: int) -> Tuple[int, int]:
    """Go's binary.Uvarint at b[pos:], minimal encodings only: (value, bytes
    read), with bytes read <= 0 when the buffer ends first (0), the value
    overflows 64 bits, or the encoding is longer than it needs to be (a
    last byte of 0x00, as in 0x80 0x00 for 0)."""
    x = 0
    s = 0
    for i in range(10):
        if pos + i >= len(b):
            return 0, 0
        c = b[pos + i]
        if c < 0x80:
            if (i == 9 and c > 1) or (i > 0 and c == 0):
                return 0, -(i + 1)
            return x | c << s, i + 1
        x |= (c & 0x7F) << s
        s += 7
    return 0, -11


def _append_uvarint(out: bytearray, x: int) -> None:
    while x >= 0x80:
        out.append((x & 0x7F) | 0x80)
        x >>= 7
    out.append(x)


def parse_payload(b: bytes) -> Payload:
    """Decodes a payload, as Go's format.ParsePayload; raises :class:`Malformed`."""
    b = bytes(b)
    if len(b) < MIN_PAYLOAD_LEN or b[0] != PAYLOAD_VERSION or b[1] & ~_PAYLOAD_FLAGS or b[1] & (PERSISTENCE | PERSISTENT) == PERSISTENT:
        raise Malformed("middleware payload: not a version 1 session payload")
    flags = b[1]
    issued, deadline, refreshed = struct.unpack_from(">qqq", b, 2)
    p = Payload(issued=issued, deadline=deadline, refreshed=refreshed)
    if flags & PERSISTENCE:
        p.persistent = bool(flags & PERSISTENT)
    pos = PAYLOAD_HEADER_LEN
    if flags & HAS_IDENTITY:
        if len(b) - pos < SESSION_ID_LEN + 8:
            raise Malformed("middleware payload: bad session identity")
        p.id = b[pos : pos + SESSION_ID_LEN]
        (p.minted,) = struct.unpack_from(">q", b, pos + SESSION_ID_LEN)
        pos += SESSION_ID_LEN + 8
        n, k = _uvarint(b, pos)
        if k <= 0 or n > MAX_SUBJECT_LEN or n > len(b) - pos - k:
            raise Malformed("middleware payload: bad session identity")
        p.subject = _text(b[pos + k : pos + k + n], "the subject")
        pos += k + n
    count, k = _uvarint(b, pos)
    if k <= 0 or count > len(b) - pos:
        raise Malformed("middleware payload: bad flash count")
    pos += k
    for _ in range(count):
        n, k = _uvarint(b, pos)
        if k <= 0 or n > len(b) - pos - k:
            raise Malformed("middleware payload: bad flash message")
        p.flashes.append(_text(b[pos + k : pos + k + n], "a flash message"))
        pos += k + n
    if flags & HAS_VALUE:
        p.value = b[pos:]
    elif pos != len(b):
        raise Malformed("middleware payload: trailing data after flashes")
    return p


def encode_payload(p: Payload) -> bytes:
    """Encodes a payload, as Go's format.AppendPayload followed by the value."""
    flags = 0
    if p.value is not None:
        flags |= HAS_VALUE
    if p.id is not None:
        flags |= HAS_IDENTITY
    if p.persistent is not None:
        flags |= PERSISTENCE | (PERSISTENT if p.persistent else 0)
    out = bytearray(struct.pack(">BBqqq", PAYLOAD_VERSION, flags, p.issued, p.deadline, p.refreshed))
    if p.id is not None:
        if len(p.id) != SESSION_ID_LEN:
            raise ValueError(f"a session ID is {SESSION_ID_LEN} bytes")
        subject = _utf8(p.subject, "the subject")
        if len(subject) > MAX_SUBJECT_LEN:
            raise ValueError(f"the subject is {len(subject)} bytes, limit {MAX_SUBJECT_LEN}")
        out += p.id
        out += struct.pack(">q", p.minted)
        _append_uvarint(out, len(subject))
        out += subject
    _append_uvarint(out, len(p.flashes))
    for f in p.flashes:
        m = _utf8(f, "a flash message")
        _append_uvarint(out, len(m))
        out += m
    if p.value is not None:
        out += p.value
    return bytes(out)


# ---------------------------------------------------------------------------
# Chunks (docs/FORMAT-middleware.md, "Cookies and chunks")


def chunked_name(name: str, n: int) -> str:
    """The name a value split into n chunks is sealed for: ``name#n``."""
    return f"{name}#{n}"


def chunk_name(name: str, i: int) -> str:
    """The name of chunk i: ``name.i``."""
    return f"{name}.{i}"


def layout(total: int, chunk_size: int) -> Tuple[int, int]:
    """How a sealed value of total characters is stored: (0, total) for one
    unchunked cookie, else n chunks of size characters but the last, which
    is always shorter (size is chunk_size - 1 when total is a multiple)."""
    if total <= chunk_size:
        return 0, total
    size = chunk_size
    if total % size == 0:
        size -= 1
    return (total + size - 1) // size, size


def _chunk_index(suffix: str) -> Optional[int]:
    """Parses ".N": decimal, no leading zeros, N < 64."""
    if not 2 <= len(suffix) <= 3 or suffix[0] != "." or (suffix[1] == "0" and len(suffix) > 2):
        return None
    digits = suffix[1:]
    if not all("0" <= c <= "9" for c in digits):
        return None
    n = int(digits)
    return n if n < 64 else None


_HTTP_SPACE = " \t\n\v\f\r"  # Go's strings.TrimSpace on ASCII


@dataclass
class Carried:
    """The sealed value a request's cookies carry."""

    value: str
    sealed_for: str  #: the cookie name, or ``name#n`` for chunks
    chunks: int = 0  #: chunks joined; 0 for the unchunked cookie
    missing: Optional[str] = None  #: set when the run ends on a full chunk


class CarriedCookies:
    """A request's cookies of one session: the unchunked cookie and the
    chunks, as Go's format.Cookies."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.plain: Optional[str] = None
        self.carried = 0  # bit i: chunk i was carried (i < 64)
        self.chunks: Dict[int, str] = {}

    @classmethod
    def from_header(cls, lines: Iterable[str], name: str) -> "CarriedCookies":
        """Reads the values of a request's Cookie header lines. When a name
        occurs twice, the first is used (the most specific Path, RFC 6265
        5.4); values in double quotes are unquoted."""
        c = cls(name)
        for line in lines:
            for part in line.split(";"):
                n, eq, val = part.partition("=")
                if not eq:
                    continue
                c._add(n.strip(_HTTP_SPACE), val.strip(_HTTP_SPACE), unquote=True)
        return c

    @classmethod
    def from_mapping(cls, cookies: Mapping[str, str], name: str) -> "CarriedCookies":
        """Takes cookies already parsed (name to value)."""
        c = cls(name)
        for n, val in cookies.items():
            c._add(n, val, unquote=False)
        return c

    def _add(self, n: str, val: str, unquote: bool) -> None:
        if not n.startswith(self.name):
            return
        if unquote and len(val) >= 2 and val[0] == '"' and val[-1] == '"':
            val = val[1:-1]
        if len(n) == len(self.name):
            if self.plain is None:
                self.plain = val
            return
        i = _chunk_index(n[len(self.name) :])
        if i is None or self.carried & (1 << i):
            return
        self.carried |= 1 << i
        if i < MAX_CHUNKS:
            self.chunks[i] = val

    def any(self) -> bool:
        """Whether the request carried any cookie of the session."""
        return self.plain is not None or self.carried != 0

    def value(self, budget: int = DEFAULT_BUDGET) -> Carried:
        """The sealed value: the unchunked cookie if present, else chunks 0..n-1
        while the chunk before is as long as chunk 0. Raises
        :class:`Malformed` (chunk 0 missing) or :class:`TooLarge` (more
        chunks than budget)."""
        if self.plain is not None:
            return Carried(self.plain, self.name)
        if not self.carried & 1:
            raise Malformed(f"chunk {self.name}.0 missing: Cookie header truncated?")
        full, n = len(self.chunks[0]), 1
        while n < 64 and self.carried & (1 << n) and len(self.chunks[n - 1]) == full:
            if n >= budget:
                raise TooLarge(f"more than {budget} chunks")
            n += 1
        v = Carried("".join(self.chunks[i] for i in range(n)), chunked_name(self.name, n), n)
        if len(self.chunks[n - 1]) == full:
            v.missing = f"chunk {self.name}.{n} missing: Cookie header truncated?"
        return v


def open_carried(
    ring: KeyRing,
    c: CarriedCookies,
    *,
    budget: int,
    now: Optional[Time],
    skew: Union[int, float],
    max_len: int,
    max_decompressed: int,
    purpose: Union[str, bytes],
) -> Tuple[bytes, OpenInfo]:
    """Opens the value the cookies carry, as the Manager's openCookies: a run
    of full chunks that does not open reports the missing chunk."""
    v = c.value(budget)
    try:
        return _open(ring, v.sealed_for, v.value, now, skew=skew, max_len=max_len, max_decompressed=max_decompressed, purpose=purpose)
    except Exception as e:
        if v.missing is not None and isinstance(e, (Malformed, Invalid)):
            raise Malformed(v.missing) from None
        raise


def decode_json(b: bytes) -> Any:
    """Decodes a session value as Go's json.Unmarshal into an ``any`` would:
    exactly one JSON value, invalid UTF-8 read as U+FFFD, no NaN or
    Infinity, no number beyond float64's range. Raises :class:`Malformed`."""
    try:
        return json.loads(
            bytes(b).decode("utf-8", "replace"), parse_constant=_no_constant, parse_float=_float, parse_int=_int
        )
    except (ValueError, OverflowError) as e:
        raise Malformed(f"session value does not decode as JSON ({type(e).__name__})") from None


def _float(s: str) -> float:
    f = float(s)
    if math.isinf(f):
        raise ValueError("number out of float64's range")
    return f


def _int(s: str) -> int:
    i = int(s)
    float(i)  # OverflowError beyond float64's range, where Go fails too
    return i


@dataclass
class OpenedSession(Payload):
    """A payload opened from cookies, with what the sealed value told, and
    the value decoded from JSON (``session``; None without a value)."""

    key_id: str = ""
    expires: int = 0
    stale: bool = False
    session: Any = None


def _cookie_source(cookies: Union[Mapping[str, str], str, Iterable[str]], name: str) -> CarriedCookies:
    if isinstance(cookies, Mapping):
        return CarriedCookies.from_mapping(cookies, name)
    if isinstance(cookies, str):
        return CarriedCookies.from_header([cookies], name)
    return CarriedCookies.from_header(cookies, name)


def open_session(
    ring: Keys,
    cookies: Union[Mapping[str, str], str, Iterable[str]],
    *,
    name: str = "session",
    now: Optional[Time] = None,
    skew: Union[int, float] = 0,
    idle_timeout: Union[int, float] = 0,
    budget: int = DEFAULT_BUDGET,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_len: Optional[int] = None,
    max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
    purpose: Union[str, bytes] = b"",
    decode: bool = True,
) -> Optional[OpenedSession]:
    """Opens the session a Go ``sealed.Manager`` (or :class:`SessionMiddleware`)
    stored in cookies: a mapping of name to value, a Cookie header, or a list
    of Cookie header lines. Returns None without a session cookie.

    budget and chunk_size are the writer's (defaults: a default Manager's);
    max_len defaults to ``budget * chunk_size``. The checks are the
    Manager's, in its order: the sealed value, the payload (:class:`Malformed`),
    the deadline and, with idle_timeout, the idle timeout (:class:`Expired`),
    then the value, decoded as JSON into ``session`` unless decode is False
    (:class:`Malformed`). ``value`` keeps its bytes. A payload with neither a
    value nor flash messages is returned as it is: no session.
    """
    keys = _ring(ring)
    c = _cookie_source(cookies, name)
    if not c.any():
        return None
    plaintext, info = open_carried(
        keys,
        c,
        budget=budget,
        now=now,
        skew=skew,
        max_len=budget * chunk_size if max_len is None else max_len,
        max_decompressed=max_decompressed,
        purpose=purpose,
    )
    p = parse_payload(plaintext)
    t = math.floor(time.time() if now is None else _seconds(now))
    check_times(p, t, int(_duration(skew)), int(_duration(idle_timeout)), info)
    session = decode_json(p.value) if decode and p.value is not None else None
    return OpenedSession(**vars(p), key_id=info.key_id, expires=info.expires, stale=info.stale, session=session)


def check_times(p: Payload, now: int, skew: int, idle: int, info: OpenInfo) -> None:
    """The Manager's checks of an opened payload's times, in its order, in
    whole seconds: the absolute deadline, then with idle > 0 the idle
    timeout, each skew seconds late. Raises :class:`Expired` with info."""
    graced = now - skew
    if graced >= p.deadline:
        raise Expired(f"absolute deadline {p.deadline} passed", info)
    if idle > 0 and graced - idle >= p.refreshed:
        raise Expired(f"idle since {p.refreshed}", info)


def split_chunks(value: str, n: int, size: int) -> List[str]:
    """The n chunks of size characters (the last shorter) that a value
    seal_chunks sealed for n chunks is written as."""
    return [value[i * size : (i + 1) * size] for i in range(n)]


def seal_session(
    ring: Keys,
    payload: Payload,
    *,
    name: str = "session",
    expires: Optional[Time] = None,
    budget: int = DEFAULT_BUDGET,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    compress_above: int = 0,
    max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
    purpose: Union[str, bytes] = b"",
    nonce: Optional[bytes] = None,
) -> Dict[str, str]:
    """Seals a payload into the cookies a Manager with these settings would
    set: ``{name: value}``, or ``{name.0: ..., name.1: ...}`` sealed for
    ``name#n``. expires defaults to the payload's deadline. Raises
    :class:`TooLarge` when it needs more than budget cookies. Returns only the
    values: :class:`SessionMiddleware` adds the attributes."""
    b = encode_payload(payload)
    exp = payload.deadline if expires is None else expires
    out, n, size = seal_chunks(
        _ring(ring), name, b, exp, budget, chunk_size, compress_above, max_decompressed, purpose, nonce
    )
    if n == 0:
        return {name: out}
    return {chunk_name(name, i): part for i, part in enumerate(split_chunks(out, n, size))}


def seal_chunks(
    ring: KeyRing,
    name: str,
    b: bytes,
    exp: Time,
    budget: int,
    chunk_size: int,
    compress_above: int,
    max_decompressed: int,
    purpose: Union[str, bytes],
    nonce: Optional[bytes] = None,
) -> Tuple[str, int, int]:
    """Seals b as the Manager's seal does: for a name that carries the chunk
    count, predicted from the length and checked on the sealed value (which
    compression makes known only once sealed). Returns (value, n, size): n
    chunks of size characters, or one cookie when n is 0."""
    max_len = budget * chunk_size

    def over(total: int) -> TooLarge:
        cookies = "cookie" if budget == 1 else "cookies"
        return TooLarge(
            f"session cookie {name!r}: {len(b)} bytes of session data seal to {total} characters, "
            f"over the budget of {budget} {cookies} of {chunk_size}"
        )

    n = 0
    if compress_above <= 0 or len(b) < compress_above:
        total = encoded_len(len(b), ring.primary.version)
        n, _ = layout(total, chunk_size)
        if n > budget:
            raise over(total)
    for _ in range(2):
        sealed_for = chunked_name(name, n) if n > 0 else name
        out = _seal(
            ring, sealed_for, b, exp, max_len=max_len, compress_above=compress_above,
            max_decompressed=max_decompressed, purpose=purpose, nonce=nonce,
        )
        got, size = layout(len(out), chunk_size)
        if got > budget:
            raise over(len(out))
        if got == n:
            return out, n, size
        n = got
    raise RuntimeError("the sealed length changed between seals")  # cannot happen: DEFLATE is deterministic
