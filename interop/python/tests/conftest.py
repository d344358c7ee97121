"""Shared helpers: the repository's test vectors, key rings built from them,
and a fake clock."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

from sealed_session import Key, KeyRing

REPO = Path(__file__).resolve().parents[3]
TESTDATA = REPO / "testdata"


def load_vectors(name: str) -> List[Dict[str, Any]]:
    """The vectors of testdata/<name>."""
    with open(TESTDATA / name, encoding="utf-8") as f:
        return json.load(f)["vectors"]


def ring_of(keys: List[Dict[str, str]]) -> KeyRing:
    """A ring from a vector's keys: [{id, secret (base64url), suite?}]."""
    return KeyRing(
        Key(k["id"], base64.urlsafe_b64decode(k["secret"] + "=" * (-len(k["secret"]) % 4)), k.get("suite", "xchacha20poly1305"))
        for k in keys
    )


class Clock:
    """A settable clock in Unix seconds, for the middleware's ``now``."""

    def __init__(self, t: float = 1763726400) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()
