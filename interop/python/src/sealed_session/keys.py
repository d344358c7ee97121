"""Keys and key rings (docs/FORMAT.md, "Keys"; jwks/jwks.go).

A key is an ID (1 to 64 bytes of printable ASCII other than ``,`` and ``:``)
and a 32-byte secret, of one of two suites: ``xchacha20poly1305`` (version 1
values, the default) or ``aes256gcm`` (version 2, for FIPS deployments). A
ring is an ordered list of keys: the first, the primary, seals; all open.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Optional, Sequence, Tuple, Union

from . import _b64

__all__ = ["XCHACHA20POLY1305", "AES256GCM", "SUITES", "Key", "KeyRing", "KeyRingError"]

XCHACHA20POLY1305 = "xchacha20poly1305"
AES256GCM = "aes256gcm"
SUITES = {XCHACHA20POLY1305: 1, AES256GCM: 2}  # suite -> the version of its values

KEY_LEN = 32
MAX_KEY_ID_LEN = 64
JWKS_MAX_LEN = 1 << 20

# Go's strings.TrimSpace: unicode.IsSpace, which unlike str.strip() leaves
# U+001C..U+001F alone.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


class KeyRingError(ValueError):
    """A key or key ring that cannot be used. Messages name keys by their
    position only, never by ID or secret: an operator may have pasted a
    secret in the ID's place."""


def _valid_key_id(key_id: str) -> bool:
    try:
        b = key_id.encode("ascii")
    except UnicodeEncodeError:
        return False
    return 1 <= len(b) <= MAX_KEY_ID_LEN and all(0x21 <= c <= 0x7E and c not in b",:" for c in b)


def key_identifier(key_id: str) -> bytes:
    """The 4-byte ``kid`` carried in every value: SHA-256 of the ID, truncated."""
    return hashlib.sha256(key_id.encode("ascii")).digest()[:4]


@dataclass(frozen=True)
class Key:
    """One key: its ID, its 32-byte secret and its suite. ``repr`` hides the secret."""

    id: str
    secret: bytes = field(repr=False)
    suite: str = XCHACHA20POLY1305

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _valid_key_id(self.id):
            raise KeyRingError(
                f"a key ID is 1 to {MAX_KEY_ID_LEN} bytes of printable ASCII other than space, ',' and ':'"
            )
        if not isinstance(self.secret, (bytes, bytearray)) or len(self.secret) != KEY_LEN:
            raise KeyRingError(f"a secret is {KEY_LEN} bytes")
        if self.suite not in SUITES:
            raise KeyRingError(f"unknown suite; want {XCHACHA20POLY1305} or {AES256GCM}")
        object.__setattr__(self, "secret", bytes(self.secret))

    @classmethod
    def generate(cls, key_id: str, suite: str = XCHACHA20POLY1305) -> "Key":
        """A new key with a random secret."""
        return cls(key_id, os.urandom(KEY_LEN), suite)

    @property
    def kid(self) -> bytes:
        """The 4-byte key identifier of the ID."""
        return key_identifier(self.id)

    @property
    def version(self) -> int:
        """The format version of the values this key seals: 1 or 2."""
        return SUITES[self.suite]


