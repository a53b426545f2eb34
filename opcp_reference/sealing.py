"""Secrets at rest: private keys in the store are sealed with AES-256-GCM.

The sealing key comes from the environment (`OPCP_MASTER_KEY`, 32 bytes in base64) or,
when that is unset, from `DATA_DIR/master.key`, generated on first start with mode 0600.
A copy of the SQLite file alone therefore yields no usable private key.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"OPCPSEAL1"
ENV = "OPCP_MASTER_KEY"


class SealingError(RuntimeError):
    pass


class Sealer:
    def __init__(self, key: bytes):
        if len(key) != 32:
            raise SealingError("the master key must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Sealer:
        from_env = os.environ.get(ENV)
        if from_env:
            try:
                return cls(base64.b64decode(from_env, validate=True))
            except (binascii.Error, ValueError):
                raise SealingError(f"{ENV}: must be 32 bytes in base64") from None
        path = data_dir / "master.key"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(base64.b64encode(secrets.token_bytes(32)))
        return cls(base64.b64decode(path.read_bytes()))

    def seal(self, plaintext: bytes, context: bytes = b"") -> bytes:
        nonce = secrets.token_bytes(12)
        return MAGIC + nonce + self._aead.encrypt(nonce, plaintext, context)

    def unseal(self, blob: bytes, context: bytes = b"") -> bytes:
        if not blob.startswith(MAGIC):
            raise SealingError("the value is not sealed")
        nonce, body = blob[len(MAGIC):len(MAGIC) + 12], blob[len(MAGIC) + 12:]
        try:
            return self._aead.decrypt(nonce, body, context)
        except Exception:  # InvalidTag: wrong master key or tampered data
            raise SealingError("cannot unseal: wrong master key or tampered data") from None
