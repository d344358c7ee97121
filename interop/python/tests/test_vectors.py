"""Every vector of testdata/vectors.json (version 1) and
testdata/vectors-v2.json (version 2): valid ones open to their plaintext,
key, expiry and staleness and re-seal byte for byte from their nonce (and
salt); invalid ones fail with their error class."""

from __future__ import annotations

from typing import Any, Dict

import pytest

import sealed_session as ss
from conftest import load_vectors, ring_of

VECTORS = [(f, v) for f in ("vectors.json", "vectors-v2.json") for v in load_vectors(f)]


def _id(case: Any) -> str:
    return f"{case[0]}:{case[1]['comment']}"


def _options(v: Dict[str, Any]) -> Dict[str, Any]:
    return {"max_len": v.get("max_len") or ss.DEFAULT_MAX_LEN, "purpose": v.get("purpose", "")}


def test_vector_files_are_complete() -> None:
    assert sum(1 for f, _ in VECTORS if f == "vectors.json") >= 40
    assert sum(1 for f, _ in VECTORS if f == "vectors-v2.json") >= 25
    classes = {v.get("error") for _, v in VECTORS if not v["valid"]}
    assert classes == {"malformed", "unknown_key", "invalid", "expired", "too_large"}


@pytest.mark.parametrize("case", VECTORS, ids=_id)
def test_open(case: Any) -> None:
    _, v = case
    ring = ring_of(v["keys"])
    if not v["valid"]:
        with pytest.raises(ss.SealedError) as e:
            ss.open(ring, v["name"], v["sealed"], v["now"], **_options(v))
        assert e.value.kind == v["error"]
        return
    plaintext, info = ss.open(ring, v["name"], v["sealed"], v["now"], **_options(v))
    assert plaintext.hex() == v.get("plaintext", "")
    assert info == (v["key_id"], v["expires"], v.get("stale", False))
    assert (info.key_id, info.expires, info.stale) == (v["key_id"], v["expires"], v.get("stale", False))


@pytest.mark.parametrize("case", [c for c in VECTORS if c[1]["valid"]], ids=_id)
def test_seal_reproduces(case: Any) -> None:
    _, v = case
    key = ring_of([k for k in v["keys"] if k["id"] == v["key_id"]])
    extra = {"nonce": bytes.fromhex(v["nonce"]), "purpose": v.get("purpose", ""), "max_len": v.get("max_len") or ss.DEFAULT_MAX_LEN}
    if "salt" in v:
        extra["salt"] = bytes.fromhex(v["salt"])
    if v.get("flags") == 1:
        got = ss.seal_deflated(key, v["name"], bytes.fromhex(v["compressed"]), v["expires"], **extra)
    else:
        got = ss.seal(key, v["name"], bytes.fromhex(v.get("plaintext", "")), v["expires"], **extra)
    assert got == v["sealed"]


@pytest.mark.parametrize("case", [c for c in VECTORS if c[1]["valid"]], ids=_id)
def test_expired_one_second_later(case: Any) -> None:
    # A valid vector is valid strictly before its expiry second.
    _, v = case
    ring = ring_of(v["keys"])
    ss.open(ring, v["name"], v["sealed"], v["expires"] - 1, **_options(v))
    ss.open(ring, v["name"], v["sealed"], v["expires"] - 0.001, **_options(v))
    with pytest.raises(ss.Expired) as e:
        ss.open(ring, v["name"], v["sealed"], v["expires"], **_options(v))
    assert e.value.info == (v["key_id"], v["expires"], v.get("stale", False))
    ss.open(ring, v["name"], v["sealed"], v["expires"] + 9.5, skew=10, **_options(v))
    with pytest.raises(ss.Expired):
        ss.open(ring, v["name"], v["sealed"], v["expires"] + 10, skew=10, **_options(v))
