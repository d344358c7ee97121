"""A FastAPI service that shares its sessions with Go services: the app
interop/python_test.go (TestPythonUvicorn) runs under uvicorn next to a Go
sealed.Manager, and an example of rotating keys without a restart.

    SEALED_JWKS=/run/secrets/session-keys.json uvicorn app:app

The key ring is a JSON Web Key Set file (Go's jwks package writes it; the
first key seals), read again whenever it changes, so a fleet rotates by
rewriting the file: add the new key second, then move it first.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Optional

from fastapi import FastAPI, Request

from sealed_session import KeyRing, SessionMiddleware


def jwks_file(path: str) -> Callable[[], KeyRing]:
    """A key source that re-reads path when its contents change."""
    cache: Dict[str, Any] = {"text": None, "ring": None}

    def current() -> KeyRing:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if text != cache["text"]:
            cache["ring"], cache["text"] = KeyRing.from_jwks(text), text
        return cache["ring"]

    return current


def remember_error(error: BaseException, scope: Dict[str, Any]) -> None:
    """Keeps the class of an invalid cookie where the handler finds it
    (request.state.sealed_error); a real app would log it."""
    scope.setdefault("state", {})["sealed_error"] = getattr(error, "kind", type(error).__name__)


app = FastAPI()
app.add_middleware(
    SessionMiddleware,
    keys=jwks_file(os.environ["SEALED_JWKS"]),
    subject=lambda s: str(s.get("user", "")),
    on_error=remember_error,
)


def describe(request: Request) -> Dict[str, Any]:
    info = request.session.info
    return {
        "session": dict(request.session) if request.session.exists else None,
        "keyId": info.key_id if info else None,
        "stale": info.stale if info else None,
        "subject": info.subject if info else None,
        "error": getattr(request.state, "sealed_error", None),
    }


@app.get("/session")
async def read(request: Request) -> Dict[str, Any]:
    out = describe(request)
    out["flashes"] = request.session.flashes()
    return out


@app.post("/session/{key}")
async def put(request: Request, key: str) -> Dict[str, Any]:
    request.session[key] = await request.json()
    return describe(request)


@app.post("/flash")
async def flash(request: Request, message: str) -> Dict[str, Optional[bool]]:
    request.session.flash(message)
    return {"ok": True}


@app.post("/logout")
async def logout(request: Request) -> Dict[str, bool]:
    request.session.clear()
    return {"ok": True}
