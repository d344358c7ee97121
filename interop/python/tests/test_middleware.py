"""SessionMiddleware against the Go Manager's rules (middleware.go,
cookies.go): lazy load, write only on change, throttled idle refresh,
re-seal on a stale key, chunks and the cleanup of leftover ones, cookie
attributes and prefixes, Max-Age, deletion cookies, cache headers. Each
test states what the handler does with the session, and runs twice: with
the middleware called as plain ASGI (exactly the headers given), and
installed in a Starlette app driven by its TestClient."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import pytest

import sealed_session as ss
from conftest import Clock, Response, asgi_request
from sealed_session import Key, KeyRing, SessionMiddleware

K_NEW = Key("2026-11", bytes(range(32)))
K_OLD = Key("2026-10", bytes(range(1, 33)))
RING = KeyRing([K_NEW])
T0 = 1763726400


class Browser:
    """A client with a cookie jar, in front of a SessionMiddleware whose app
    runs the handler given to each request. With transport "starlette" the
    middleware is installed in a Starlette app and driven by its TestClient;
    with "asgi" it is called directly, with exactly the headers given."""

    transport = "asgi"

    def __init__(self, clock: Clock, **options: Any) -> None:
        self.clock = clock
        self.jar: Dict[str, str] = {}
        self.errors: List[BaseException] = []
        self.handler: Callable[[ss.Session], Any] = lambda s: None
        self.headers: Sequence[Tuple[str, str]] = ()
        options.setdefault("keys", RING)
        options.setdefault("on_error", lambda e, scope: self.errors.append(e))
        self.mw = SessionMiddleware(self._app, now=clock, **options)
        if self.transport == "starlette":
            from starlette.applications import Starlette
            from starlette.middleware import Middleware
            from starlette.requests import Request
            from starlette.responses import Response as StarletteResponse
            from starlette.routing import Route
            from starlette.testclient import TestClient

            async def endpoint(request: Request) -> StarletteResponse:
                result = self.handler(request.session)
                resp = StarletteResponse(json.dumps(result, default=repr), media_type="application/json")
                resp.raw_headers += [(k.lower().encode(), v.encode()) for k, v in self.headers]
                return resp

            app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(SessionMiddleware, now=clock, **options)])
            self.client = TestClient(app, base_url="https://testserver")

    async def _app(self, scope: Any, receive: Any, send: Any) -> None:
        result = self.handler(scope["session"])
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(k.encode(), v.encode()) for k, v in self.headers],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(result, default=repr).encode()})

    def cookie_header(self) -> List[str]:
        return ["; ".join(f"{n}={v}" for n, v in sorted(self.jar.items()))] if self.jar else []

    def request(
        self, handler: Optional[Callable[[ss.Session], Any]] = None, headers: Sequence[Tuple[str, str]] = ()
    ) -> Response:
        self.handler = handler or (lambda s: None)
        self.headers = headers
        if self.transport == "starlette":
            self.client.cookies.clear()  # this jar is the browser's
            r = self.client.get("/", headers={"cookie": line for line in self.cookie_header()})
            resp = Response(r.status_code, [(k.encode("latin-1"), v.encode("latin-1")) for k, v in r.headers.multi_items()], r.content)
        else:
            resp = asgi_request(self.mw, self.cookie_header())
        for line in resp.set_cookies:
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if "; Max-Age=0" in line:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        resp.result = json.loads(resp.body)
        return resp

    def opened(self, **kw: Any) -> ss.OpenedSession:
        kw.setdefault("name", self.mw.name)
        kw.setdefault("budget", self.mw.budget)
        kw.setdefault("chunk_size", self.mw.chunk_size)
        s = ss.open_session(kw.pop("ring", RING), self.jar, now=self.clock(), **kw)
        assert s is not None
        return s


def put(**kv: Any) -> Callable[[ss.Session], None]:
    def f(s: ss.Session) -> None:
        for k, v in kv.items():
            s[k] = v

    return f


def read(s: ss.Session) -> Dict[str, Any]:
    return dict(s)


def names(resp: Response) -> List[str]:
    return [c.split("=", 1)[0] + ("-" if "; Max-Age=0" in c else "") for c in resp.set_cookies]


def attrs(line: str) -> str:
    """A Set-Cookie line with its value elided."""
    name, _, rest = line.partition("=")
    return name + "=…" + rest[rest.index(";") :] if ";" in rest else line


@pytest.fixture(autouse=True, params=["asgi", "starlette"])
def transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs every test with the middleware called directly and under Starlette's TestClient."""
    if request.param == "starlette":
        pytest.importorskip("starlette")
        pytest.importorskip("httpx")
    monkeypatch.setattr(Browser, "transport", request.param)
    return request.param


