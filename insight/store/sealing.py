"""Bullhorn tokens sealed at rest with a key derived from `CALLBRIDGE_SIGNING_KEY` (DESIGN §14).

Fernet (AES-128-CBC + HMAC-SHA256) under a key derived with HKDF-SHA256 from the signing key, so a
deployment has one secret to keep and a copy of the database alone opens no Bullhorn session.
Sealed values carry a prefix; a value without it is a row written before sealing, read as it is
once and sealed again by the vault. During a key rotation the previous signing key still opens
what it sealed (`MultiFernet`), and whatever is sealed anew uses the current key.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "sealed:v1:"
#: binds the derived key to this use, so it is never the key of anything else derived from the same secret
_INFO = b"callbridge: Bullhorn session tokens at rest"


class Unsealable(ValueError):
    """A sealed value no configured key opens (the signing key changed with no previous key kept)."""


def derive_key(signing_key: str) -> bytes:
    raw = HKDF(algorithm=SHA256(), length=32, salt=None, info=_INFO).derive(signing_key.encode())
    return base64.urlsafe_b64encode(raw)


class TokenSealer:
    def __init__(self, signing_keys: Sequence[str]) -> None:
        """`signing_keys`: the current key first, then any previous one still accepted."""
        if not signing_keys:
            raise ValueError("a sealer needs at least one signing key")
        self._fernet = MultiFernet([Fernet(derive_key(key)) for key in signing_keys])

    def seal(self, value: str | None) -> str | None:
        if value is None:
            return None
        return PREFIX + self._fernet.encrypt(value.encode()).decode("ascii")

    def open(self, stored: str | None) -> str | None:
        if stored is None or not is_sealed(stored):
            return stored
        try:
            return self._fernet.decrypt(stored[len(PREFIX):].encode("ascii")).decode()
        except InvalidToken:
            raise Unsealable("no configured signing key opens the stored Bullhorn session") from None


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)
