"""Secrets kept at rest under a key-encryption key (AES-256-GCM): the units' seal keys, agency
systems' client secrets, people's authenticator secrets. Each use has its own KEK setting, its own
demo derivation and its own associated data, so a blob of one kind never opens as another; the
format is ``nonce (12 bytes) ‖ ciphertext+tag``. Built on ``cryptography``."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_NONCE = 12


@dataclass(frozen=True)
class KeyWrap:
    setting: str  # the setting holding the 32-byte KEK, base64 (production: from the environment)
    salt: bytes  # HKDF salt of the demo key derived from SECRET_KEY when the setting is empty
    aad: bytes  # associated data: what kind of secret this is

    def key(self) -> bytes:
        raw: str = getattr(settings, self.setting, "")
        if raw:
            key = base64.b64decode(raw)
            if len(key) != 32:
                raise ValueError(f"{self.setting} must be 32 bytes, base64-encoded")
            return key
        # Demo only: derived from SECRET_KEY so that a fresh checkout works without configuration.
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=self.salt, info=b"v1").derive(
            settings.SECRET_KEY.encode()
        )

    def seal(self, data: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + AESGCM(self.key()).encrypt(nonce, data, self.aad)

    def open(self, blob: bytes | memoryview) -> bytes:
        data = bytes(blob)
        return AESGCM(self.key()).decrypt(data[:_NONCE], data[_NONCE:], self.aad)