class KeyRing(Sequence[Key]):
    """An ordered list of keys; ``ring[0]`` is the primary, which seals.

    Build one from the environment-variable form with :meth:`parse`, from a
    JSON Web Key Set with :meth:`from_jwks`, or from :class:`Key` objects.
    """

    __slots__ = ("_keys", "_by_kid")

    def __init__(self, keys: Iterable[Key], *, _what: str = "key") -> None:
        ks = tuple(keys)
        if not ks:
            raise KeyRingError("empty key ring")
        by_kid = {}
        for i, k in enumerate(ks):
            if not isinstance(k, Key):
                raise TypeError("KeyRing takes Key objects")
            for j, prev in enumerate(ks[:i]):
                if prev.id == k.id:
                    raise KeyRingError(f"{_what} {i + 1}: same ID as {j + 1}")
            if k.kid in by_kid:
                raise KeyRingError(f"{_what} {i + 1}: its ID shares a header identifier with that of {by_kid[k.kid] + 1}; rename one")
            by_kid[k.kid] = i
        self._keys: Tuple[Key, ...] = ks
        self._by_kid = by_kid

    @classmethod
    def parse(cls, text: str) -> "KeyRing":
        """Parses ``id:secret,id:secret`` (what ``sealed keygen --env`` prints and
        Go's ``sealed.FormatKeyRing`` writes): the secret is base64url of 32
        bytes, and an AES-256-GCM key has a third field, ``id:secret:aes256gcm``.
        The first key is the primary. Follows Go's ``sealed.ParseKeyRing``."""
        text = text.strip(_GO_SPACE)
        if not text:
            raise KeyRingError("key ring: empty")
        keys = []
        for i, entry in enumerate(text.split(","), 1):
            key_id, sep, rest = entry.strip(_GO_SPACE).partition(":")
            if not sep:
                raise KeyRingError(f"key ring: entry {i}: want id:base64url-secret")
            if not _valid_key_id(key_id):
                raise KeyRingError(
                    f"key ring: entry {i}: the ID must be 1 to {MAX_KEY_ID_LEN} bytes of printable ASCII other than space, ',' and ':'"
                )
            secret_text, has_suite, suite = rest.partition(":")
            if not has_suite:
                suite = XCHACHA20POLY1305
            elif suite not in SUITES:
                raise KeyRingError(f"key ring: entry {i}: unknown suite after the secret; want {XCHACHA20POLY1305} or {AES256GCM}")
            keys.append(Key(key_id, _secret(secret_text, f"key ring: entry {i}: the secret"), suite))
        return cls(keys, _what="key ring: entry")

    @classmethod
    def from_jwks(cls, json_text: Union[str, bytes]) -> "KeyRing":
        """Parses a JSON Web Key Set of symmetric keys, as Go's ``jwks.Parse``.

        Every key needs ``"kty": "oct"``, a ``"kid"`` that is a valid key ID and
        a ``"k"`` of 32 bytes in base64url; ``"use"``, if present, must be
        ``"enc"``. ``"alg"`` is the suite: ``"XC20P"``, ``"dir"`` or absent for
        XChaCha20-Poly1305, ``"A256GCM"`` for AES-256-GCM. The first key is the
        primary. A set with no keys, or with any bad key, is refused whole.
        """
        data = json_text.encode("utf-8", "surrogatepass") if isinstance(json_text, str) else bytes(json_text)
        if len(data) > JWKS_MAX_LEN:
            raise KeyRingError(f"jwks: {len(data)} bytes, limit {JWKS_MAX_LEN}")
        try:
            doc = json.loads(data.decode("utf-8"), object_pairs_hook=_Pairs, parse_constant=_no_constant)
        except json.JSONDecodeError as e:
            # Report the offset only: the message could quote a secret.
            raise KeyRingError(f"jwks: not valid JSON (syntax error at byte {e.pos})") from None
        except (UnicodeDecodeError, ValueError):
            raise KeyRingError("jwks: not valid JSON") from None
        if doc is None:
            raw_keys: Any = None
        elif isinstance(doc, _Pairs):
            raw_keys = doc.get("keys")
        else:
            raise KeyRingError('jwks: want an object with a "keys" array')
        if raw_keys is not None and not isinstance(raw_keys, list):
            raise KeyRingError('jwks: want an object with a "keys" array')
        if not raw_keys:
            raise KeyRingError('jwks: no keys (the "keys" array is missing or empty)')
        keys = []
        for i, raw in enumerate(raw_keys, 1):
            try:
                keys.append(_jwk(raw))
            except KeyRingError as e:
                raise KeyRingError(f"jwks: key {i}: {e}") from None
        for i, k in enumerate(keys):
            for j in range(i):
                if keys[j].id == k.id:
                    raise KeyRingError(f"jwks: key {i + 1}: same kid as key {j + 1}")
        try:
            return cls(keys)
        except KeyRingError:
            raise KeyRingError("jwks: two kids share a header identifier; rename one") from None

    def format(self) -> str:
        """The form :meth:`parse` reads. It contains the secrets."""
        return ",".join(
            f"{k.id}:{_b64.encode(k.secret)}" + ("" if k.suite == XCHACHA20POLY1305 else f":{k.suite}") for k in self._keys
        )

    def lookup(self, kid: bytes) -> Optional[int]:
        """The index of the key whose identifier is kid, or None."""
        return self._by_kid.get(bytes(kid))

    @property
    def primary(self) -> Key:
        return self._keys[0]

    def __getitem__(self, i):  # type: ignore[override]
        return self._keys[i]

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys)

    def __repr__(self) -> str:
        return "KeyRing([" + ", ".join(repr(k) for k in self._keys) + "])"


