"""A Starlette (ASGI) session middleware that follows the Go ``sealed.Manager``.

Add it as you would Starlette's own ``SessionMiddleware``::

    app.add_middleware(SessionMiddleware, keys=os.environ["SEALED_KEYS"])

and use ``request.session``, a dict-like view of the session's JSON object.
The cookies are the Manager's (docs/FORMAT-middleware.md), so a Go service
with the same key ring, cookie name and purpose reads and writes the same
session. The rules are the Manager's (middleware.go, cookies.go):

- the cookies are read only when the session is first used (lazy load);
- the response sets cookies only when something changed: a mutation of
  ``request.session`` (a nested one too: the JSON is compared), a flash
  message read or added, :meth:`Session.renew`, :meth:`Session.destroy`,
  :meth:`Session.remember_me`; or when the session was opened with a
  previous key (re-sealed with the primary), or when ``idle_refresh`` has
  passed since it was sealed (the idle window slides);
- a session too large for one cookie is split into ``N.0``, ``N.1``, ...;
  every session cookie the request carried and the response does not
  overwrite is expired (``Max-Age=0``);
- an invalid cookie is no session (never a server error): it is cleared and
  reported to ``on_error``;
- ``Vary: Cookie`` on every response whose request read the session, and
  ``Cache-Control: no-cache="Set-Cookie"`` on those that set a cookie.

The middleware needs no Starlette import: it is plain ASGI, and Starlette's
``Request.session`` returns ``scope["session"]``, which it sets.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    Iterator,
    List,
    MutableMapping,
    Optional,
    Tuple,
    Union,
)

from .errors import (
    HeadersWritten,
    Invalid,
    Malformed,
    Rejected,
    SealedError,
    TooLarge,
    UnknownKey,
)
from .keys import KeyRing
from .payload import (
    MAX_CHUNKS,
    MAX_SUBJECT_LEN,
    MIN_PAYLOAD_LEN,
    SESSION_ID_LEN,
    CarriedCookies,
    Payload,
    check_times,
    chunk_name,
    decode_json,
    encode_payload,
    open_carried,
    parse_payload,
    seal_chunks,
    split_chunks,
)
from .sealed import DEFAULT_MAX_DECOMPRESSED, MAX_PURPOSE_LEN, OVERHEAD, OVERHEAD_V2, OpenInfo, _duration

__all__ = ["SessionMiddleware", "Session", "SessionInfo"]

log = logging.getLogger("sealed_session")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = List[Tuple[bytes, bytes]]
Duration = Union[int, float, timedelta]

COOKIE_LIMIT = 4096  # bytes per Set-Cookie line (name, value and attributes) we stay within
MIN_CHUNK_SIZE = 1024
_ZERO_ID = bytes(SESSION_ID_LEN)
_SAME_SITE = {"lax": "Lax", "strict": "Strict", "none": "None", "": None}


@dataclass(frozen=True)
class SessionInfo:
    """What a session's payload and cookie say about it (Go's SessionInfo)."""

    key_id: str  #: the key its cookie was opened with ("" for a session made in this request)
    expires: int  #: the cookie's sealed expiry, Unix seconds (0 for a new session)
    stale: bool  #: opened with a previous key: this response re-seals it
    issued: int  #: created or last renewed, Unix seconds
    deadline: int  #: the absolute end, Unix seconds
    refreshed: int  #: last sealed: the start of the idle window
    id: str  #: the session ID in hex ("" for a cookie sealed before IDs existed)
    subject: str  #: the session's user, from the ``subject`` hook


# ---------------------------------------------------------------------------
# Cookies as Go's net/http writes them


_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _is_token(s: str) -> bool:
    return bool(s) and all(c in _TCHAR for c in s)


def _valid_domain(d: str) -> bool:
    """Go's validCookieDomain: a domain name (a leading dot is allowed) or an IPv4 address."""
    if _is_domain_name(d):
        return True
    parts = d.split(".")
    return len(parts) == 4 and all(p.isdigit() and p.isascii() and len(p) <= 3 and int(p) <= 255 for p in parts)


