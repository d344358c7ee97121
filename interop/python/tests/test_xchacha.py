"""XChaCha20-Poly1305 against draft-irtf-cfrg-xchacha-03, and the HChaCha20
derived from OpenSSL's ChaCha20 keystream against one written from the draft
in pure Python."""

from __future__ import annotations

import os
import struct

import pytest

from sealed_session import _xchacha


def hchacha20_reference(key: bytes, nonce16: bytes) -> bytes:
    """HChaCha20 as draft section 2.2 writes it: twenty rounds, no final addition."""
    mask = 0xFFFFFFFF
    s = list(struct.unpack("<4I", b"expand 32-byte k") + struct.unpack("<8I", key) + struct.unpack("<4I", nonce16))

    def qr(a: int, b: int, c: int, d: int) -> None:
        s[a] = (s[a] + s[b]) & mask
        s[d] ^= s[a]
        s[d] = ((s[d] << 16) & mask) | (s[d] >> 16)
        s[c] = (s[c] + s[d]) & mask
        s[b] ^= s[c]
        s[b] = ((s[b] << 12) & mask) | (s[b] >> 20)
        s[a] = (s[a] + s[b]) & mask
        s[d] ^= s[a]
        s[d] = ((s[d] << 8) & mask) | (s[d] >> 24)
        s[c] = (s[c] + s[d]) & mask
        s[b] ^= s[c]
        s[b] = ((s[b] << 7) & mask) | (s[b] >> 25)

    for _ in range(10):
        qr(0, 4, 8, 12), qr(1, 5, 9, 13), qr(2, 6, 10, 14), qr(3, 7, 11, 15)
        qr(0, 5, 10, 15), qr(1, 6, 11, 12), qr(2, 7, 8, 13), qr(3, 4, 9, 14)
    return struct.pack("<8I", *s[0:4], *s[12:16])


# draft-irtf-cfrg-xchacha-03, section 2.2.1.
HCHACHA_KEY = bytes(range(32))
HCHACHA_NONCE = bytes.fromhex("000000090000004a0000000031415927")
HCHACHA_OUT = bytes.fromhex("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc")

# draft-irtf-cfrg-xchacha-03, appendix A.3.1.
AEAD_KEY = bytes.fromhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
AEAD_NONCE = bytes.fromhex("404142434445464748494a4b4c4d4e4f5051525354555657")
AEAD_AD = bytes.fromhex("50515253c0c1c2c3c4c5c6c7")
AEAD_PLAINTEXT = (
    b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
)
AEAD_CIPHERTEXT = bytes.fromhex(
    "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39"
    "ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
    "21f9664c97637da9768812f615c68b13b52e"
)
AEAD_TAG = bytes.fromhex("c0875924c1c7987947deafd8780acf49")


def test_hchacha20_draft_vector() -> None:
    assert _xchacha.hchacha20(HCHACHA_KEY, HCHACHA_NONCE) == HCHACHA_OUT
    assert hchacha20_reference(HCHACHA_KEY, HCHACHA_NONCE) == HCHACHA_OUT


def test_hchacha20_matches_the_reference_rounds() -> None:
    # Random keys and nonces, and the nonces whose counter word wraps.
    cases = [(os.urandom(32), os.urandom(16)) for _ in range(300)]
    cases += [(os.urandom(32), b"\xff\xff\xff\xff" + os.urandom(12)), (bytes(32), bytes(16)), (b"\xff" * 32, b"\xff" * 16)]
    for key, nonce in cases:
        assert _xchacha.hchacha20(key, nonce) == hchacha20_reference(key, nonce)


def test_aead_draft_vector() -> None:
    sealed = _xchacha.seal(AEAD_KEY, AEAD_NONCE, AEAD_PLAINTEXT, AEAD_AD)
    assert sealed == AEAD_CIPHERTEXT + AEAD_TAG
    assert _xchacha.open_(AEAD_KEY, AEAD_NONCE, sealed, AEAD_AD) == AEAD_PLAINTEXT


def test_aead_rejects_every_change() -> None:
    sealed = AEAD_CIPHERTEXT + AEAD_TAG
    for i in range(len(sealed)):
        bad = bytearray(sealed)
        bad[i] ^= 0x01
        with pytest.raises(_xchacha.InvalidTag):
            _xchacha.open_(AEAD_KEY, AEAD_NONCE, bytes(bad), AEAD_AD)
    with pytest.raises(_xchacha.InvalidTag):
        _xchacha.open_(AEAD_KEY, AEAD_NONCE, sealed, AEAD_AD + b"x")
    with pytest.raises(_xchacha.InvalidTag):
        _xchacha.open_(AEAD_KEY, bytes(24), sealed, AEAD_AD)


def test_argument_lengths() -> None:
    with pytest.raises(ValueError):
        _xchacha.hchacha20(bytes(31), bytes(16))
    with pytest.raises(ValueError):
        _xchacha.seal(bytes(32), bytes(12), b"", b"")
