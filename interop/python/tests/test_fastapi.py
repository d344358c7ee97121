"""The middleware under FastAPI, added as Starlette's SessionMiddleware is,
with the session read in a dependency and written in a sync endpoint.

(No ``from __future__ import annotations`` here: FastAPI reads the
endpoints' annotations as objects.)"""

from typing import Dict

import pytest

fastapi = pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi import Depends, FastAPI, HTTPException, Request  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

import sealed_session as ss  # noqa: E402
from conftest import Clock  # noqa: E402
from sealed_session import Key, KeyRing, SessionMiddleware  # noqa: E402

RING = KeyRing([Key("k1", bytes(range(32)))])


def current_user(request: Request) -> str:
    user = request.session.get("user")
    if user is None:
        raise HTTPException(status_code=401)
    return user


def make_app(clock: Clock) -> FastAPI:
    app = FastAPI()
    app.add_middleware(SessionMiddleware, keys=RING, now=clock, idle_timeout=1800)

    @app.post("/login")
    def login(request: Request, name: str) -> Dict[str, str]:  # sync: runs in a worker thread
        request.session["user"] = name
        request.session.renew()
        return {"user": name}

    @app.get("/me")
    async def me(user: str = Depends(current_user)) -> Dict[str, str]:
        return {"user": user}

    @app.post("/logout")
    async def logout(request: Request) -> Dict[str, bool]:
        request.session.clear()
        return {"ok": True}

    return app


def test_fastapi(clock: Clock) -> None:
    client = TestClient(make_app(clock), base_url="https://testserver")
    assert client.get("/me").status_code == 401
    r = client.post("/login", params={"name": "grace"})
    assert r.json() == {"user": "grace"} and "; Max-Age=1800;" in r.headers["set-cookie"]
    assert ss.open_session(RING, dict(client.cookies), now=clock()).session == {"user": "grace"}
    assert client.get("/me").json() == {"user": "grace"}
    for _ in range(3):  # each request past half the idle timeout slides the window
        clock.advance(1799)
        r = client.get("/me")
        assert r.json() == {"user": "grace"} and "set-cookie" in r.headers
    clock.advance(1800)
    assert client.get("/me").status_code == 401
    client.post("/login", params={"name": "grace"})
    r = client.post("/logout")
    assert "Max-Age=0" in r.headers["set-cookie"] and client.get("/me").status_code == 401
