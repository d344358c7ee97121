"""Seal and open beyond the vectors: key rings in both text forms, errors
that never name secrets, compression and its bound, purposes, the order of
the checks, and corrupted values."""

from __future__ import annotations

import base64
import json
import os
import zlib
from datetime import datetime, timedelta, timezone

import pytest

import sealed_session as ss
from sealed_session import Key, KeyRing, KeyRingError

SECRET = bytes(range(32))
SECRET_TEXT = base64.urlsafe_b64encode(SECRET).rstrip(b"=").decode()
NOW = 1763726400


def b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


# --- Key rings --------------------------------------------------------------


def test_errors_are_one_family() -> None:
    for cls, kind in [
        (ss.Malformed, "malformed"),
        (ss.UnknownKey, "unknown_key"),
        (ss.Invalid, "invalid"),
        (ss.Expired, "expired"),
        (ss.TooLarge, "too_large"),
    ]:
        assert issubclass(cls, ss.SealedError) and cls.kind == kind


def test_parse_env_form() -> None:
    other = os.urandom(32)
    ring = KeyRing.parse(f" new:{SECRET_TEXT} , old:{b64(other)}:aes256gcm ,gcm2:{b64(other)}=:aes256gcm\n")
    assert [k.id for k in ring] == ["new", "old", "gcm2"]
    assert ring.primary.secret == SECRET and ring[1].secret == other
    assert [k.suite for k in ring] == ["xchacha20poly1305", "aes256gcm", "aes256gcm"]
    assert KeyRing.parse(ring.format()).format() == ring.format()
    assert ring.format().startswith(f"new:{SECRET_TEXT},old:")
    assert "new" in repr(ring)


def test_key_and_ring_never_show_the_secret() -> None:
    # A leak would show the bytes (repr(bytes)), not the base64 text.
    other = os.urandom(32)
    ring = KeyRing.parse(f"new:{SECRET_TEXT},old:{b64(other)}:aes256gcm")
    for secret in (SECRET, other):
        text = b64(secret)
        for x in (ring, ring.primary, ring[1], Key("k", secret)):
            for shown in (repr(x), str(x), f"{x}", f"{x!r}"):
                assert text not in shown and repr(secret) not in shown and secret.hex() not in shown, shown
                assert "secret=" not in shown, shown


def test_kid_is_sha256_prefix() -> None:
    assert Key("k1", SECRET).kid == bytes.fromhex("6ab9f1eb")  # docs/FORMAT.md, "Keys"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "k1",
        f"k1 :{SECRET_TEXT}",  # a space inside the entry belongs to the ID
        f"k1: {SECRET_TEXT}",
        f"k,1:{SECRET_TEXT}",
        f"{'k' * 65}:{SECRET_TEXT}",
        f"ké:{SECRET_TEXT}",
        f"k1:{SECRET_TEXT}:chacha",
        f"k1:{SECRET_TEXT}:aes256gcm:x",
        f"k1:{SECRET_TEXT[:-1]}",
        f"k1:{SECRET_TEXT}A",
        f"k1:{SECRET_TEXT[:-1]}B",  # non-zero trailing bits
        f"k1:{SECRET_TEXT}==",
        f"k1:{SECRET_TEXT[:20]}\n{SECRET_TEXT[20:]}",
        f"k1:{b64(SECRET).replace('-', '+')}" if "-" in b64(SECRET) else "k1:+" + SECRET_TEXT[1:],
        f"k1:{SECRET_TEXT},k1:{b64(os.urandom(32))}",
        f"k1:{SECRET_TEXT},",
    ],
)
def test_parse_refuses(text: str) -> None:
    with pytest.raises(KeyRingError) as e:
        KeyRing.parse(text)
    assert SECRET_TEXT not in str(e.value)


def test_parse_errors_name_positions_not_ids() -> None:
    secret_like = b64(os.urandom(32))
    with pytest.raises(KeyRingError) as e:
        KeyRing.parse(f"{secret_like}:short")
    assert secret_like not in str(e.value) and "entry 1" in str(e.value)
    with pytest.raises(KeyRingError) as e:
        KeyRing.parse(f"a:{SECRET_TEXT},a:{SECRET_TEXT}")
    assert "entry 2" in str(e.value) and "a:" not in str(e.value)


def jwks(*keys: dict) -> str:
    return json.dumps({"keys": list(keys)})


