"""Every vector of testdata/middleware-vectors.json, three ways: read by
open_session, read by SessionMiddleware (as Go's TestMiddlewareVectors reads
them with a default Manager), and, for the valid ones, written again from
their fields and nonce by the payload writer and chunker, which must give
the vector's cookies byte for byte."""

from __future__ import annotations

import base64
import json
from typing import Any, Dict, List

import pytest

import sealed_session as ss
from conftest import asgi_request, load_vectors, ring_of
from sealed_session.payload import Payload, seal_session

VECTORS = load_vectors("middleware-vectors.json")


def _id(v: Dict[str, Any]) -> str:
    return v["comment"]


def test_vector_file_is_complete() -> None:
    assert len(VECTORS) >= 30
    assert any(len(v["cookies"]) > 3 for v in VECTORS)  # a leftover chunk
    assert {v.get("persistence") for v in VECTORS} >= {None, "persistent", "browser_session"}


PERSISTENCE = {None: None, "persistent": True, "browser_session": False}


@pytest.mark.parametrize("v", VECTORS, ids=_id)
def test_open_session(v: Dict[str, Any]) -> None:
    ring = ring_of(v["keys"])
    if not v["valid"]:
        with pytest.raises(ss.SealedError) as e:
            ss.open_session(ring, v["cookies"], name=v["name"], now=v["now"])
        assert e.value.kind == v["error"]
        return
    s = ss.open_session(ring, v["cookies"], name=v["name"], now=v["now"])
    assert s is not None
    assert (s.issued, s.deadline, s.refreshed) == (v["issued"], v["deadline"], v["refreshed"])
    assert s.flashes == v.get("flashes", [])
    assert s.value == (v["value"].encode() if "value" in v else None)
    assert s.session == (json.loads(v["value"]) if "value" in v else None)
    assert (s.id.hex() if s.id else None) == v.get("id")
    assert s.minted == v.get("minted", 0) and s.subject == v.get("subject", "")
    assert s.persistent is PERSISTENCE[v.get("persistence")]
    assert s.key_id == v["keys"][0]["id"] and not s.stale
    # The same, given as a Cookie header in Go's order (sorted, "; ").
    header = "; ".join(f"{n}={v['cookies'][n]}" for n in sorted(v["cookies"]))
    assert ss.open_session(ring, header, name=v["name"], now=v["now"]) == s


def _middleware_view(v: Dict[str, Any]) -> Dict[str, Any]:
    """Reads the vector's cookies through a default SessionMiddleware."""
    seen: Dict[str, Any] = {"errors": []}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        session = scope["session"]
        seen["dict"] = dict(session)
        seen["exists"] = session.exists
        seen["info"] = session.info
        seen["flashes"] = session.flashes()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    mw = ss.SessionMiddleware(
        app, keys=ring_of(v["keys"]), name=v["name"], now=lambda: v["now"], on_error=lambda e, scope: seen["errors"].append(e)
    )
    header = "; ".join(f"{n}={v['cookies'][n]}" for n in sorted(v["cookies"]))
    seen["response"] = asgi_request(mw, [header])
    return seen


@pytest.mark.parametrize("v", VECTORS, ids=_id)
def test_middleware_reads(v: Dict[str, Any]) -> None:
    seen = _middleware_view(v)
    set_cookies: List[str] = seen["response"].set_cookies
    if not v["valid"]:
        assert not seen["exists"] and seen["dict"] == {} and seen["flashes"] == []
        assert [e.kind for e in seen["errors"]] == [v["error"]]
        # Every carried cookie is expired, nothing else is set.
        assert sorted(c.split("=", 1)[0] for c in set_cookies) == sorted(v["cookies"])
        assert all("; Max-Age=0;" in c for c in set_cookies)
        return
    assert seen["errors"] == []
    assert seen["flashes"] == v.get("flashes", [])
    if "value" not in v:
        assert not seen["exists"] and seen["info"] is None
    else:
        assert seen["exists"] and seen["dict"] == json.loads(v["value"])
        info = seen["info"]
        assert (info.issued, info.deadline, info.refreshed) == (v["issued"], v["deadline"], v["refreshed"])
        assert info.id == v.get("id", "") and info.subject == v.get("subject", "")
        assert (info.key_id, info.stale) == (v["keys"][0]["id"], False)
    if v.get("flashes"):
        # Reading the flashes changed the session: it is written again.
        assert set_cookies
    elif "value" in v:
        assert set_cookies == []  # unchanged: no Set-Cookie


def _nonce_of(value: str) -> bytes:
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    return raw[14:38]


@pytest.mark.parametrize(
    "v",
    [v for v in VECTORS if v["valid"] and "older release" not in v["comment"]],
    ids=_id,
)
def test_writer_reproduces(v: Dict[str, Any]) -> None:
    first = v["cookies"].get(v["name"]) or v["cookies"][f"{v['name']}.0"]
    p = Payload(
        issued=v["issued"],
        deadline=v["deadline"],
        refreshed=v["refreshed"],
        flashes=v.get("flashes", []),
        value=v["value"].encode() if "value" in v else None,
        id=bytes.fromhex(v["id"]) if "id" in v else None,
        minted=v.get("minted", 0),
        subject=v.get("subject", ""),
        persistent=PERSISTENCE[v.get("persistence")],
    )
    got = seal_session(ring_of(v["keys"]), p, name=v["name"], nonce=_nonce_of(first))
    want = {n: c for n, c in v["cookies"].items() if "leftover" not in v["comment"] or n != f"{v['name']}.3"}
    assert got == want
