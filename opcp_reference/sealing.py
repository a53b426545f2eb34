"""Secrets at rest: private keys in the store are sealed with AES-256-GCM.

The sealing key comes from the environment (`OPCP_MASTER_KEY`, 32 bytes in base64), or from
the file named by `OPCP_MASTER_KEY_FILE` (the same base64 text; a secrets mount), or, when
both are unset, from `DATA_DIR/master.key`, generated on first start with mode 0600.
A copy of the store alone therefore yields no usable private key. Several instances of one
ecosystem (one PostgreSQL store) must share the key: `check_master_key` refuses to start an
instance whose key cannot open what the store holds, naming the variables to set.
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
FILE_ENV = "OPCP_MASTER_KEY_FILE"
CHECK_SETTING = "master_key_check"


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
        from_file = os.environ.get(FILE_ENV)
        if from_file:
            try:
                return cls(base64.b64decode(Path(from_file).read_bytes().strip(), validate=True))
            except OSError as exc:
                raise SealingError(f"{FILE_ENV}: cannot read {from_file}: {exc.strerror}") from None
            except (binascii.Error, ValueError):
                raise SealingError(f"{FILE_ENV}: {from_file} must hold 32 bytes in base64") from None
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


def check_master_key(store) -> None:
    """Seal a known value into the store on first use; on later opens, unseal it. A different
    master key (a second instance given none, or the wrong one) fails here, at start, rather
    than at the first token it cannot sign."""
    probe = b"opcp master key check"
    with store.tx() as db:
        db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
                   (CHECK_SETTING, base64.b64encode(store.sealer.seal(probe)).decode()))
    sealed = base64.b64decode(store.get_setting(CHECK_SETTING))
    try:
        opened = store.sealer.unseal(sealed)
    except SealingError:
        opened = None
    if opened != probe:
        raise SealingError(f"the master key does not open this store's secrets ({store.location}):"
                           f" give every instance the same key ({ENV} or {FILE_ENV}, or a shared"
                           " data dir's master.key)")