@pytest.fixture
def browser(clock: Clock) -> Browser:
    return Browser(clock)


# --- Lazy load and write on change --------------------------------------------


def test_untouched_session_is_never_read(browser: Browser) -> None:
    browser.jar = {"session": "garbage", "session.1": "more"}
    resp = browser.request()
    assert resp.set_cookies == [] and resp.get_list("vary") == [] and browser.errors == []


def test_read_without_cookie(browser: Browser) -> None:
    resp = browser.request(read)
    assert resp.result == {} and resp.set_cookies == []
    assert resp.get_list("vary") == ["Cookie"] and resp.get_list("cache-control") == []


def test_new_session(browser: Browser, clock: Clock) -> None:
    clock.t = T0 + 0.7
    resp = browser.request(put(user="alice"))
    assert [attrs(c) for c in resp.set_cookies] == ["session=…; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax"]
    assert resp.get_list("vary") == ["Cookie"]
    assert resp.get_list("cache-control") == ['no-cache="Set-Cookie"']
    s = browser.opened()
    assert s.session == {"user": "alice"} and s.flashes == []
    assert (s.issued, s.deadline, s.refreshed) == (T0, T0 + 86400, T0)
    assert s.expires == T0 + 86400 and s.minted == T0 * 1000 + 700
    assert len(s.id) == 16 and s.subject == "" and s.persistent is None
    assert s.key_id == "2026-11"


def test_unchanged_session_sends_no_cookie(browser: Browser, clock: Clock) -> None:
    browser.request(put(user="alice", cart=[1]))
    clock.advance(3600)
    for handler in (read, lambda s: s.get("user"), lambda s: "cart" in s, lambda s: s.info, lambda s: s.flashes()):
        resp = browser.request(handler)
        assert resp.set_cookies == [] and resp.get_list("vary") == ["Cookie"]
        assert resp.get_list("cache-control") == []


def test_every_change_is_written(browser: Browser, clock: Clock) -> None:
    browser.request(put(user="alice", cart=[]))
    first = browser.opened()
    changes = [
        put(user="alice"),  # an assignment is a change, as the Manager's Put, even to the same value
        lambda s: s["cart"].append(1),  # nested: found by comparing the JSON
        lambda s: s.setdefault("theme", "dark"),
        lambda s: s.pop("theme"),
        lambda s: s.update(n=1),
        lambda s: s.__delitem__("n"),
    ]
    for change in changes:
        clock.advance(10)
        resp = browser.request(change)
        assert names(resp) == ["session"], change
        s = browser.opened()
        assert (s.issued, s.deadline, s.id) == (first.issued, first.deadline, first.id)  # the same session
        assert s.refreshed == clock.t
    assert browser.opened().session == {"user": "alice", "cart": [1]}
    # Reads that change nothing write nothing.
    for nothing in (lambda s: s.setdefault("user", "bob"), lambda s: s.pop("missing", None), lambda s: s.update()):
        assert browser.request(nothing).set_cookies == []