def test_from_jwks() -> None:
    other = os.urandom(32)
    ring = KeyRing.from_jwks(
        jwks(
            {"kty": "oct", "kid": "2025-06", "alg": "A256GCM", "use": "enc", "k": b64(other)},
            {"kty": "oct", "kid": "2025-01", "alg": "XC20P", "k": SECRET_TEXT},
            {"kty": "oct", "kid": "dir", "alg": "dir", "k": SECRET_TEXT},
            {"kty": "oct", "kid": "none", "k": SECRET_TEXT + "="},
        )
    )
    assert [(k.id, k.suite) for k in ring] == [
        ("2025-06", "aes256gcm"),
        ("2025-01", "xchacha20poly1305"),
        ("dir", "xchacha20poly1305"),
        ("none", "xchacha20poly1305"),
    ]
    assert ring.primary.secret == other
    # Member names are case-sensitive (RFC 7517): "KID" is an unknown member, ignored. A repeated
    # name counts with its last value, and null is absent, as in Go's jwks.Parse.
    ring = KeyRing.from_jwks('{"keys": [{"kty": "oct", "kid": "x", "KID": "y", "k": "nope", "k": "%s", "alg": null}]}' % SECRET_TEXT)
    assert ring.primary.id == "x" and ring.primary.secret == SECRET
    with pytest.raises(KeyRingError, match="no keys"):
        KeyRing.from_jwks('{"KEYS": [{"kty": "oct", "kid": "x", "k": "%s"}]}' % SECRET_TEXT)
    with pytest.raises(KeyRingError, match='missing "kty"'):
        KeyRing.from_jwks('{"keys": [{"KTY": "oct", "kid": "x", "k": "%s"}]}' % SECRET_TEXT)
    assert KeyRing.from_jwks(jwks({"kty": "oct", "kid": "b", "k": SECRET_TEXT}).encode()).primary.id == "b"


@pytest.mark.parametrize(
    "doc",
    [
        "",
        "{",
        "[]",
        "null",
        "{}",
        '{"keys": []}',
        '{"keys": {}}',
        '{"keys": "k"}',
        jwks({"kid": "a", "k": SECRET_TEXT}),
        jwks({"kty": "RSA", "kid": "a", "k": SECRET_TEXT}),
        jwks({"kty": "oct", "k": SECRET_TEXT}),
        jwks({"kty": "oct", "kid": "", "k": SECRET_TEXT}),
        jwks({"kty": "oct", "kid": "a", "use": "sig", "k": SECRET_TEXT}),
        jwks({"kty": "oct", "kid": "a"}),
        jwks({"kty": "oct", "kid": "a", "alg": "A128GCM", "k": SECRET_TEXT}),
        jwks({"kty": "oct", "kid": "a", "alg": "xc20p", "k": SECRET_TEXT}),
        jwks({"kty": "oct", "kid": "a", "k": SECRET_TEXT[:-2]}),
        jwks({"kty": "oct", "kid": "a b", "k": SECRET_TEXT}),
        jwks({"kty": "oct", "kid": 7, "k": SECRET_TEXT}),
        jwks({"kty": "oct", "kid": "a", "k": SECRET_TEXT}, {"kty": "oct", "kid": "a", "k": SECRET_TEXT}),
        jwks({"kty": "oct", "kid": "a", "k": SECRET_TEXT}, "oops"),
        '{"keys": [{"kty": "oct", "kid": "a", "k": "%s"}]' % SECRET_TEXT,
        "x" * (1 << 20 + 1),
    ],
)
def test_from_jwks_refuses_without_quoting(doc: str) -> None:
    with pytest.raises(KeyRingError) as e:
        KeyRing.from_jwks(doc)
    msg = str(e.value)
    assert msg.startswith("jwks: ")
    assert SECRET_TEXT not in msg and '"a"' not in msg and "a b" not in msg


def test_jwks_kid_in_secret_place_is_not_quoted() -> None:
    # An operator who swapped "kid" and "k": the error must not show either.
    with pytest.raises(KeyRingError) as e:
        KeyRing.from_jwks(jwks({"kty": "oct", "kid": SECRET_TEXT + "!!,", "k": "2025-06"}))
    assert SECRET_TEXT not in str(e.value) and "2025-06" not in str(e.value)


# --- Seal and open -----------------------------------------------------------


@pytest.fixture(params=["xchacha20poly1305", "aes256gcm"])
def ring(request: pytest.FixtureRequest) -> KeyRing:
    return KeyRing([Key.generate("k1", request.param), Key.generate("k0", request.param)])


