"""Drive Flask's real session interface for interop_test.go.

Reads a JSON request on stdin:
  {"secret": str, "fallbacks": [str], "max_age": int, "ts": int,
   "make": [session, ...], "open": [cookie value, ...]}
and writes {"made": [...], "rich": str, "opened": [...], "fallbacks": bool}
to stdout. The
signer's clock is pinned to ts so cookies are deterministic. "made" holds
the session cookie Flask sets after a request stores each session; "rich"
a cookie holding the Python types Flask's tagged JSON carries; "opened" the
session a request sees when it sends each cookie ({} when Flask rejected
it); "fallbacks" whether this Flask reads SECRET_KEY_FALLBACKS (3.1+).
Works with Flask 3.1 (PyPI) and Flask 2.2 (Debian bookworm's python3-flask).
"""
import inspect
import json
import sys
import uuid
from datetime import datetime, timedelta, timezone

import itsdangerous.timed
from flask import Flask, request, session
from markupsafe import Markup

req = json.load(sys.stdin)
itsdangerous.timed.TimestampSigner.get_timestamp = lambda self: req["ts"]

app = Flask(__name__)
app.config.update(
    SECRET_KEY=req["secret"],
    SECRET_KEY_FALLBACKS=req["fallbacks"],
    PERMANENT_SESSION_LIFETIME=timedelta(seconds=req["max_age"]),
)


@app.post("/set")
def set_session():
    session.update(request.get_json())
    return {}


@app.post("/rich")
def set_rich():
    session.update(
        {
            "tuple": (1, "a", (2, 3)),
            "bytes": b"\x00\xffhi",
            "when": datetime(2015, 10, 21, 7, 28, 0, tzinfo=timezone.utc),
            "id": uuid.UUID("12345678-1234-5678-1234-56781234abcd"),
            "html": Markup("<b>x</b>"),
            "tagkey": {" t": "not a tuple"},
            "nested": [{" di": (b"x",)}, {"k": {" b": 1, "other": 2}}],
            "plain": {"a": [1, 2.5, None, True]},
        }
    )
    return {}


@app.get("/get")
def get_session():
    return app.response_class(
        json.dumps(dict(session), default=repr), mimetype="application/json"
    )


def cookie(resp):
    header = resp.headers["Set-Cookie"]
    assert header.startswith("session="), header
    return header[len("session="):].split(";", 1)[0]


# Werkzeug < 2.3: set_cookie(server_name, key, value).
OLD_SET_COOKIE = "server_name" in inspect.signature(
    type(app.test_client()).set_cookie
).parameters

made = []
for s in req["make"]:
    with app.test_client() as client:
        made.append(cookie(client.post("/set", json=s)))

with app.test_client() as client:
    rich = cookie(client.post("/rich"))

opened = []
for value in req["open"]:
    with app.test_client() as client:
        # The test client sends only the cookies in its jar.
        if OLD_SET_COOKIE:
            client.set_cookie("localhost", "session", value)
        else:
            client.set_cookie("session", value)
        resp = client.get("/get")
        opened.append(json.loads(resp.get_data()))

json.dump(
    {
        "made": made,
        "rich": rich,
        "opened": opened,
        "fallbacks": "SECRET_KEY_FALLBACKS" in Flask.default_config,
    },
    sys.stdout,
)