def test_delete_missing_key(browser: Browser) -> None:
    def delete(s: ss.Session) -> str:
        try:
            del s["nope"]
        except KeyError:
            return "KeyError"
        return "deleted"

    resp = browser.request(delete)
    assert resp.result == "KeyError" and resp.set_cookies == []


# --- Expiry: absolute deadline, idle timeout and its throttled refresh ---------


def test_deadline_and_max_age(clock: Clock) -> None:
    b = Browser(clock, lifetime=100)
    b.request(put(n=1))
    clock.advance(40)
    resp = b.request(put(n=2))
    assert "; Max-Age=60;" in resp.set_cookies[0]
    assert b.opened().expires == T0 + 100
    clock.advance(59)
    assert b.request(read).result == {"n": 2}
    clock.advance(1)
    resp = b.request(read)
    assert resp.result == {} and names(resp) == ["session-"]
    assert [type(e) for e in b.errors] == [ss.Expired]


def test_idle_refresh_is_throttled(clock: Clock) -> None:
    b = Browser(clock, idle_timeout=600)  # refresh after 300 s
    b.request(put(user="alice"))
    assert b.opened().expires == T0 + 600
    clock.advance(299)
    assert b.request(read).set_cookies == []
    clock.advance(1)
    resp = b.request(read)
    assert [attrs(c) for c in resp.set_cookies] == ["session=…; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=Lax"]
    s = b.opened()
    assert (s.issued, s.refreshed, s.expires) == (T0, T0 + 300, T0 + 900)
    clock.advance(599)
    assert b.request(read).result == {"user": "alice"}  # refreshed again (>= 300 s)
    assert b.opened().refreshed == T0 + 899
    clock.advance(600)
    resp = b.request(read)
    assert resp.result == {} and names(resp) == ["session-"] and isinstance(b.errors[-1], ss.Expired)


def test_idle_refresh_setting_and_deadline_cap(clock: Clock) -> None:
    b = Browser(clock, idle_timeout=600, idle_refresh=60, lifetime=1000)
    b.request(put(user="alice"))
    clock.advance(59)
    assert b.request(read).set_cookies == []
    clock.advance(1)
    assert b.request(read).set_cookies != []
    clock.advance(500)  # T0 + 560: the idle window would end at 1160, the deadline is 1000
    resp = b.request(read)
    assert "; Max-Age=440;" in resp.set_cookies[0] and b.opened().expires == T0 + 1000


def test_clock_skew(clock: Clock) -> None:
    b = Browser(clock, lifetime=100, clock_skew=5.9)  # whole seconds: 5
    b.request(put(n=1))
    clock.advance(104.9)
    assert b.request(read).result == {"n": 1}
    clock.advance(0.1)
    assert b.request(read).result == {}


# --- Keys ----------------------------------------------------------------------


def test_stale_key_is_resealed(clock: Clock) -> None:
    old = Browser(clock, keys=KeyRing([K_OLD]))
    old.request(put(user="alice"))
    before = old.opened(ring=KeyRing([K_OLD]))
    rotated = Browser(clock, keys=KeyRing([K_NEW, K_OLD]))
    rotated.jar = dict(old.jar)
    clock.advance(10)
    resp = rotated.request(lambda s: s.info.stale)
    assert resp.result is True and names(resp) == ["session"]
    after = rotated.opened()
    assert (after.key_id, after.stale) == ("2026-11", False)
    assert (after.issued, after.deadline, after.id, after.session) == (before.issued, before.deadline, before.id, before.session)
    assert rotated.request(read).set_cookies == []  # now fresh


def test_keys_callable_rotates_without_restart(clock: Clock) -> None:
    current = [KeyRing([K_OLD])]
    b = Browser(clock, keys=lambda: current[0])
    b.request(put(n=1))
    current[0] = KeyRing([K_NEW, K_OLD])
    assert names(b.request(read)) == ["session"]
    current[0] = KeyRing([K_NEW])
    assert b.request(read).result == {"n": 1}


