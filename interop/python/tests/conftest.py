"""Shared helpers: the repository's test vectors, key rings built from them,
and a fake clock."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

from sealed_session import Key, KeyRing

REPO = Path(__file__).resolve().parents[3]
TESTDATA = REPO / "testdata"


def load_vectors(name: str) -> List[Dict[str, Any]]:
    """The vectors of testdata/<name>."""
    with open(TESTDATA / name, encoding="utf-8") as f:
        return json.load(f)["vectors"]


def ring_of(keys: List[Dict[str, str]]) -> KeyRing:
    """A ring from a vector's keys: [{id, secret (base64url), suite?}]."""
    return KeyRing(
        Key(k["id"], base64.urlsafe_b64decode(k["secret"] + "=" * (-len(k["secret"]) % 4)), k.get("suite", "xchacha20poly1305"))
        for k in keys
    )


class Clock:
    """A settable clock in Unix seconds, for the middleware's ``now``."""

    def __init__(self, t: float = 1763726400) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


class Response:
    """What an ASGI app answered: status, headers (lowercase names) and body."""

    def __init__(self, status: int, headers: List[tuple], body: bytes) -> None:
        self.status = status
        self.raw_headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in headers]
        self.body = body

    def get_list(self, name: str) -> List[str]:
        return [v for k, v in self.raw_headers if k == name]

    @property
    def set_cookies(self) -> List[str]:
        return self.get_list("set-cookie")


def asgi_request(app: Any, cookie_lines: List[str] = (), path: str = "/", method: str = "GET") -> Response:
    """Runs one HTTP request through an ASGI app, with the given Cookie header
    lines, without a framework or a client library."""
    import asyncio

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"example.com")] + [(b"cookie", line.encode("latin-1")) for line in cookie_lines],
        "server": ("example.com", 443),
        "client": ("127.0.0.1", 1234),
    }
    out: Dict[str, Any] = {"body": b""}

    async def receive() -> Dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"], out["headers"] = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return Response(out["status"], out["headers"], out["body"])
