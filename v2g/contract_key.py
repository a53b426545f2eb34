"""Contract private key encryption for CertificateInstallation/UpdateRes (ISO 15118-2).

The MO (or CPS) encrypts the contract certificate's private key for one vehicle:

1. an ephemeral secp256r1 key pair is made; its public key travels as ``DHpublickey``;
2. ECDH of the ephemeral private key with the public key of the vehicle's OEM
   provisioning certificate gives the shared secret Z (the x coordinate, 32 bytes);
3. the single-step concatenation KDF of NIST SP 800-56A (§5.8.1) with SHA-256 derives a
   128-bit key: SHA-256(counter=00000001 || Z || OtherInfo)[:16], where ISO 15118-2 fixes
   OtherInfo = AlgorithmID 0x01 || PartyUInfo 0x55 ("U") || PartyVInfo 0x56 ("V");
4. the 32-byte private key value is encrypted with AES-128-CBC under a random 16-byte IV,
   without padding (two whole blocks), and sent as IV || ciphertext:
   ``ContractSignatureEncryptedPrivateKey``, 48 bytes.

The vehicle decrypts with its provisioning key and the received ``DHpublickey``.
Sans-I/O: bytes and key objects in, bytes and key objects out.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from v2g.errors import FieldRuleError

__all__ = [
    "ENCRYPTED_KEY_LEN",
    "OTHER_INFO",
    "ContractKeyError",
    "EncryptedContractKey",
    "concat_kdf",
    "concat_kdf_sha256",
    "decrypt_contract_key",
    "encrypt_contract_key",
]

OTHER_INFO = bytes([0x01, 0x55, 0x56])  # AlgorithmID, PartyUInfo, PartyVInfo (ISO 15118-2)
KEY_LEN = 16  # AES-128
IV_LEN = 16
PRIVATE_VALUE_LEN = 32  # a P-256 private scalar
ENCRYPTED_KEY_LEN = IV_LEN + PRIVATE_VALUE_LEN  # 48
DH_PUBLIC_KEY_LEN = 65  # uncompressed point 0x04 || X || Y


class ContractKeyError(FieldRuleError):
    """Bad input naming the field and the rule it broke."""


@dataclass(frozen=True)
class EncryptedContractKey:
    dh_public_key: bytes  # 65-byte uncompressed point, DHpublickey
    encrypted_private_key: bytes  # IV || AES-128-CBC(private value), 48 bytes


def concat_kdf(z: bytes, length: int, other_info: bytes, hash_name: str) -> bytes:
    """NIST SP 800-56A single-step (concatenation) KDF: Hash(counter || Z || OtherInfo) for
    counter = 1, 2, ... (big-endian 32 bits), concatenated and cut to ``length`` bytes."""
    out = b""
    counter = 1
    while len(out) < length:
        out += hashlib.new(hash_name, counter.to_bytes(4, "big") + z + other_info).digest()
        counter += 1
    return out[:length]


def concat_kdf_sha256(z: bytes, length: int = KEY_LEN, other_info: bytes = OTHER_INFO) -> bytes:
    """The ISO 15118-2 KDF: the concatenation KDF with SHA-256."""
    return concat_kdf(z, length, other_info, "sha256")


def _public_key(value: ec.EllipticCurvePublicKey | bytes, field: str) -> ec.EllipticCurvePublicKey:
    if isinstance(value, ec.EllipticCurvePublicKey):
        key = value
    else:
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes(value))
        except ValueError as exc:
            raise ContractKeyError(field, "key.point", f"not a secp256r1 point: {exc}") from exc
    if not isinstance(key.curve, ec.SECP256R1):
        raise ContractKeyError(field, "key.curve", "ISO 15118-2 uses secp256r1")
    return key


def _symmetric_key(private: ec.EllipticCurvePrivateKey, public: ec.EllipticCurvePublicKey) -> bytes:
    return concat_kdf_sha256(private.exchange(ec.ECDH(), public))


def encrypt_contract_key(
    contract_key: ec.EllipticCurvePrivateKey,
    provisioning_public_key: ec.EllipticCurvePublicKey | bytes,
    *,
    ephemeral_key: ec.EllipticCurvePrivateKey | None = None,
    iv: bytes | None = None,
) -> EncryptedContractKey:
    """Encrypt ``contract_key`` for the holder of the provisioning certificate's key.

    ``ephemeral_key`` and ``iv`` are for reproducible tests only; leave them None."""
    if not isinstance(contract_key.curve, ec.SECP256R1):
        raise ContractKeyError("contract_key", "key.curve", "ISO 15118-2 uses secp256r1")
    peer = _public_key(provisioning_public_key, "provisioning_public_key")
    eph = ephemeral_key or ec.generate_private_key(ec.SECP256R1())
    iv = iv if iv is not None else os.urandom(IV_LEN)
    if len(iv) != IV_LEN:
        raise ContractKeyError("iv", "iv.length", f"IV is {IV_LEN} bytes")
    value = contract_key.private_numbers().private_value.to_bytes(PRIVATE_VALUE_LEN, "big")
    enc = Cipher(algorithms.AES(_symmetric_key(eph, peer)), modes.CBC(iv)).encryptor()
    ciphertext = enc.update(value) + enc.finalize()
    dh = eph.public_key().public_bytes(serialization.Encoding.X962,
                                       serialization.PublicFormat.UncompressedPoint)
    return EncryptedContractKey(dh, iv + ciphertext)


def decrypt_contract_key(
    encrypted_private_key: bytes,
    dh_public_key: ec.EllipticCurvePublicKey | bytes,
    provisioning_key: ec.EllipticCurvePrivateKey,
) -> ec.EllipticCurvePrivateKey:
    """Recover the contract private key (the vehicle's side)."""
    data = bytes(encrypted_private_key)
    if len(data) != ENCRYPTED_KEY_LEN:
        raise ContractKeyError("encrypted_private_key", "length",
                               f"{ENCRYPTED_KEY_LEN} bytes (IV + 32), got {len(data)}")
    peer = _public_key(dh_public_key, "dh_public_key")
    dec = Cipher(algorithms.AES(_symmetric_key(provisioning_key, peer)),
                 modes.CBC(data[:IV_LEN])).decryptor()
    value = int.from_bytes(dec.update(data[IV_LEN:]) + dec.finalize(), "big")
    # A wrong key or tampered ciphertext gives a random 256-bit number: usually outside
    # [1, n-1] or, inside it, a key that does not match the contract certificate.
    try:
        return ec.derive_private_key(value, ec.SECP256R1())
    except ValueError as exc:
        raise ContractKeyError("encrypted_private_key", "decrypt.range",
                               "decrypted value is not a valid secp256r1 private key") from exc