def test_invalid_cookies_are_cleared_and_reported(clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    b = Browser(clock)
    b.request(put(user="alice"))
    good = b.jar["session"]
    cases = [
        (good[:-2] + ("AA" if good[-2:] != "AA" else "BA"), ss.Invalid, logging.WARNING),
        (ss.seal(KeyRing([Key.generate("x")]), "session", b"{}", T0 + 10), ss.UnknownKey, logging.WARNING),
        ("garbage", ss.Malformed, logging.DEBUG),
    ]
    for value, cls, level in cases:
        b.jar = {"session": value}
        resp = b.request(read)
        assert resp.result == {} and [attrs(c) for c in resp.set_cookies] == [
            "session=…; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"
        ]
        assert resp.set_cookies[0].startswith("session=;")
        assert isinstance(b.errors[-1], cls)
        # Without on_error: logged, at WARNING for what points to an attack or a deployment mistake.
        quiet = SessionMiddleware(b._app, keys=RING, now=clock)
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="sealed_session"):
            asgi_request(quiet, [f"session={value}"])
        assert [r.levelno for r in caplog.records] == [level]
        assert value[:20] not in caplog.text or value == "garbage"


def test_purpose_separates_applications(clock: Clock) -> None:
    billing = Browser(clock, purpose="billing")
    billing.request(put(user="alice"))
    admin = Browser(clock, purpose="admin")
    admin.jar = dict(billing.jar)
    assert admin.request(read).result == {} and isinstance(admin.errors[0], ss.Invalid)
    assert billing.request(read).result == {"user": "alice"}


# --- Chunks ----------------------------------------------------------------------


def blob(n: int) -> str:
    import random

    r = random.Random(n)
    return "".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


THREE, TWO = 6500, 4500  # session sizes that take three and two chunks


def test_chunks_grow_shrink_and_cleanup(browser: Browser) -> None:
    assert browser.mw.chunk_size == 4031
    resp = browser.request(put(big=blob(THREE)))
    assert names(resp) == ["session.0", "session.1", "session.2"]
    for line in resp.set_cookies:
        assert len(line) <= 4096 and "; Max-Age=86400; HttpOnly; Secure; SameSite=Lax" in line
    lens = [len(browser.jar[f"session.{i}"]) for i in range(3)]
    assert lens[0] == lens[1] == 4031 and 0 < lens[2] < 4031
    assert browser.opened().session["big"] == blob(THREE)
    with pytest.raises(ss.Invalid):  # sealed for "session#3", not "session"
        ss.open(RING, "session", "".join(browser.jar[f"session.{i}"] for i in range(3)), T0, max_len=20000)

    # 3 chunks to 2: the third is expired.
    resp = browser.request(put(big=blob(TWO)))
    assert names(resp) == ["session.0", "session.1", "session.2-"]
    # 2 chunks to one cookie: both chunks expired.
    resp = browser.request(put(big="small"))
    assert names(resp) == ["session", "session.0-", "session.1-"]
    # One cookie to chunks: the unchunked cookie expired.
    resp = browser.request(put(big=blob(TWO)))
    assert names(resp) == ["session.0", "session.1", "session-"]
    assert sorted(browser.jar) == ["session.0", "session.1"]
    assert browser.opened().session["big"] == blob(TWO)


def test_last_chunk_is_never_full(browser: Browser) -> None:
    # Find a session whose value is exactly 2 * 4031 characters: it is written
    # as three chunks of 4030, 4030 and 2.
    for n in range(5800, 6000):
        browser.jar = {}
        browser.request(put(big=blob(n)))
        if sum(len(v) for v in browser.jar.values()) == 2 * 4031:
            assert [len(browser.jar[f"session.{i}"]) for i in range(3)] == [4030, 4030, 2]
            assert browser.opened().session["big"] == blob(n)
            return
    pytest.fail("no session of exactly two chunks' length")