def _is_domain_name(s: str) -> bool:
    if not s or len(s) > 255:
        return False
    if s[0] == ".":
        s = s[1:]
    last, ok, partlen = ".", False, 0
    for c in s:
        if "a" <= c <= "z" or "A" <= c <= "Z":
            ok = True
            partlen += 1
        elif "0" <= c <= "9":
            partlen += 1
        elif c == "-":
            if last == ".":
                return False
            partlen += 1
        elif c == ".":
            if last in ".-" or partlen > 63 or partlen == 0:
                return False
            partlen = 0
        else:
            return False
        last = c
    return last != "-" and partlen <= 63 and ok


@dataclass(frozen=True)
class _CookieAttrs:
    path: str
    domain: str
    secure: bool
    http_only: bool
    same_site: Optional[str]  # "Lax", "Strict", "None", or None: omitted
    partitioned: bool

    def line(self, name: str, value: str, max_age: int) -> str:
        """The Set-Cookie value, byte for byte as Go's http.Cookie.String.
        max_age follows http.Cookie: 0 omits it, negative deletes."""
        b = [name, "=", value]
        if self.path:
            b += ["; Path=", self.path]
        if self.domain:
            b += ["; Domain=", self.domain[1:] if self.domain[0] == "." else self.domain]
        if max_age > 0:
            b += ["; Max-Age=", str(max_age)]
        elif max_age < 0:
            b.append("; Max-Age=0")
        if self.http_only:
            b.append("; HttpOnly")
        if self.secure:
            b.append("; Secure")
        if self.same_site:
            b += ["; SameSite=", self.same_site]
        if self.partitioned:
            b.append("; Partitioned")
        return "".join(b)

    def check(self, name: str) -> Optional[str]:
        """Go's http.Cookie.Valid for a cookie with these attributes and an
        empty value: the reason it is invalid, or None."""
        if not _is_token(name):
            return "invalid Cookie.Name"
        for c in self.path.encode("utf-8"):
            if not (0x20 <= c < 0x7F) or c == 0x3B:
                return "invalid byte in Cookie.Path"
        if self.domain and not _valid_domain(self.domain):
            return "invalid Cookie.Domain"
        if self.partitioned and not self.secure:
            return "partitioned cookies must be set with Secure"
        return None


def _has_prefix_fold(s: str, prefix: str) -> bool:
    return len(s) >= len(prefix) and s[: len(prefix)].lower() == prefix.lower()


# ---------------------------------------------------------------------------
# Cache headers (internal/cacheheader), on an ASGI header list


def _header_values(headers: Headers, name: bytes) -> List[str]:
    return [v.decode("latin-1") for k, v in headers if k.lower() == name]


def _has_token(values: List[str], token: str) -> bool:
    return any(t.strip(" \t").lower() == token for v in values for t in v.split(","))


def _vary_cookie(headers: Headers) -> None:
    """Adds "Cookie" to Vary, unless Vary already has it or "*"."""
    vary = _header_values(headers, b"vary")
    if not (_has_token(vary, "cookie") or _has_token(vary, "*")):
        headers.append((b"vary", b"Cookie"))


def _directives(v: str) -> Iterator[Tuple[str, str, bool]]:
    """The directives of a Cache-Control value (RFC 9111 5.2) as (name,
    argument unquoted, qualified); stops at a malformed part, like Go's."""
    while True:
        v = v.lstrip(" \t,")
        if not v:
            return
        end = min((i for i in (v.find("="), v.find(",")) if i >= 0), default=-1)
        if end < 0:
            yield v.strip(" \t\n\v\f\r"), "", False
            return
        name = v[:end].strip(" \t\n\v\f\r")
        if v[end] == ",":
            yield name, "", False
            v = v[end + 1 :]
            continue
        v = v[end + 1 :].lstrip(" \t")
        if not v.startswith('"'):
            stop = v.find(",")
            if stop < 0:
                stop = len(v)
            yield name, v[:stop].strip(" \t\n\v\f\r"), True
            v = v[stop:]
            continue
        arg, i = [], 1
        while i < len(v) and v[i] != '"':
            if v[i] == "\\" and i + 1 < len(v):
                i += 1
            arg.append(v[i])
            i += 1
        if i >= len(v):
            return  # unterminated quoted string
        yield name, "".join(arg), True
        v = v[i + 1 :]


