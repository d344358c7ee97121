"""A real Starlette app with SessionMiddleware, for e2e_test.go.

Usage: starlette_app.py uvicorn|builtin

Environment: SEALED_E2E_SECRET (the secret_key).

It binds 127.0.0.1 on a free port and prints "LISTENING <port> <runner>"
on stdout, then serves until stdin is closed (so it never outlives the
test) or it is killed. Routes:

  POST /login   JSON {"user": ..., "roles": [...]}: stores them in the session
  GET  /whoami  {"user": <the session's user or null>}

With "uvicorn" it runs under uvicorn (Debian python3-uvicorn); with
"builtin" under the minimal HTTP/1.1 ASGI runner below (one request per
connection), for machines without uvicorn.
"""
import asyncio
import json
import os
import socket
import sys
import threading
import urllib.parse

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route


async def login(request):
    body = await request.json()
    request.session.clear()
    request.session["user"] = body["user"]
    request.session["roles"] = body.get("roles", [])
    return JSONResponse({"ok": True})


async def whoami(request):
    return JSONResponse({"user": request.session.get("user")})


app = Starlette(
    routes=[
        Route("/login", login, methods=["POST"]),
        Route("/whoami", whoami),
    ],
    middleware=[
        Middleware(
            SessionMiddleware,
            secret_key=os.environ["SEALED_E2E_SECRET"],
            max_age=3600,
            same_site="lax",
            https_only=False,
        )
    ],
)


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


async def serve_builtin(sock):
    """Serve app on sock: HTTP/1.1, one request per connection."""
    port = sock.getsockname()[1]

    async def handle(reader, writer):
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = []
            length = 0
            for line in lines[1:]:
                if not line:
                    continue
                name, value = line.split(":", 1)
                name, value = name.strip().lower(), value.strip()
                if name == "content-length":
                    length = int(value)
                headers.append((name.encode("latin-1"), value.encode("latin-1")))
            body = await reader.readexactly(length) if length else b""
            path, _, query = target.partition("?")
            scope = {
                "type": "http",
                "asgi": {"version": "3.0", "spec_version": "2.3"},
                "http_version": "1.1",
                "method": method,
                "scheme": "http",
                "path": urllib.parse.unquote(path),
                "raw_path": path.encode("latin-1"),
                "query_string": query.encode("latin-1"),
                "root_path": "",
                "headers": headers,
                "client": writer.get_extra_info("peername")[:2],
                "server": ("127.0.0.1", port),
            }
            done = asyncio.Event()
            pending = [{"type": "http.request", "body": body, "more_body": False}]

            async def receive():
                if pending:
                    return pending.pop()
                await done.wait()
                return {"type": "http.disconnect"}

            out = []

            async def send(message):
                if message["type"] == "http.response.start":
                    status = message["status"]
                    out.append(b"HTTP/1.1 %d X\r\n" % status)
                    for k, v in message.get("headers", []):
                        if k.lower() != b"connection":
                            out.append(k + b": " + v + b"\r\n")
                    out.append(b"connection: close\r\n\r\n")
                elif message["type"] == "http.response.body":
                    out.append(message.get("body", b""))

            await app(scope, receive, send)
            done.set()
            writer.write(b"".join(out))
            await writer.drain()
        except Exception as e:  # report, never hang the client
            print("builtin runner:", repr(e), file=sys.stderr, flush=True)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, sock=sock)
    async with server:
        await server.serve_forever()


def main():
    runner = sys.argv[1]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    # Connections queue in the backlog until the server accepts them.
    print("LISTENING", sock.getsockname()[1], runner, flush=True)
    if runner == "uvicorn":
        import uvicorn

        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        uvicorn.Server(config).run(sockets=[sock])
    else:
        asyncio.run(serve_builtin(sock))


main()
