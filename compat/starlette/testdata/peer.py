"""Drive Starlette's real SessionMiddleware for interop_test.go.

Reads a JSON request on stdin:
  {"secret": str, "max_age": int|null, "ts": int,
   "make": [session, ...], "open": [cookie value, ...]}
and writes {"made": [cookie value, ...], "opened": [session, ...]} to stdout.
The signer's clock is pinned to ts so cookies are deterministic. "made"
holds the session cookie the middleware sets after a request stores the
session; "opened" holds the session a request sees when it sends the
cookie ({} when the middleware rejected it).
"""
import json
import sys

import itsdangerous
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

req = json.load(sys.stdin)
itsdangerous.TimestampSigner.get_timestamp = lambda self: req["ts"]


async def set_session(request):
    request.session.update(await request.json())
    return JSONResponse({})


async def get_session(request):
    return JSONResponse({"session": dict(request.session)})


app = Starlette(
    routes=[
        Route("/set", set_session, methods=["POST"]),
        Route("/get", get_session),
    ],
    middleware=[
        Middleware(SessionMiddleware, secret_key=req["secret"], max_age=req["max_age"])
    ],
)

made = []
for session in req["make"]:
    with TestClient(app) as client:
        r = client.post("/set", content=json.dumps(session),
                        headers={"content-type": "application/json"})
        r.raise_for_status()
        header = r.headers["set-cookie"]
        assert header.startswith("session="), header
        made.append(header[len("session="):].split(";", 1)[0])

opened = []
for value in req["open"]:
    with TestClient(app) as client:
        r = client.get("/get", headers={"cookie": "session=" + value})
        r.raise_for_status()
        opened.append(r.json()["session"])

json.dump({"made": made, "opened": opened}, sys.stdout)