def _keeps_cookie_from_caches(values: List[str]) -> bool:
    for v in values:
        for name, arg, qualified in _directives(v):
            n = name.lower()
            if n == "no-store":
                return True
            if n in ("private", "no-cache"):
                if not qualified:
                    return True
                if any(f.strip(" \t\n\v\f\r").lower() == "set-cookie" for f in arg.split(",")):
                    return True
    return False


def _for_set_cookie(headers: Headers) -> None:
    """Keeps shared caches from storing the Set-Cookie: Vary: Cookie, and
    no-cache="Set-Cookie" set or appended unless Cache-Control already
    keeps the response out of shared caches."""
    _vary_cookie(headers)
    directive = 'no-cache="Set-Cookie"'
    idx = [i for i, (k, _) in enumerate(headers) if k.lower() == b"cache-control"]
    if not idx:
        headers.append((b"cache-control", directive.encode()))
    elif not _keeps_cookie_from_caches(_header_values(headers, b"cache-control")):
        k, v = headers[idx[-1]]
        headers[idx[-1]] = (k, v + b", " + directive.encode())


# ---------------------------------------------------------------------------
# JSON as Go's encoding/json writes it


def _encode_json(value: Dict[str, Any]) -> bytes:
    """Compact JSON escaped as Go's json.Marshal does (<, >, &, U+2028 and
    U+2029 as \\u escapes), so both write sessions of the same length."""
    s = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    s = (
        s.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    return s.encode("utf-8")


def _decode_json(b: bytes) -> Dict[str, Any]:
    """Decodes the session's JSON object, as Go's json.Unmarshal into a map
    would: invalid UTF-8 becomes U+FFFD, null is an empty session; anything
    but an object does not fit and is malformed."""
    v = decode_json(b)
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise Malformed("session does not decode as a JSON object (not an object)")
    return v


# ---------------------------------------------------------------------------
# The middleware


class SessionMiddleware:
    """Sealed-cookie sessions for Starlette and FastAPI, compatible with Go's
    ``sealed.Manager``. The defaults are the Manager's.

    :param keys: a :class:`KeyRing`, its text form (``id:secret,...``), or a
        callable returning the current ring (for rotation without restart).
    :param name: the cookie name (``session``); chunks are ``name.0``, ...
        A ``__Host-`` name requires secure, path "/" and no domain;
        ``__Secure-`` secure; ``__Http-`` secure and http_only;
        ``__Host-Http-`` all of those.
    :param path: the Path attribute (``/``).
    :param domain: the Domain attribute (None: a host-only cookie).
    :param same_site: ``"lax"`` (default), ``"strict"``, ``"none"`` (needs
        secure), or None to omit the attribute.
    :param secure: the Secure attribute (True). Browsers treat localhost as
        secure: turn it off only for plain http on another host.
    :param http_only: the HttpOnly attribute (True).
    :param partitioned: the Partitioned attribute (CHIPS); needs secure.
    :param lifetime: absolute lifetime of a session, seconds or timedelta
        (24 hours): it ends this long after it was created or renewed.
    :param idle_timeout: ends a session not re-sealed for this long (0: none).
    :param idle_refresh: a request that reads the session re-seals it once
        this long has passed since it was sealed (default: idle_timeout / 2).
    :param browser_session: omit Max-Age, so the cookie ends with the browser
        (sessions that call :meth:`Session.remember_me` choose for themselves).
    :param clock_skew: grace past the deadline and idle timeout, for fleets
        whose clocks disagree (0).
    :param purpose: the application the sessions belong to, authenticated
        with every cookie (default none); at most 255 bytes.
    :param chunk_budget: the most cookies one session may use (4, at most 16).
    :param compress_above: compress sessions of at least this many bytes
        with raw DEFLATE when it makes them shorter (0: never). Read
        docs/SECURITY.md first.
    :param max_decompressed: the most bytes a compressed session may inflate
        to (64 KiB, the Go sealer's default).
    :param subject: ``subject(session) -> str``: the session's user (at most
        255 bytes), sealed with its ID, as the Manager's Subject.
    :param validate: ``validate(session, info)``: raise (or return False) to
        reject an authentic session, which is then treated as invalid.
    :param on_error: ``on_error(error, scope)`` receives every error the
        middleware cannot raise: invalid cookies (a :class:`SealedError`; the
        request goes on without a session), sessions too large to save
        (:class:`TooLarge`; the client keeps its previous cookies), encoding
        failures, changes after the headers were sent
        (:class:`HeadersWritten`). Default: logged on the ``sealed_session``
        logger (Invalid and UnknownKey at WARNING, other invalid cookies at
        DEBUG, the rest at ERROR).
    :param now: a callable returning the time in Unix seconds (tests).
    """

    def __init__(
        self,
        app: ASGIApp,
        keys: Union[KeyRing, str, Callable[[], KeyRing]],
        *,
        name: str = "session",
        path: str = "/",
        domain: Optional[str] = None,
        same_site: Optional[str] = "lax",
        secure: bool = True,
        http_only: bool = True,
        partitioned: bool = False,
        lifetime: Duration = 24 * 3600,
        idle_timeout: Duration = 0,
        idle_refresh: Optional[Duration] = None,
        browser_session: bool = False,
        clock_skew: Duration = 0,
        purpose: Union[str, bytes] = "",
        chunk_budget: int = 4,
        compress_above: int = 0,
        max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
        subject: Optional[Callable[[Dict[str, Any]], str]] = None,
        validate: Optional[Callable[[Dict[str, Any], SessionInfo], Any]] = None,
        on_error: Optional[Callable[[BaseException, Scope], None]] = None,
        now: Optional[Callable[[], float]] = None,
    ) -> None:
        self.app = app
        if isinstance(keys, str):
            ring = KeyRing.parse(keys)
            self._keys: Callable[[], KeyRing] = lambda: ring
        elif isinstance(keys, KeyRing):
            self._keys = lambda: keys  # type: ignore[return-value]
        elif callable(keys):
            self._keys = keys
        else:
            raise TypeError("keys: a KeyRing, its text form, or a callable returning one")
        if same_site is not None and not isinstance(same_site, str):
            raise TypeError("same_site: 'lax', 'strict', 'none' or None")
        site_key = (same_site or "").lower()
        if site_key not in _SAME_SITE:
            raise ValueError(f"SessionMiddleware: unknown same_site {same_site!r}")
        name = name or "session"
        self.name = name
        self.attrs = _CookieAttrs(path or "/", domain or "", bool(secure), bool(http_only), _SAME_SITE[site_key], bool(partitioned))
        self.browser_session = bool(browser_session)
        self.budget = chunk_budget
        self.purpose = purpose
        self.compress_above = compress_above
        self.max_decompressed = max_decompressed
        self.subject = subject
        self.validate = validate
        self.on_error = on_error
        self.now = now or time.time

        life, idle = _duration(lifetime), _duration(idle_timeout)
        refresh = idle / 2 if idle_refresh is None or _duration(idle_refresh) == 0 else _duration(idle_refresh)
        skew = _duration(clock_skew)
        purpose_len = len(purpose.encode("utf-8") if isinstance(purpose, str) else purpose)
        a = self.attrs
        problems = [
            (life < 1, f"lifetime {lifetime!r}: must be at least 1s"),
            (idle < 0 or 0 < idle < 1, f"idle_timeout {idle_timeout!r}: must be zero or at least 1s"),
            (refresh < 0 or (idle > 0 and refresh > idle), f"idle_refresh {idle_refresh!r}: must be between 0 and idle_timeout"),
            (skew < 0, f"clock_skew {clock_skew!r}: must not be negative"),
            (purpose_len > MAX_PURPOSE_LEN, f"purpose is {purpose_len} bytes, limit {MAX_PURPOSE_LEN}"),
            (compress_above < 0, f"compress_above {compress_above}: must not be negative"),
            (not 1 <= chunk_budget <= MAX_CHUNKS, f"chunk_budget {chunk_budget}: must be 1 to {MAX_CHUNKS}"),
            (
                _has_prefix_fold(name, "__Host-") and (not a.secure or a.path != "/" or a.domain != ""),
                f'cookie name {name!r}: the __Host- prefix requires secure, path "/" and no domain',
            ),
            (_has_prefix_fold(name, "__Secure-") and not a.secure, f"cookie name {name!r}: the __Secure- prefix requires secure"),
            (
                _has_prefix_fold(name, "__Host-Http-") and not a.http_only,
                f"cookie name {name!r}: the __Host-Http- prefix requires http_only (and secure, path \"/\", no domain)",
            ),
            (
                _has_prefix_fold(name, "__Http-") and (not a.secure or not a.http_only),
                f"cookie name {name!r}: the __Http- prefix requires secure and http_only",
            ),
            (a.partitioned and not a.secure, "partitioned requires secure (browsers reject it otherwise)"),
            (a.same_site == "None" and not a.secure, "same_site='none' requires secure (browsers reject it otherwise)"),
        ]
        for bad, message in problems:
            if bad:
                raise ValueError(f"SessionMiddleware: {message}")
        self.lifetime, self.idle, self.refresh, self.skew = int(life), int(idle), int(refresh), int(skew)
        # The longest Set-Cookie line: the last chunk's name, the largest
        # Max-Age, every attribute. What is left of 4096 is the chunk size.
        longest = chunk_name(name, chunk_budget - 1)
        problem = a.check(longest)
        if problem:
            raise ValueError(f"SessionMiddleware: invalid cookie settings (name {name!r}, path {a.path!r}, domain {a.domain!r}): {problem}")
        if "#" in name:
            raise ValueError(f"SessionMiddleware: cookie name {name!r} must not contain '#'")
        self.chunk_size = COOKIE_LIMIT - len(a.line(longest, "", self.lifetime))
        if self.chunk_size < MIN_CHUNK_SIZE:
            raise ValueError(f"SessionMiddleware: name, path and domain leave only {self.chunk_size} bytes per cookie")
        self.max_len = chunk_budget * self.chunk_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or isinstance(scope.get("session"), Session) and scope["session"]._mw is self:
            await self.app(scope, receive, send)
            return
        session = Session(self, scope)
        scope["session"] = session
        if scope["type"] == "websocket":
            session._committed = True  # no response headers to set cookies on

            await self.app(scope, receive, send)
            return

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: Headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
                session._commit(headers)
                message = dict(message)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cookies)

    def max_session_len(self) -> int:
        """The longest session (JSON plus flash messages and subject) the
        middleware can store, as the Manager's MaxSessionLen."""
        longest = self.chunk_size if self.budget == 1 else self.budget * self.chunk_size - 1
        overhead = OVERHEAD if self._keys().primary.version == 1 else OVERHEAD_V2
        return longest * 6 // 8 - overhead - MIN_PAYLOAD_LEN - (SESSION_ID_LEN + 8 + 1)

    # Reporting ------------------------------------------------------------

    def _report(self, err: BaseException, scope: Scope, fault: bool) -> None:
        if self.on_error is not None:
            self.on_error(err, scope)
            return
        level = logging.DEBUG
        if fault:
            level = logging.ERROR
        elif isinstance(err, (UnknownKey, Invalid)):
            level = logging.WARNING
        log.log(level, "sealed session: cookie %s: %s", self.name, err)


