"""The README's examples (FastAPI, values without the middleware) run as printed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from sealed_session import Key, KeyRing, open_session  # noqa: E402

README = Path(__file__).resolve().parents[1] / "README.md"


def test_fastapi_example(monkeypatch: pytest.MonkeyPatch) -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## FastAPI in 10 lines") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    ring = KeyRing([Key.generate("2026-11"), Key.generate("2026-10")])
    monkeypatch.setenv("SEALED_KEYS", ring.format())
    scope: Dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(code, str(README), "exec", dont_inherit=True), scope)  # noqa: S102 - our own README
    client = TestClient(scope["app"], base_url="https://testserver")
    assert [client.get("/").json()["visits"] for _ in range(3)] == [1, 2, 3]
    s = open_session(ring, dict(client.cookies))
    assert s.session == {"visits": 3} and s.key_id == "2026-11"


def test_values_example(monkeypatch: pytest.MonkeyPatch) -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Values without the middleware") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    ring = KeyRing([Key.generate("k1")])
    monkeypatch.setenv("SEALED_KEYS", ring.format())
    scope: Dict[str, Any] = {"__name__": "readme_values"}
    exec(compile(code, str(README), "exec", dont_inherit=True), scope)  # noqa: S102 - our own README
    assert scope["plaintext"] == b'{"user":"alice"}' and scope["info"].key_id == "k1"
