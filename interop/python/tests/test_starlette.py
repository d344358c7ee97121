"""The middleware under Starlette: add_middleware and Request.session, a
streaming response, a WebSocket, and a real TestClient with its cookie jar."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.applications import Starlette  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse  # noqa: E402
from starlette.routing import Route, WebSocketRoute  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocket  # noqa: E402

import sealed_session as ss  # noqa: E402
from conftest import Clock  # noqa: E402
from sealed_session import Key, KeyRing, SessionMiddleware  # noqa: E402

RING = KeyRing([Key("k1", bytes(range(32)))])


def starlette_app(clock: Clock, errors: list, **options: Any) -> Starlette:
    async def login(request: Request) -> JSONResponse:
        request.session["user"] = request.path_params["user"]
        request.session.renew()
        request.session.flash(f"Welcome, {request.path_params['user']}!")
        return JSONResponse({"ok": True})

    async def me(request: Request) -> JSONResponse:
        return JSONResponse({"session": dict(request.session), "flashes": request.session.flashes()})

    async def count(request: Request) -> JSONResponse:
        request.session["n"] = request.session.get("n", 0) + 1
        return JSONResponse({"n": request.session["n"]})

    async def logout(request: Request) -> PlainTextResponse:
        request.session.clear()
        return PlainTextResponse("bye")

    async def stream(request: Request) -> StreamingResponse:
        request.session["streamed"] = True

        async def body() -> Any:
            yield b"a"
            request.session["late"] = True  # after the headers: reported, not sent
            yield b"b"

        return StreamingResponse(body())

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(dict(websocket.session))
        await websocket.close()

    return Starlette(
        routes=[
            Route("/login/{user}", login, methods=["POST"]),
            Route("/me", me),
            Route("/count", count, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/stream", stream),
            WebSocketRoute("/ws", ws),
        ],
        middleware=[
            Middleware(SessionMiddleware, keys=RING, now=clock, on_error=lambda e, scope: errors.append(e), **options)
        ],
    )


def test_starlette_flow(clock: Clock) -> None:
    errors: list = []
    client = TestClient(starlette_app(clock, errors), base_url="https://testserver")
    r = client.post("/login/alice")
    assert r.status_code == 200 and r.headers["vary"] == "Cookie"
    assert r.headers["cache-control"] == 'no-cache="Set-Cookie"'
    assert list(client.cookies.keys()) == ["session"]
    r = client.get("/me")
    assert r.json() == {"session": {"user": "alice"}, "flashes": ["Welcome, alice!"]}
    assert "set-cookie" in r.headers  # the flash was read: re-sealed without it
    r = client.get("/me")
    assert r.json() == {"session": {"user": "alice"}, "flashes": []} and "set-cookie" not in r.headers
    assert [client.post("/count").json()["n"] for _ in range(3)] == [1, 2, 3]
    s = ss.open_session(RING, dict(client.cookies), now=clock())
    assert s.session == {"user": "alice", "n": 3}
    # TestClient's WebSocket URL is ws://, so its jar keeps the Secure cookie back.
    with client.websocket_connect("/ws", headers={"cookie": f"session={client.cookies['session']}"}) as ws:
        assert ws.receive_json() == {"user": "alice", "n": 3}
    r = client.get("/stream")
    assert r.text == "ab" and [type(e) for e in errors] == [ss.HeadersWritten]
    assert ss.open_session(RING, dict(client.cookies), now=clock()).session == {"user": "alice", "n": 3, "streamed": True}
    r = client.post("/logout")
    assert r.text == "bye" and "Max-Age=0" in r.headers["set-cookie"] and not client.cookies
    assert client.get("/me").json() == {"session": {}, "flashes": []}


def test_starlette_add_middleware_like_its_own(clock: Clock) -> None:
    # The same call as starlette.middleware.sessions.SessionMiddleware.
    async def home(request: Request) -> PlainTextResponse:
        request.session["visits"] = request.session.get("visits", 0) + 1
        return PlainTextResponse(str(request.session["visits"]))

    app = Starlette(routes=[Route("/", home)])
    app.add_middleware(SessionMiddleware, keys=RING.format(), now=clock)
    client = TestClient(app, base_url="https://testserver")
    assert [client.get("/").text for _ in range(3)] == ["1", "2", "3"]