class Session(MutableMapping[str, Any]):
    """``request.session``: the session's JSON object, read from the cookies
    on first use. Changing it starts a session if there is none (with a new
    deadline and ID); :meth:`clear` ends it, like :meth:`destroy`.

    Besides the mapping, it has the Manager's operations: :meth:`flash`,
    :meth:`flashes`, :meth:`renew`, :meth:`destroy`, :meth:`remember_me`,
    and :attr:`info`.
    """

    def __init__(self, mw: SessionMiddleware, scope: Scope) -> None:
        self._mw = mw
        self._scope = scope
        self._lock = threading.RLock()
        self._loaded = False
        self._has = False
        self._dirty = False
        self._committed = False
        self._plain = False  # the request carried the unchunked cookie
        self._chunks = 0  # bit i: the request carried chunk i
        self._val: Dict[str, Any] = {}
        self._loaded_json: Optional[bytes] = None  # the value as loaded, to detect nested changes
        self._issued = 0
        self._deadline = 0
        self._refreshed = 0
        self._opened: Optional[OpenInfo] = None
        self._id = _ZERO_ID
        self._minted = 0
        self._subject = ""
        self._chosen = False
        self._persist = False
        self._flashes: List[str] = []

    # Time -----------------------------------------------------------------

    def _now(self) -> float:
        return float(self._mw.now())

    # Loading --------------------------------------------------------------

    def _load(self) -> Optional[BaseException]:
        """Reads and opens the request's cookies, once; returns the error to
        report (after unlocking) for an invalid cookie, which is cleared."""
        if self._loaded:
            return None
        self._loaded = True
        lines = [v.decode("latin-1") for k, v in self._scope.get("headers", []) if k.lower() == b"cookie"]
        c = CarriedCookies.from_header(lines, self._mw.name)
        self._plain, self._chunks = c.plain is not None, c.carried
        if not c.any():
            return None
        try:
            self._open(c)
        except Exception as e:  # noqa: BLE001 - every failure is "no session"
            self._val, self._has, self._flashes, self._issued, self._deadline = {}, False, [], 0, 0
            self._loaded_json = None
            self._dirty = True  # clear the bad cookies
            return e
        return None

    def _open(self, c: CarriedCookies) -> None:
        mw = self._mw
        t = self._now()
        plaintext, info = open_carried(
            mw._keys(),
            c,
            budget=mw.budget,
            now=t,
            skew=mw.skew,
            max_len=mw.max_len,
            max_decompressed=mw.max_decompressed,
            purpose=mw.purpose,
        )
        p = parse_payload(plaintext)
        now = math.floor(t)
        check_times(p, now, mw.skew, mw.idle, info)
        if p.value is not None:
            self._val = _decode_json(p.value)
        self._has, self._flashes = p.value is not None, list(p.flashes)
        self._issued, self._deadline, self._refreshed, self._opened = p.issued, p.deadline, p.refreshed, info
        self._id, self._minted, self._subject = p.id or _ZERO_ID, p.minted, p.subject
        self._chosen, self._persist = p.persistent is not None, bool(p.persistent)
        if self._has and p.id is None and mw.subject is not None:  # sealed before session IDs existed
            self._subject = mw.subject(self._val)
        if self._has and mw.validate is not None:
            try:
                ok = mw.validate(self._val, self._info())
            except Exception as e:
                raise Rejected(f"session rejected by validate: {e}") from e
            if ok is False:
                raise Rejected("session rejected by validate")
        if self._has:
            self._loaded_json = _encode_json(self._val)
        if info.stale or (mw.idle > 0 and now - p.refreshed >= mw.refresh):
            self._dirty = True  # upgrade to the primary key, or slide the idle window

    def _locked_load(self) -> None:
        with self._lock:
            err = self._load()
        if err is not None:
            self._mw._report(err, self._scope, fault=False)

    def _modify(self, op: str, f: Callable[[], Any]) -> Any:
        with self._lock:
            err = self._load()
            try:
                result = f()
            finally:
                self._dirty = True
                late = self._committed
        if err is not None:
            self._mw._report(err, self._scope, fault=False)
        if late:
            self._mw._report(
                HeadersWritten(f"session changed after the response headers were written: {op} of cookie {self._mw.name!r}"),
                self._scope,
                fault=True,
            )
        return result

    def _start(self) -> None:
        """Begins a new session (issue time, deadline, ID) if there is none."""
        if not self._has:
            self._renew()
            self._has = True
            self._val = {}

    def _renew(self) -> None:
        t = self._now()
        self._issued = math.floor(t)
        self._deadline = self._issued + self._mw.lifetime
        self._mint(t)

    def _mint(self, t: float) -> None:
        self._id = os.urandom(SESSION_ID_LEN)
        self._minted = math.floor(t * 1000)

    # The mapping ----------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        self._locked_load()
        return self._val[key]

    def __setitem__(self, key: str, value: Any) -> None:
        def put() -> None:
            self._start()
            self._val[key] = value

        self._modify("setitem", put)

    def __delitem__(self, key: str) -> None:
        self._locked_load()
        if key not in self._val:
            raise KeyError(key)

        def delete() -> None:
            self._start()
            del self._val[key]

        self._modify("delitem", delete)

    def __iter__(self) -> Iterator[str]:
        self._locked_load()
        return iter(list(self._val))

    def __len__(self) -> int:
        self._locked_load()
        return len(self._val)

    def __contains__(self, key: object) -> bool:
        self._locked_load()
        return key in self._val

    def __repr__(self) -> str:
        return f"Session({self._val!r})" if self._loaded else "Session(<not loaded>)"

    def clear(self) -> None:
        """Ends the session, as :meth:`destroy` (Starlette's logout idiom)."""
        self.destroy()

    # The Manager's operations ---------------------------------------------

    @property
    def exists(self) -> bool:
        """Whether there is a session (a valid cookie, or one started here)."""
        self._locked_load()
        return self._has

    @property
    def info(self) -> Optional[SessionInfo]:
        """The session's times, ID, subject and cookie, or None without one."""
        self._locked_load()
        return self._info() if self._has else None

    def _info(self) -> SessionInfo:
        o = self._opened
        return SessionInfo(
            key_id=o.key_id if o else "",
            expires=o.expires if o else 0,
            stale=o.stale if o else False,
            issued=self._issued,
            deadline=self._deadline,
            refreshed=self._refreshed,
            id="" if self._id == _ZERO_ID else self._id.hex(),
            subject=self._subject,
        )

    def flash(self, message: str) -> None:
        """Adds a one-time message for the next request that reads
        :meth:`flashes`. Messages need no session: one added after
        :meth:`destroy` survives the logout."""
        if not isinstance(message, str):
            raise TypeError("a flash message is a str")
        # Text only, as Go's Flash: a lone surrogate becomes U+FFFD.
        message = message.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        self._modify("flash", lambda: self._flashes.append(message))

    def flashes(self) -> List[str]:
        """Returns the pending flash messages, oldest first, and removes them."""
        with self._lock:
            err = self._load()
            msgs, late = self._flashes, False
            if msgs:
                self._flashes = []
                self._dirty = True
                late = self._committed
        if err is not None:
            self._mw._report(err, self._scope, fault=False)
        if late:
            self._mw._report(HeadersWritten("flash messages read after the response headers were written"), self._scope, fault=True)
        return list(msgs)

    def destroy(self) -> None:
        """Ends the session: it is empty for the rest of the request, and the
        response expires every session cookie the request carried. Pending
        flash messages go too."""

        def destroy() -> None:
            self._val, self._has, self._flashes = {}, False, []
            self._issued, self._deadline = 0, 0

        self._modify("destroy", destroy)

    def renew(self) -> None:
        """Re-issues the session as new: a new issue time, deadline and ID,
        sealed with the current primary key. Call it at login and on
        privilege changes. Without a session it does nothing."""

        def renew() -> None:
            if self._has:
                self._renew()

        self._modify("renew", renew)

    def remember_me(self, remember: bool) -> None:
        """Chooses, for this session only, a persistent cookie (True: with
        Max-Age) or one that ends with the browser (False). Sealed into the
        session; without a session it does nothing."""

        def choose() -> None:
            if self._has:
                self._chosen, self._persist = True, bool(remember)

        self._modify("remember_me", choose)

    # Writing --------------------------------------------------------------

    def _commit(self, headers: Headers) -> None:
        """Writes the session's cookies into the response headers, once."""
        err: Optional[BaseException] = None
        with self._lock:
            if self._committed:
                return
            self._committed = True
            if not self._dirty and self._has and self._loaded_json is not None:
                try:
                    self._dirty = _encode_json(self._val) != self._loaded_json
                except (TypeError, ValueError):
                    self._dirty = True  # the write reports it
            if self._dirty:
                try:
                    self._write(headers)
                except Exception as e:  # noqa: BLE001 - reported, headers untouched
                    err = e
            if err is None and self._loaded:
                _vary_cookie(headers)
        if err is not None:
            self._mw._report(err, self._scope, fault=True)

    def _persistent(self) -> bool:
        return self._persist if self._chosen else not self._mw.browser_session

    def _write(self, headers: Headers) -> None:
        mw = self._mw
        t = self._now()
        now = math.floor(t)
        live = self._has or bool(self._flashes)
        if live and self._issued == 0:  # flash messages without a session
            self._renew()
        exp = self._deadline
        if mw.idle > 0:
            exp = min(exp, now + mw.idle)
        live = live and exp > now
        lines: List[str] = []
        n = 0
        if live:
            if self._has:
                if mw.subject is not None:
                    self._subject = mw.subject(self._val)
                    if not isinstance(self._subject, str):
                        raise TypeError("subject must return a str")
                try:
                    subject_len = len(self._subject.encode("utf-8"))
                except UnicodeEncodeError:
                    raise ValueError(f"session cookie {mw.name!r}: the subject is not valid UTF-8") from None
                if subject_len > MAX_SUBJECT_LEN:
                    raise ValueError(f"session cookie {mw.name!r}: the subject is {subject_len} bytes, limit {MAX_SUBJECT_LEN}")
                if self._id == _ZERO_ID:  # sealed before IDs: minted when it was issued
                    self._mint(self._issued)
            try:
                value = _encode_json(self._val) if self._has else None
            except (TypeError, ValueError) as e:
                raise TypeError(f"session cookie {mw.name!r}: session does not encode as JSON ({e})") from None
            payload = encode_payload(
                Payload(
                    issued=self._issued,
                    deadline=self._deadline,
                    refreshed=now,
                    flashes=self._flashes,
                    value=value,
                    id=self._id if self._has else None,
                    minted=self._minted,
                    subject=self._subject if self._has else "",
                    persistent=self._persist if self._has and self._chosen else None,
                )
            )
            sealed, n, size = seal_chunks(
                mw._keys(), mw.name, payload, exp, mw.budget, mw.chunk_size, mw.compress_above, mw.max_decompressed, mw.purpose
            )
            ttl = exp - now if self._persistent() else 0
            if n == 0:
                lines.append(mw.attrs.line(mw.name, sealed, ttl))
            else:
                for i, part in enumerate(split_chunks(sealed, n, size)):
                    lines.append(mw.attrs.line(chunk_name(mw.name, i), part, ttl))
        # Expire every carried cookie the new value does not overwrite.
        if self._plain and (not live or n > 0):
            lines.append(mw.attrs.line(mw.name, "", -1))
        for i in range(64):
            if self._chunks & (1 << i) and (not live or i >= n):
                lines.append(mw.attrs.line(chunk_name(mw.name, i), "", -1))
        if not lines:
            return
        headers.extend((b"set-cookie", line.encode("latin-1")) for line in lines)
        _for_set_cookie(headers)
        # The response now carries exactly the cookies written.
        self._plain, self._chunks = live and n == 0, 0
        if live:
            self._refreshed = now
            if n > 0:
                self._chunks = (1 << n) - 1