def _secret(text: str, what: str) -> bytes:
    raw = _b64.decode_secret(text) if "\r" not in text and "\n" not in text else None
    if raw is None:
        raise KeyRingError(f"{what}: not valid base64url")
    if len(raw) != KEY_LEN:
        raise KeyRingError(f"{what}: {len(raw)} bytes, want {KEY_LEN}")
    return raw


class _Pairs:
    """A JSON object as its members in order, looked up as jwks.Parse does:
    names are case-sensitive (RFC 7517), the last of a repeated name wins,
    and null is the same as absent."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: Any) -> None:
        self.pairs = list(pairs)

    def get(self, name: str) -> Any:
        found = None
        for k, v in self.pairs:
            if k == name:
                found = v
        return found


def _no_constant(name: str) -> Any:
    """json.loads's parse_constant: NaN, Infinity and -Infinity, which
    Python reads and Go's encoding/json refuses, are not JSON."""
    raise ValueError(f"{name} is not JSON")


_JWK_FIELDS = ("kty", "kid", "alg", "use", "k")
_ALGS = {None: XCHACHA20POLY1305, "dir": XCHACHA20POLY1305, "XC20P": XCHACHA20POLY1305, "A256GCM": AES256GCM}


def _jwk(raw: Any) -> Key:
    """One key of a set, with jwks.parseKey's checks in its order. Errors
    quote no value at all, not even the kid."""
    shape = 'not a JWK object with string "kty", "kid", "alg", "use" and "k" members'
    if raw is None:
        raw = _Pairs([])
    if not isinstance(raw, _Pairs):
        raise KeyRingError(shape)
    f = {}
    for name in _JWK_FIELDS:
        v = raw.get(name)
        if v is not None and not isinstance(v, str):
            raise KeyRingError(shape)
        f[name] = v
    if f["kty"] is None:
        raise KeyRingError('missing "kty"; want "oct"')
    if f["kty"] != "oct":
        raise KeyRingError('unsupported "kty"; want "oct" (a symmetric key)')
    if not f["kid"]:
        raise KeyRingError('missing "kid": every key needs an ID')
    if f["use"] is not None and f["use"] != "enc":
        raise KeyRingError('"use" must be "enc" or absent')
    if not f["k"]:
        raise KeyRingError('missing "k" (the secret)')
    suite = _ALGS.get(f["alg"])
    if suite is None:
        raise KeyRingError('unsupported "alg"; want "XC20P" (XChaCha20-Poly1305) or "A256GCM" (AES-256-GCM, the FIPS suite)')
    secret = _secret(f["k"], '"k"')
    if not _valid_key_id(f["kid"]):
        raise KeyRingError('"kid" must be 1 to 64 bytes of printable ASCII other than space, \',\' and \':\'')
    return Key(f["kid"], secret, suite)
