"""Pseudonymous identity and encryption at rest.

A contact is known by a keyed hash of its channel address, never by the
address itself. Addresses and message text are stored only encrypted with
MultiFernet, so keys can be rotated: the first key encrypts, all decrypt.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["Cipher", "InvalidToken", "address_hash"]


def address_hash(key: str, channel: str, address: str) -> str:
    digest = hmac.new(key.encode(), f"{channel}:{address}".encode(), hashlib.sha256)
    return digest.hexdigest()


class Cipher:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    def encrypt(self, text: str) -> bytes:
        return self._fernet.encrypt(text.encode("utf-8", "surrogatepass"))

    def decrypt(self, token: bytes) -> str:
        return self._fernet.decrypt(token).decode("utf-8", "surrogatepass")

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt with the current primary key."""
        return self._fernet.rotate(token)