def test_leftover_chunk_is_ignored_then_expired(browser: Browser, clock: Clock) -> None:
    browser.request(put(big=blob(THREE)))
    browser.jar["session.3"] = "A" * 4031  # from an older, longer session
    clock.advance(5)
    resp = browser.request(read)
    assert resp.result["big"] == blob(THREE) and resp.set_cookies == []  # ignored, not yet cleaned
    resp = browser.request(put(n=1))
    assert names(resp) == ["session.0", "session.1", "session.2", "session.3-"]
    assert "session.3" not in browser.jar


def test_plain_cookie_wins_over_chunks(browser: Browser) -> None:
    browser.request(put(big=blob(THREE)))
    chunks = dict(browser.jar)
    browser.jar = {}
    browser.request(put(user="alice"))
    browser.jar.update(chunks)
    assert browser.request(read).result == {"user": "alice"}
    resp = browser.request(put(user="bob"))
    assert names(resp) == ["session", "session.0-", "session.1-", "session.2-"]


def test_missing_chunk_is_malformed_and_cleared(browser: Browser) -> None:
    browser.request(put(big=blob(THREE)))
    del browser.jar["session.2"]
    resp = browser.request(read)
    assert resp.result == {} and names(resp) == ["session.0-", "session.1-"]
    assert isinstance(browser.errors[0], ss.Malformed) and "session.2 missing" in str(browser.errors[0])


def test_too_many_chunks(clock: Clock) -> None:
    b = Browser(clock, chunk_budget=2)
    b.request(put(n=1))
    resp = b.request(put(big=blob(THREE)))
    assert resp.set_cookies == [] and isinstance(b.errors[-1], ss.TooLarge)
    assert resp.get_list("vary") == []  # as Go: a failed write adds no header
    assert b.request(read).result == {"n": 1}  # the previous cookie is intact
    b.jar = {f"session.{i}": "A" * 100 for i in range(3)}
    assert b.request(read).result == {} and isinstance(b.errors[-1], ss.TooLarge)


def test_budget_of_one_and_max_session_len(clock: Clock) -> None:
    b = Browser(clock, chunk_budget=1)
    assert b.mw.max_session_len() == 4031 * 6 // 8 - 54 - 27 - 25
    room = b.mw.max_session_len() - len('{"b":""}')
    assert names(b.request(put(b="x" * room))) == ["session"]
    assert b.request(put(b="x" * (room + 1))).set_cookies == [] and isinstance(b.errors[-1], ss.TooLarge)
    big = Browser(clock)
    room = big.mw.max_session_len() - len('{"b":""}')
    assert len(big.request(put(b=blob(room))).set_cookies) == 4
    assert big.request(put(b=blob(room + 1))).set_cookies == []


def test_compression(clock: Clock) -> None:
    b = Browser(clock, compress_above=256)
    b.request(put(cart=[{"sku": "A-1", "qty": 1}] * 500))
    assert list(b.jar) == ["session"] and len(b.jar["session"]) < 1000
    assert b.opened().session["cart"][499] == {"sku": "A-1", "qty": 1}
    assert b.request(read).result["cart"][0]["sku"] == "A-1"


# --- Destroy, flashes, renew, remember me -----------------------------------------


def test_destroy_and_clear(browser: Browser) -> None:
    for end in (lambda s: s.destroy(), lambda s: s.clear()):
        browser.request(put(big=blob(THREE), user="alice"))

        def logout(s: ss.Session) -> Any:
            end(s)
            return [dict(s), s.exists]

        resp = browser.request(logout)
        assert resp.result == [{}, False]
        assert names(resp) == ["session.0-", "session.1-", "session.2-"] and browser.jar == {}
        assert resp.get_list("cache-control") == ['no-cache="Set-Cookie"']


