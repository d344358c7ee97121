"""The FastAPI service of the polyglot test (test/polyglot/run.sh), under
uvicorn: sealed_session.SessionMiddleware on the JWKS file the Go service
(../goapp) and the Node service (../nodeapp) use, with the same endpoints
(see ../goapp/main.go). Every answer has X-Sealed-Runtime: python, and
X-Sealed-Error with the kind of the error the middleware reported for the
request's session cookie, if any.

    SEALED_JWKS=keys.json PYTHONPATH=interop/python/src uvicorn app:app

The package takes a callable as its key source; JwksFile below is one that
polls the file as Go's jwks.Watch does, so a rotation needs no restart.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Dict, Optional

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sealed_session import KeyRing, KeyRingError, SessionMiddleware

log = logging.getLogger("pyapp")


class JwksFile:
    """A key source that re-reads a JWKS file at most every interval seconds
    and swaps in the new ring when the contents changed. A file that cannot
    be read or parsed keeps the last good ring (and is logged once), as Go's
    jwks.Watch does; the first read must succeed."""

    def __init__(self, path: str, interval: float) -> None:
        self.path, self.interval = path, interval
        self._lock = threading.Lock()
        with open(path, encoding="utf-8") as f:
            self._text = f.read()
        self._ring = KeyRing.from_jwks(self._text)
        self._checked = time.monotonic()
        self._failed: Optional[str] = None

    def __call__(self) -> KeyRing:
        if time.monotonic() - self._checked >= self.interval:
            with self._lock:
                if time.monotonic() - self._checked >= self.interval:
                    self._checked = time.monotonic()
                    self._reload()
        return self._ring

    def _reload(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as f:
                text = f.read()
            if text == self._text:
                return
            ring = KeyRing.from_jwks(text)
        except (OSError, KeyRingError) as e:
            if str(e) != self._failed:
                self._failed = str(e)
                log.warning("pyapp: %s: %s (keeping the last good ring)", self.path, e)
            return
        self._ring, self._text, self._failed = ring, text, None
        log.warning("pyapp: keys reloaded: %s", ", ".join(k.id for k in ring))


keys = JwksFile(os.environ["SEALED_JWKS"], float(os.environ.get("SEALED_RELOAD", "0.2")))


def remember_error(error: BaseException, scope: Dict[str, Any]) -> None:
    """Keeps the kind of the session cookie's error for the handler."""
    scope.setdefault("state", {})["sealed_error"] = getattr(error, "kind", type(error).__name__)
    log.warning("pyapp: session cookie: %s", error)


app = FastAPI()
app.add_middleware(
    SessionMiddleware,
    keys=keys,
    secure=False,  # plain http to nginx on 127.0.0.1, as the Go service's DisableSecure
    subject=lambda s: str(s.get("user", "")),
    on_error=remember_error,
)


def reply(request: Request, body: Dict[str, Any]) -> JSONResponse:
    headers = {"X-Sealed-Runtime": "python"}
    error = getattr(request.state, "sealed_error", None)
    if error:
        headers["X-Sealed-Error"] = error
    return JSONResponse(body, headers=headers)


def describe(request: Request) -> JSONResponse:
    s = request.session
    info = s.info
    return reply(
        request,
        {
            "runtime": "python",
            "session": dict(s) if s.exists else None,
            "keyId": info.key_id if info else "",
            "stale": bool(info.stale) if info else False,
            "id": info.id if info else "",
            "subject": info.subject if info else "",
            "error": getattr(request.state, "sealed_error", None),
        },
    )


@app.get("/keys")
async def ring(request: Request) -> JSONResponse:
    r = keys()
    return reply(request, {"runtime": "python", "primary": r[0].id, "ids": [k.id for k in r]})


@app.post("/login/{user}")
async def login(request: Request, user: str) -> JSONResponse:
    request.session.clear()
    request.session["user"] = user
    request.session.renew()
    request.session.flash(f"Welcome, {user}!")
    return describe(request)


@app.get("/session")
async def read(request: Request) -> JSONResponse:
    return describe(request)


@app.post("/session/{key}")
async def put(request: Request, key: str) -> JSONResponse:
    request.session[key] = await request.json()
    return describe(request)


@app.delete("/session/{key}")
async def delete(request: Request, key: str) -> JSONResponse:
    request.session.pop(key, None)
    return describe(request)


@app.post("/flash")
async def flash(request: Request, message: str) -> JSONResponse:
    request.session.flash(message)
    return reply(request, {"runtime": "python", "ok": True})


@app.get("/flashes")
async def flashes(request: Request) -> JSONResponse:
    return reply(request, {"runtime": "python", "flashes": request.session.flashes()})


@app.post("/logout")
async def logout(request: Request) -> JSONResponse:
    request.session.clear()
    return reply(request, {"runtime": "python", "ok": True})