def test_round_trip(ring: KeyRing) -> None:
    longest = 2946 - (4 if ring.primary.suite == "aes256gcm" else 0)
    for n in (0, 1, 2, 3, 47, 48, 49, 1000, longest):
        p = os.urandom(n)
        v = ss.seal(ring, "session", p, NOW + 60)
        assert len(v) == ss.encoded_len(n, ring.primary.version) <= 4000
        assert ss.open(ring, "session", v, NOW) == (p, ("k1", NOW + 60, False))
    with pytest.raises(ss.TooLarge):
        ss.seal(ring, "session", bytes(longest + 1), NOW + 60)
    old = ss.seal(KeyRing([ring[1]]), "session", b"x", NOW + 60)
    assert ss.open(ring, "session", old, NOW)[1] == ("k0", NOW + 60, True)


def test_times_and_names(ring: KeyRing) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 999000, tzinfo=timezone.utc)
    v = ss.seal(ring, "naïve", b"x", when)
    assert ss.open(ring, "naïve", v, when - timedelta(seconds=1))[1].expires == int(when.timestamp())
    assert ss.open(ring, "naïve".encode(), v.encode(), when.replace(tzinfo=None) - timedelta(seconds=1))[0] == b"x"
    with pytest.raises(ss.Expired):
        ss.open(ring, "naïve", v, when.replace(microsecond=0))
    with pytest.raises(ss.Invalid):
        ss.open(ring, "naive", v, NOW)
    assert ss.open(ring, "", ss.seal(ring, "", b"", NOW + 1), NOW)[0] == b""
    # Expiry rounds down, also for negative times; it must fit in int64.
    assert ss.open(ring, "s", ss.seal(ring, "s", b"", -1.5), -10)[1].expires == -2
    big = ss.seal(ring, "s", b"", 2**63 - 1)
    assert ss.open(ring, "s", big, NOW, skew=2**62)[1].expires == 2**63 - 1  # no overflow of expiry + skew
    with pytest.raises(ValueError):
        ss.seal(ring, "s", b"", 2**63)
    with pytest.raises(ValueError):
        ss.seal(ring, "a\x00b", b"", NOW)
    with pytest.raises(ss.Invalid):
        ss.open(ring, "a\x00b", big, NOW)


def test_purpose(ring: KeyRing) -> None:
    v = ss.seal(ring, "session", b"x", NOW + 1, purpose="billing")
    assert ss.open(ring, "session", v, NOW, purpose=b"billing")[0] == b"x"
    for purpose in ("", "admin", "billing\x00"):
        with pytest.raises(ss.Invalid):
            ss.open(ring, "session", v, NOW, purpose=purpose)
    with pytest.raises(ss.Invalid):
        ss.open(ring, "session\x00billing", v, NOW)
    with pytest.raises(ss.Invalid):  # a misconfigured opener, before anything else
        ss.open(ring, "session", "x" * 5000, NOW, purpose="p" * 256)
    with pytest.raises(ValueError):
        ss.seal(ring, "session", b"x", NOW + 1, purpose="p" * 256)
    ss.open(ring, "session", ss.seal(ring, "session", b"", NOW + 1, purpose="p" * 255), NOW, purpose="p" * 255)


def test_compression(ring: KeyRing) -> None:
    cart = json.dumps([{"sku": "A-1", "qty": 1}] * 200).encode()
    v = ss.seal(ring, "session", cart, NOW + 1, compress_above=64)
    assert len(v) < ss.encoded_len(len(cart)) // 4
    assert base64.urlsafe_b64decode(v[:4])[1] == 0x01
    assert ss.open(ring, "session", v, NOW)[0] == cart
    noise = os.urandom(100)  # does not compress: flags 0
    assert base64.urlsafe_b64decode(ss.seal(ring, "session", noise, NOW + 1, compress_above=1)[:4])[1] == 0
    # Not above max_decompressed: never compressed.
    big = bytes(70000)
    with pytest.raises(ss.TooLarge):
        ss.seal(ring, "session", big, NOW + 1, compress_above=1)