def test_flashes(browser: Browser) -> None:
    resp = browser.request(lambda s: s.flash("Saved."))
    assert names(resp) == ["session"]
    s = browser.opened()
    assert s.value is None and s.id is None and s.flashes == ["Saved."] and s.deadline == T0 + 86400
    assert browser.request(read).result == {}
    resp = browser.request(lambda s: s.flashes())
    assert resp.result == ["Saved."] and names(resp) == ["session-"]  # nothing left: expired
    # With a session, and across a logout.
    browser.request(put(user="alice"))
    browser.request(lambda s: (s.flash("one"), s.flash("two")))
    assert browser.opened().flashes == ["one", "two"]
    resp = browser.request(lambda s: (s.destroy(), s.flash("Signed out.")))
    assert names(resp) == ["session"]
    s = browser.opened()
    assert s.value is None and s.flashes == ["Signed out."]
    assert browser.request(lambda s: [s.flashes(), s.flashes(), s.exists]).result == [["Signed out."], [], False]


def test_renew(browser: Browser, clock: Clock) -> None:
    browser.request(put(user="alice"))
    first = browser.opened()
    clock.advance(100)
    browser.request(lambda s: s.renew())
    s = browser.opened()
    assert (s.issued, s.deadline) == (T0 + 100, T0 + 100 + 86400) and s.id != first.id
    assert s.minted == (T0 + 100) * 1000 and s.session == {"user": "alice"}
    assert Browser(clock).request(lambda s: s.renew()).set_cookies == []  # without a session: nothing


def test_remember_me_and_browser_session(clock: Clock) -> None:
    b = Browser(clock, browser_session=True)
    resp = b.request(put(user="alice"))
    assert "Max-Age" not in resp.set_cookies[0] and b.opened().persistent is None
    resp = b.request(lambda s: s.remember_me(True))
    assert "; Max-Age=86400;" in resp.set_cookies[0] and b.opened().persistent is True
    resp = b.request(put(n=1))  # the choice is sealed: it holds
    assert "; Max-Age=86400;" in resp.set_cookies[0]
    d = Browser(clock)
    d.request(put(user="bob"))
    resp = d.request(lambda s: s.remember_me(False))
    assert "Max-Age" not in resp.set_cookies[0] and d.opened().persistent is False
    assert Browser(clock).request(lambda s: s.remember_me(True)).set_cookies == []


def test_legacy_payload_gets_an_identity(clock: Clock) -> None:
    # A session sealed before identities: re-sealed with an ID minted at issued.
    from sealed_session.payload import Payload, seal_session

    b = Browser(clock, subject=lambda s: s.get("user", ""))
    b.jar = seal_session(RING, Payload(issued=T0 - 50, deadline=T0 + 1000, refreshed=T0 - 50, value=b'{"user":"alice"}'))
    assert b.request(lambda s: s.info.subject).result == "alice"
    b.request(put(n=1))
    s = b.opened()
    assert len(s.id) == 16 and s.minted == (T0 - 50) * 1000 and s.subject == "alice"


def test_subject_and_validate(clock: Clock) -> None:
    b = Browser(clock, subject=lambda s: s.get("user", ""), validate=lambda s, info: s.get("gen", 0) >= 1)
    b.request(put(user="alice", gen=1))
    assert b.opened().subject == "alice"
    assert b.request(lambda s: s.info.subject).result == "alice"
    b.request(put(gen=0))
    resp = b.request(read)
    assert resp.result == {} and names(resp) == ["session-"] and isinstance(b.errors[-1], ss.Rejected)
    b.request(put(user="é" * 128))  # 256 bytes
    assert b.jar == {} and "subject" in str(b.errors[-1])


