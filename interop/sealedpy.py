#!/usr/bin/env python3
"""Drives the Python package (python/src/sealed_session) for the Go tests in
interop/python_test.go, as sealedjs.mjs drives the JavaScript one.

Reads one JSON request on stdin, or an array of them, and writes the answer
(or an array of answers) on stdout. With --lines it reads one request per
line and answers each on a line, until stdin closes: the Go tests keep one
process for a whole conversation. Keys are a ring in the form
sealed.FormatKeyRing writes ("id:secret,...") or [{id, secret, suite?}];
bytes are hex; times are Unix seconds. A failure answers {error: class,
message}. The field names are sealedjs.mjs's.

  open         {keys, name, value, now?, skew?, maxLen?, maxDecompressed?, purpose?}
               -> {plaintext, keyId, expires, stale}
  seal         {keys, name, plaintext, expires, compressAbove?, nonce?, salt?, maxLen?, purpose?} -> {value}
  sealDeflated {keys, name, deflated, expires, nonce?, salt?, purpose?} -> {value}
  openSession  {keys, cookies: {name: value}, name?, now?, purpose?, budget?, chunkSize?}
               -> {none} or {issued, deadline, refreshed, flashes, session, id, minted, subject,
                   persistent, keyId, expires, stale}
  sealSession  {keys, name?, issued, deadline, refreshed, flashes?, session?, id?, minted?, subject?,
                persistent?, budget?, chunkSize?, purpose?, compressAbove?} -> {cookies: {name: value}}
  parseKeys    {text} or {jwks} -> {keys: [{id, suite, secret}]} or {error: "key_ring", message}
  middleware   {keys, options, now, cookie: [Cookie header lines], headers?: [[name, value]],
                actions: [{op, key?, value?, message?, remember?}]}
               -> {setCookie, vary, cacheControl, results, errors}
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from typing import Any, Dict, List

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python", "src"))

import sealed_session as ss  # noqa: E402
from sealed_session.payload import Payload, seal_session  # noqa: E402


def ring(keys: Any) -> ss.KeyRing:
    if isinstance(keys, str):
        return ss.KeyRing.parse(keys)
    return ss.KeyRing(
        ss.Key(k["id"], base64.urlsafe_b64decode(k["secret"] + "=" * (-len(k["secret"]) % 4)), k.get("suite") or "xchacha20poly1305")
        for k in keys
    )


def hexb(h: Any) -> bytes:
    return bytes.fromhex(h or "")


def opt_bytes(h: Any) -> Any:
    return bytes.fromhex(h) if h else None


def info_json(info: Any) -> Any:
    if info is None:
        return None
    return {
        "keyId": info.key_id,
        "expires": info.expires,
        "stale": info.stale,
        "issued": info.issued,
        "deadline": info.deadline,
        "refreshed": info.refreshed,
        "id": info.id,
        "subject": info.subject,
    }


# Go's Options, by their JSON names here, to SessionMiddleware's arguments.
OPTIONS = {
    "name": "name",
    "path": "path",
    "domain": "domain",
    "partitioned": "partitioned",
    "lifetime": "lifetime",
    "idleTimeout": "idle_timeout",
    "idleRefresh": "idle_refresh",
    "browserSession": "browser_session",
    "clockSkew": "clock_skew",
    "purpose": "purpose",
    "chunkBudget": "chunk_budget",
    "compressAbove": "compress_above",
}


def middleware(req: Dict[str, Any]) -> Dict[str, Any]:
    o = req.get("options") or {}
    kw: Dict[str, Any] = {OPTIONS[k]: v for k, v in o.items() if k in OPTIONS and v not in (None, "", 0, False)}
    kw["secure"] = not o.get("disableSecure", False)
    kw["http_only"] = not o.get("disableHTTPOnly", False)
    site = o.get("sameSite") or "lax"
    kw["same_site"] = None if site == "default" else site
    if o.get("subjectKey"):
        kw["subject"] = lambda s, k=o["subjectKey"]: str(s.get(k, ""))
    errors: List[str] = []
    results: List[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        s: ss.Session = scope["session"]
        for a in req.get("actions") or []:
            op = a["op"]
            if op == "get":
                results.append(dict(s) if s.exists else None)
            elif op == "set":
                s[a["key"]] = a.get("value")
            elif op == "delete":
                del s[a["key"]]
            elif op == "flash":
                s.flash(a["message"])
            elif op == "flashes":
                results.append(s.flashes())
            elif op == "destroy":
                s.destroy()
            elif op == "renew":
                s.renew()
            elif op == "rememberMe":
                s.remember_me(bool(a.get("remember")))
            elif op == "info":
                results.append(info_json(s.info))
            else:
                raise ValueError(f"unknown action {op}")
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in req.get("headers") or []]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    def on_error(e: BaseException, scope: Any) -> None:
        errors.append(e.kind if isinstance(e, ss.SealedError) else f"{type(e).__name__}: {e}")

    mw = ss.SessionMiddleware(app, keys=ring(req["keys"]), now=lambda: req["now"], on_error=on_error, **kw)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"example.com")] + [(b"cookie", c.encode("latin-1")) for c in req.get("cookie") or []],
    }
    out: Dict[str, Any] = {}

    async def receive() -> Dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["headers"] = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]]

    asyncio.run(mw(scope, receive, send))
    h = out["headers"]
    return {
        "setCookie": [v for k, v in h if k == "set-cookie"],
        "vary": [v for k, v in h if k == "vary"],
        "cacheControl": [v for k, v in h if k == "cache-control"],
        "results": results,
        "errors": errors,
    }


def handle(req: Dict[str, Any]) -> Any:
    op = req.get("op")
    try:
        if op == "open":
            plaintext, info = ss.open(
                ring(req["keys"]),
                req["name"],
                req["value"],
                req.get("now"),
                skew=req.get("skew") or 0,
                max_len=req.get("maxLen") or ss.DEFAULT_MAX_LEN,
                max_decompressed=req.get("maxDecompressed") or ss.DEFAULT_MAX_DECOMPRESSED,
                purpose=req.get("purpose") or "",
            )
            return {"plaintext": plaintext.hex(), "keyId": info.key_id, "expires": info.expires, "stale": info.stale}
        if op == "seal":
            return {
                "value": ss.seal(
                    ring(req["keys"]),
                    req["name"],
                    hexb(req.get("plaintext")),
                    req["expires"],
                    max_len=req.get("maxLen") or ss.DEFAULT_MAX_LEN,
                    compress_above=req.get("compressAbove") or 0,
                    purpose=req.get("purpose") or "",
                    nonce=opt_bytes(req.get("nonce")),
                    salt=opt_bytes(req.get("salt")),
                )
            }
        if op == "sealDeflated":
            return {
                "value": ss.seal_deflated(
                    ring(req["keys"]),
                    req["name"],
                    hexb(req.get("deflated")),
                    req["expires"],
                    purpose=req.get("purpose") or "",
                    nonce=opt_bytes(req.get("nonce")),
                    salt=opt_bytes(req.get("salt")),
                )
            }
        if op == "openSession":
            s = ss.open_session(
                ring(req["keys"]),
                req.get("cookies") or {},
                name=req.get("name") or "session",
                now=req.get("now"),
                purpose=req.get("purpose") or "",
                budget=req.get("budget") or 4,
                chunk_size=req.get("chunkSize") or 4031,
            )
            if s is None:
                return {"none": True}
            return {
                "issued": s.issued,
                "deadline": s.deadline,
                "refreshed": s.refreshed,
                "flashes": s.flashes,
                "session": s.value.hex() if s.value is not None else None,
                "id": s.id.hex() if s.id else "",
                "minted": s.minted,
                "subject": s.subject,
                "persistent": s.persistent,
                "keyId": s.key_id,
                "expires": s.expires,
                "stale": s.stale,
            }
        if op == "sealSession":
            p = Payload(
                issued=req["issued"],
                deadline=req["deadline"],
                refreshed=req["refreshed"],
                flashes=req.get("flashes") or [],
                value=bytes.fromhex(req["session"]) if req.get("session") is not None else None,
                id=opt_bytes(req.get("id")),
                minted=req.get("minted") or 0,
                subject=req.get("subject") or "",
                persistent=req.get("persistent"),
            )
            cookies = seal_session(
                ring(req["keys"]),
                p,
                name=req.get("name") or "session",
                budget=req.get("budget") or 4,
                chunk_size=req.get("chunkSize") or 4031,
                purpose=req.get("purpose") or "",
                compress_above=req.get("compressAbove") or 0,
            )
            return {"cookies": cookies}
        if op == "parseKeys":
            try:
                r = ss.KeyRing.from_jwks(req["jwks"]) if "jwks" in req else ss.KeyRing.parse(req["text"])
            except ss.KeyRingError as e:
                return {"error": "key_ring", "message": str(e)}
            return {"keys": [{"id": k.id, "suite": k.suite, "secret": k.secret.hex()} for k in r]}
        if op == "middleware":
            return middleware(req)
        raise ValueError(f"unknown op {op!r}")
    except ss.SealedError as e:
        return {"error": e.kind, "message": str(e)}


def main() -> None:
    if "--lines" in sys.argv[1:]:
        for line in sys.stdin:
            if line.strip():
                print(json.dumps(handle(json.loads(line))), flush=True)
        return
    req = json.load(sys.stdin)
    answer = [handle(r) for r in req] if isinstance(req, list) else handle(req)
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