def deflate(b: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(b) + c.flush()


def test_inflate_bound_and_stream_errors(ring: KeyRing) -> None:
    bomb = deflate(bytes(65537))
    v = ss.seal_deflated(ring, "s", bomb, NOW + 1)
    with pytest.raises(ss.TooLarge):
        ss.open(ring, "s", v, NOW)
    assert ss.open(ring, "s", v, NOW, max_decompressed=65537)[0] == bytes(65537)
    with pytest.raises(ss.TooLarge):
        ss.open(ring, "s", ss.seal_deflated(ring, "s", deflate(bytes(11)), NOW + 1), NOW, max_decompressed=10)
    for broken in (deflate(b"hello")[:-1], deflate(b"hello") + b"\x00", b"\x07garbage", b""):
        with pytest.raises(ss.Malformed):
            ss.open(ring, "s", ss.seal_deflated(ring, "s", broken, NOW + 1), NOW)
    # Expired before inflating: an authentic but expired bomb is expired.
    with pytest.raises(ss.Expired):
        ss.open(ring, "s", v, NOW + 1)


def test_check_order(ring: KeyRing) -> None:
    v = ss.seal(ring, "s", b"x" * 10, NOW + 1)
    with pytest.raises(ss.TooLarge):  # before decoding: garbage too
        ss.open(ring, "s", "!" * 4001, NOW)
    with pytest.raises(ss.TooLarge):  # bytes, not characters
        ss.open(ring, "s", "é" * 2001, NOW)
    with pytest.raises(ss.TooLarge):
        ss.open(ring, "s", v, NOW, max_len=len(v) - 1)
    assert ss.open(ring, "s", v, NOW, max_len=0, max_decompressed=-1)[0] == b"x" * 10  # 0: the default, as in Go
    with pytest.raises(ss.Malformed):
        ss.open(ring, "s", "A" * 71, NOW)
    with pytest.raises(ss.UnknownKey):
        ss.open(KeyRing([Key.generate("other")]), "s", v, NOW)
    with pytest.raises(ss.Invalid):
        ss.open(KeyRing([Key("k1", os.urandom(32), ring.primary.suite)]), "s", v, NOW)
    # A key of the other suite under the same ID: malformed, no decryption.
    other = "aes256gcm" if ring.primary.suite == "xchacha20poly1305" else "xchacha20poly1305"
    with pytest.raises(ss.Malformed):
        ss.open(KeyRing([Key("k1", ring.primary.secret, other)]), "s", v, NOW)
    # Unauthenticated fields are checked before the key.
    raw = bytearray(base64.urlsafe_b64decode(v + "=" * (-len(v) % 4)))
    for i, b in [(0, 3), (1, 2)]:
        bad = bytearray(raw)
        bad[i] = b
        with pytest.raises(ss.Malformed):
            ss.open(KeyRing([Key.generate("other")]), "s", b64(bytes(bad)), NOW)
    flipped = bytearray(raw)
    flipped[1] ^= 0x01  # the compression flag is authenticated
    with pytest.raises(ss.Invalid):
        ss.open(ring, "s", b64(bytes(flipped)), NOW)


def test_every_corruption_fails_or_is_identical(ring: KeyRing) -> None:
    """The corruptions of Go's TestErrorClassesAgree: each must fail with a
    class the specification allows at that position (Go agreeing on the
    exact class is interop/python_test.go's job)."""
    v = ss.seal(ring, "session", b'{"user":"alice","n":1}', NOW + 60)
    cases = []
    for i in range(len(v)):
        for c in ["A", "B", "_", "-", "=", "+", "/", " ", "\n", "\x00"]:
            if v[i] != c:
                cases.append(v[:i] + c + v[i + 1 :])
        cases.append(v[:i] + "\r\n" + v[i:])
    for n in range(1, 7):
        cases += [v[:-n], v + "A" * n]
    cases += [v + "==", " " + v]
    seen = set()
    for c in cases:
        try:
            ss.open(ring, "session", c, NOW)
        except ss.SealedError as e:
            seen.add(e.kind)
            continue
        pytest.fail(f"a corrupted value opened: {c!r}")
    assert seen == {"malformed", "unknown_key", "invalid"}


@pytest.mark.parametrize(
    "raw, ok",
    [
        (b'{"a":1}', True),
        (b' {"a":-1e308} ', True),
        (b'{"a":"\xff"}', True),  # invalid UTF-8 in a string: U+FFFD, as Go
        (b"null", True),
        (b'{"a":17976931348623157' + b"0" * 292 + b"}", True),  # the largest float64
        (b'{"a":17976931348623157' + b"0" * 293 + b"}", False),  # beyond it: Go fails too
        (b'{"a":1e309}', False),
        (b'{"a":NaN}', False),
        (b'{"a":Infinity}', False),
        (b'{"a":1} {}', False),
        (b'{"a":1', False),
        (b"", False),
    ],
)
def test_session_json_decodes_as_go(raw: bytes, ok: bool) -> None:
    from sealed_session.payload import decode_json

    if ok:
        decode_json(raw)
    else:
        with pytest.raises(ss.Malformed):
            decode_json(raw)