# --- Headers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "given, want",
    [
        ([], ['no-cache="Set-Cookie"']),
        (["no-store"], ["no-store"]),
        (["private"], ["private"]),
        (["max-age=0, no-cache"], ["max-age=0, no-cache"]),
        (['no-cache="Set-Cookie, X-A"'], ['no-cache="Set-Cookie, X-A"']),
        (['private="set-cookie"'], ['private="set-cookie"']),
        (['private="X-Debug"'], ['private="X-Debug", no-cache="Set-Cookie"']),
        (["max-age=60", "public"], ["max-age=60", 'public, no-cache="Set-Cookie"']),
        (['no-cache="X-A, Set-Cookie2"'], ['no-cache="X-A, Set-Cookie2", no-cache="Set-Cookie"']),
    ],
)
def test_cache_control(browser: Browser, given: List[str], want: List[str]) -> None:
    resp = browser.request(put(n=1), headers=[("Cache-Control", v) for v in given])
    assert resp.get_list("cache-control") == want


@pytest.mark.parametrize(
    "given, want",
    [
        ([], ["Cookie"]),
        (["Accept-Encoding"], ["Accept-Encoding", "Cookie"]),
        (["accept, COOKIE"], ["accept, COOKIE"]),
        (["*"], ["*"]),
    ],
)
def test_vary(browser: Browser, given: List[str], want: List[str]) -> None:
    assert browser.request(read, headers=[("Vary", v) for v in given]).get_list("vary") == want
    assert browser.request(put(n=1), headers=[("Vary", v) for v in given]).get_list("vary") == want


def test_handler_set_cookies_come_first(browser: Browser) -> None:
    resp = browser.request(put(n=1), headers=[("Set-Cookie", "theme=dark")])
    assert resp.set_cookies[0] == "theme=dark" and resp.set_cookies[1].startswith("session=")


def test_cookie_header_parsing(browser: Browser) -> None:
    browser.request(put(user="alice"))
    good = browser.jar["session"]
    other = Browser(browser.clock)
    other.request(put(user="bob"))
    bob = other.jar["session"]
    # The first occurrence wins (the most specific Path); quotes are removed;
    # several Cookie lines are read in order.
    for lines, user in [
        ([f"session={good}; session={bob}"], "alice"),
        ([f'a=1;session="{bob}"  ;session={good}'], "bob"),
        (["x=1", f"session={good}", f"session={bob}"], "alice"),
        ([f"  session = {good} "], "alice"),
    ]:
        browser.handler = read
        seen: Dict[str, Any] = {}

        def h(s: ss.Session) -> Any:
            seen["d"] = dict(s)

        browser.handler = h
        asgi_request(browser.mw, lines)
        assert seen["d"] == {"user": user}, lines
    # Chunk names: decimal without leading zeros, below 64; others are not ours.
    seen2: Dict[str, Any] = {}

    def h2(s: ss.Session) -> None:
        seen2["d"] = dict(s)

    browser.handler = h2
    resp = asgi_request(browser.mw, [f"session.00=x; session.64=y; session.a=z; sessionx=1; session={good}"])
    assert seen2["d"] == {"user": "alice"} and resp.set_cookies == []


def test_headers_written_is_reported(browser: Browser) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope["session"]["a"] = 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        scope["session"]["b"] = 2  # too late: the headers are gone
        await send({"type": "http.response.body", "body": b""})

    errors: List[BaseException] = []
    mw = SessionMiddleware(app, keys=RING, now=browser.clock, on_error=lambda e, scope: errors.append(e))
    resp = asgi_request(mw)
    assert len(resp.set_cookies) == 1 and [type(e) for e in errors] == [ss.HeadersWritten]
    jar = {"session": resp.set_cookies[0].split("=", 1)[1].split(";")[0]}
    assert ss.open_session(RING, jar, now=browser.clock()).session == {"a": 1}


def test_non_http_scopes_pass_through(clock: Clock) -> None:
    seen: List[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append("session" in scope)

    asyncio.run(SessionMiddleware(app, keys=RING, now=clock)({"type": "lifespan"}, None, None))
    assert seen == [False]


# --- Cookie attributes and options ----------------------------------------------


@pytest.mark.parametrize(
    "options, line",
    [
        ({}, "session=…; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax"),
        (
            {"name": "__Host-Http-sid", "same_site": "strict", "partitioned": True},
            "__Host-Http-sid=…; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Strict; Partitioned",
        ),
        (
            {"domain": ".example.com", "path": "/app", "same_site": None, "http_only": False, "lifetime": 3600},
            "session=…; Path=/app; Domain=example.com; Max-Age=3600; Secure",
        ),
        ({"secure": False, "same_site": "Lax"}, "session=…; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax"),
        ({"same_site": "none", "domain": "10.0.0.1"}, "session=…; Path=/; Domain=10.0.0.1; Max-Age=86400; HttpOnly; Secure; SameSite=None"),
        ({"name": "__secure-s"}, "__secure-s=…; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax"),
    ],
)
def test_attributes(clock: Clock, options: Dict[str, Any], line: str) -> None:
    b = Browser(clock, **options)
    resp = b.request(put(n=1))
    assert [attrs(c) for c in resp.set_cookies] == [line]
    name = options.get("name", "session")
    b.jar[name + ".1"] = "x"
    resp = b.request(lambda s: s.destroy())
    deletion = re.sub(r"Max-Age=\d+", "Max-Age=0", line).replace("=…", "=", 1)
    assert resp.set_cookies == [deletion, deletion.replace(f"{name}=", f"{name}.1=", 1)]


def test_chunk_size_follows_go(clock: Clock) -> None:
    def longest(name: str, budget: int, **kw: Any) -> int:
        return SessionMiddleware(lambda *a: None, keys=RING, name=name, chunk_budget=budget, **kw).chunk_size

    assert longest("session", 4) == 4096 - len("session.3=; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax") == 4031
    assert longest("sid", 16) == 4096 - len("sid.15=; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax")
    assert longest("s", 1, lifetime=7 * 86400, browser_session=True) == 4096 - len(
        "s.0=; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Lax"
    )
    assert longest("s", 2, domain="example.com", partitioned=True, same_site="none") == 4096 - len(
        "s.1=; Path=/; Domain=example.com; Max-Age=86400; HttpOnly; Secure; SameSite=None; Partitioned"
    )


@pytest.mark.parametrize(
    "options",
    [
        {"name": "__Host-s", "domain": "example.com"},
        {"name": "__host-s", "path": "/app"},
        {"name": "__Host-s", "secure": False},
        {"name": "__Secure-s", "secure": False},
        {"name": "__Http-s", "http_only": False},
        {"name": "__Host-Http-s", "http_only": False},
        {"partitioned": True, "secure": False},
        {"same_site": "none", "secure": False},
        {"same_site": "sometimes"},
        {"name": "a#b"},
        {"name": "a b"},
        {"path": "/a;b"},
        {"domain": "exa mple.com"},
        {"domain": "x" * 64 + ".com"},
        {"domain": ("a" * 60 + ".") * 50 + "com"},  # leaves under 1024 bytes per cookie
        {"chunk_budget": 0},
        {"chunk_budget": 17},
        {"lifetime": 0.5},
        {"idle_timeout": 0.5},
        {"idle_timeout": -1},
        {"idle_timeout": 10, "idle_refresh": 11},
        {"clock_skew": -1},
        {"purpose": "p" * 256},
        {"compress_above": -1},
    ],
)
def test_options_are_checked(options: Dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SessionMiddleware(lambda *a: None, keys=RING, **options)


def test_zero_values_mean_defaults() -> None:
    mw = SessionMiddleware(lambda *a: None, keys=RING, name="", path="", idle_timeout=600, idle_refresh=0)
    assert (mw.name, mw.attrs.path, mw.refresh) == ("session", "/", 300)


def test_keys_text_form(clock: Clock) -> None:
    b = Browser(clock, keys=RING.format())
    b.request(put(n=1))
    assert b.opened().session == {"n": 1}
    with pytest.raises(TypeError):
        SessionMiddleware(lambda *a: None, keys=42)
