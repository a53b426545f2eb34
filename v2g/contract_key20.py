"""Contract private key encryption of ISO 15118-20 (SignedInstallationData, without TPM 2.0).

The secondary actor (the MO, or the CPS for it) encrypts the contract certificate's private
key for one vehicle; the vehicle (EVCC) decrypts it. Requirements followed (clause 7.9.2.5
of ISO 15118-20:2022), each tested in tests/pki/test_contract_key20.py:

- ECDHE and KDF [V2G20-2535]: ephemeral-static One-Pass Diffie-Hellman C(1e, 1s, ECC CDH) of
  NIST SP 800-56A, the SA as party U, the EVCC as party V. On secp521r1 ([V2G20-2674]) the
  static key is the OEM provisioning certificate's key; on X448 ([V2G20-2319]) it is the
  X448 "Alternate Subject Public Key" of the Ed448 provisioning certificate ([V2G20-2534])
  and the shared secret is RFC 7748's. KDF: the concatenation KDF with SHA-512, OtherInfo =
  AlgorithmID 0x01 || PartyUInfo "U" (0x55) || PartyVInfo "V" (0x56); a 256-bit key.
- ECDHCurve [V2G20-2487]/[V2G20-2488]: "SECP521" or "X448", the curve of the ECDHE.
- DHPublicKey [V2G20-2489]: the ephemeral public key in uncompressed form, 133 bytes
  (0x04 || X || Y) on secp521r1; 57 bytes on X448 (0x04 || the 56-byte u-coordinate, the
  standard's NOTE 7), never padded to 133 ([V2G20-2495]). The schema's dhPublicKeyType has a
  fixed length of 133, which a 57-byte key breaks: docs/iso20.md, erratum E-ISO20-1. The
  vehicle side also reads the bare 56-byte RFC 7748/8410 form.
- AAD [V2G20-2492]: the PCID in capitals and digits without separators (18 bytes) followed
  by the contract certificate's SKI as upper-case hexadecimal (16 bytes, an 8-byte SKI).
- Encryption [V2G20-2493], [V2G20-2494], [V2G20-2497]/[V2G20-2498], [V2G20-2500]/[V2G20-2501]:
  AES-GCM-256 (NIST SP 800-38D) under the session key, a random 96-bit IV, a 128-bit tag;
  the 521-bit key is padded with 7 leading zero bits to 66 bytes, big-endian; the 448-bit
  key is its 56 bytes.
- Layout [V2G20-2499]/[V2G20-2502]: IV (12) || ciphertext || tag (16):
  SECP521_EncryptedPrivateKey 94 bytes, X448_EncryptedPrivateKey 84 bytes.
- Decryption [V2G20-2503]..[V2G20-2510]: a tag that does not verify rejects the message
  (wrong AAD, IV, ciphertext, tag or key); the 7 leading bits are zero ([V2G20-2678]); the
  521 low bits are the key ([V2G20-2506]), smaller than the curve order and matching the
  contract certificate's public key ([V2G20-2507]); a 448-bit key must match the contract
  public key ([V2G20-2510]).

The 448-bit payload holds an X448 private key (RFC 7748, 56 bytes). An RFC 8032 Ed448
private key is 57 bytes and does not fit the 84-byte field: such a key is refused with
``key.ed448`` (docs/iso20.md, erratum E-ISO20-2). TPM_EncryptedPrivateKey ([V2G20-2518]) is
not covered. Sans-I/O: bytes and key objects in, bytes and key objects out; every refusal is
a :class:`ContractKeyError` naming the field and the rule.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, x448
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from v2g.contract_key import OTHER_INFO, ContractKeyError, concat_kdf

__all__ = [
    "AAD_LEN",
    "ContractKeyError",
    "EcdhCurve",
    "EncryptedContractKey20",
    "KeyField",
    "aad",
    "decrypt_contract_key20",
    "encrypt_contract_key20",
    "session_key",
]

SESSION_KEY_LEN = 32  # AES-256 [V2G20-2535]
IV_LEN = 12  # 96 bits [V2G20-2497]
TAG_LEN = 16  # 128 bits [V2G20-2494]
PCID_LEN = 18
SKI_HEX_LEN = 16
AAD_LEN = PCID_LEN + SKI_HEX_LEN  # 34 [V2G20-2492]
P521_KEY_LEN = 66  # 521 bits padded with 7 leading zero bits [V2G20-2497]
X448_KEY_LEN = 56  # [V2G20-2500]
P521_POINT_LEN = 133  # 0x04 || X || Y [V2G20-2489]
X448_DH_LEN = 57  # 0x04 || u (NOTE 7 to [V2G20-2489])
_P521_ORDER = int(
    "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148"
    "F709A5D03BB5C9B8899C47AEBB6FB71E91386409", 16)


class EcdhCurve(enum.StrEnum):
    """Values of SignedInstallationData/ECDHCurve."""

    SECP521 = "SECP521"
    X448 = "X448"


class KeyField(enum.StrEnum):
    """The element of SignedInstallationData that carries the encrypted key."""

    SECP521 = "SECP521_EncryptedPrivateKey"
    X448 = "X448_EncryptedPrivateKey"


_FIELD_LEN = {KeyField.SECP521: IV_LEN + P521_KEY_LEN + TAG_LEN,  # 94 [V2G20-2499]
              KeyField.X448: IV_LEN + X448_KEY_LEN + TAG_LEN}  # 84 [V2G20-2502]

ContractPrivateKey = ec.EllipticCurvePrivateKey | x448.X448PrivateKey
ContractPublicKey = ec.EllipticCurvePublicKey | x448.X448PublicKey


@dataclass(frozen=True)
class EncryptedContractKey20:
    """What SignedInstallationData carries besides the certificate chain."""

    ecdh_curve: EcdhCurve
    dh_public_key: bytes  # DHPublicKey: 133 bytes (SECP521) or 57 (X448)
    field: KeyField
    encrypted_private_key: bytes  # IV || ciphertext || tag: 94 or 84 bytes


def session_key(shared_secret: bytes) -> bytes:
    """[V2G20-2535]: concatenation KDF, SHA-512, OtherInfo 01 55 56, 256 bits."""
    return concat_kdf(shared_secret, SESSION_KEY_LEN, OTHER_INFO, "sha512")


def aad(pcid: str, contract_ski: bytes) -> bytes:
    """[V2G20-2492]: PCID (18 capitals and digits, separators removed) || SKI as upper-case hex."""
    text = pcid.replace("-", "").upper() if isinstance(pcid, str) else ""
    if len(text) != PCID_LEN or not (text.isascii() and text.isalnum()):
        raise ContractKeyError("pcid", "aad.pcid",
                               f"[V2G20-2492] the AAD starts with the 18-character PCID in capitals"
                               f" and digits; got {pcid!r}")
    if not isinstance(contract_ski, bytes | bytearray) or len(contract_ski) * 2 != SKI_HEX_LEN:
        got = len(contract_ski) if isinstance(contract_ski, bytes | bytearray) else "no"
        raise ContractKeyError("contract_ski", "aad.ski",
                               f"[V2G20-2492] the AAD ends with the contract certificate's SKI as"
                               f" 16 hex characters (an 8-byte SKI); this SKI has {got} bytes")
    return text.encode("ascii") + bytes(contract_ski).hex().upper().encode("ascii")


def _curve_of_static(key: object, field: str) -> EcdhCurve:
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        if isinstance(key.curve, ec.SECP521R1):
            return EcdhCurve.SECP521
        raise ContractKeyError(field, "key.curve",
                               f"ISO 15118-20 ECDHE is on secp521r1 ([V2G20-2674]) or X448"
                               f" ([V2G20-2319]); this key is on {key.curve.name}")
    if isinstance(key, x448.X448PublicKey | x448.X448PrivateKey):
        return EcdhCurve.X448
    if isinstance(key, ed448.Ed448PublicKey | ed448.Ed448PrivateKey):
        raise ContractKeyError(field, "key.ed448",
                               "an Ed448 key does not do ECDHE: use the X448 key the provisioning"
                               " certificate carries as its alternate subject public key"
                               " ([V2G20-2534])")
    raise ContractKeyError(field, "key.type",
                           f"an EC secp521r1 or an X448 key is needed, not {type(key).__name__}")


def _encode_dh(public: ec.EllipticCurvePublicKey | x448.X448PublicKey) -> bytes:
    if isinstance(public, x448.X448PublicKey):
        return b"\x04" + public.public_bytes_raw()
    return public.public_bytes(serialization.Encoding.X962,
                               serialization.PublicFormat.UncompressedPoint)


def _decode_dh(curve: EcdhCurve, data: bytes) -> ec.EllipticCurvePublicKey | x448.X448PublicKey:
    data = bytes(data)
    if curve is EcdhCurve.SECP521:
        if len(data) != P521_POINT_LEN or data[0] != 4:
            raise ContractKeyError("dh_public_key", "dh.length",
                                   f"[V2G20-2489] a SECP521 DHPublicKey is {P521_POINT_LEN} bytes"
                                   f" 0x04 || X || Y; got {len(data)} bytes")
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP521R1(), data)
        except ValueError as exc:
            raise ContractKeyError("dh_public_key", "dh.point",
                                   f"not a secp521r1 point: {exc}") from exc
    if len(data) == X448_DH_LEN and data[0] == 4:
        data = data[1:]
    elif len(data) != X448_KEY_LEN:
        raise ContractKeyError("dh_public_key", "dh.length",
                               f"[V2G20-2489]/[V2G20-2495] an X448 DHPublicKey is {X448_DH_LEN}"
                               f" bytes (0x04 || u) or the bare 56-byte u; got {len(data)} bytes")
    return x448.X448PublicKey.from_public_bytes(data)


def _exchange(private: ec.EllipticCurvePrivateKey | x448.X448PrivateKey,
              public: ec.EllipticCurvePublicKey | x448.X448PublicKey) -> bytes:
    try:
        if isinstance(private, x448.X448PrivateKey):
            assert isinstance(public, x448.X448PublicKey)
            return private.exchange(public)
        assert isinstance(public, ec.EllipticCurvePublicKey)
        return private.exchange(ec.ECDH(), public)
    except ValueError as exc:  # e.g. an X448 point of small order: all-zero secret
        raise ContractKeyError("dh_public_key", "dh.exchange", f"ECDHE failed: {exc}") from exc


def _plaintext(contract_key: object) -> tuple[KeyField, bytes]:
    if isinstance(contract_key, ec.EllipticCurvePrivateKey):
        if not isinstance(contract_key.curve, ec.SECP521R1):
            raise ContractKeyError("contract_key", "key.curve",
                                   "a SECP521_EncryptedPrivateKey holds a secp521r1 key"
                                   f" ([V2G20-2497]); this key is on {contract_key.curve.name}")
        value = contract_key.private_numbers().private_value
        return KeyField.SECP521, value.to_bytes(P521_KEY_LEN, "big")  # 7 zero bits first
    if isinstance(contract_key, x448.X448PrivateKey):
        return KeyField.X448, contract_key.private_bytes_raw()
    if isinstance(contract_key, ed448.Ed448PrivateKey):
        raise ContractKeyError("contract_key", "key.ed448",
                               "an RFC 8032 Ed448 private key is 57 bytes; X448_EncryptedPrivateKey"
                               " carries 56 ([V2G20-2500], [V2G20-2502]); see erratum E-ISO20-2")
    raise ContractKeyError("contract_key", "key.type",
                           f"a secp521r1 or X448 private key is needed, not"
                           f" {type(contract_key).__name__}")


def encrypt_contract_key20(
    contract_key: ContractPrivateKey,
    provisioning_public_key: ec.EllipticCurvePublicKey | x448.X448PublicKey,
    *,
    pcid: str,
    contract_ski: bytes,
    ephemeral_key: ec.EllipticCurvePrivateKey | x448.X448PrivateKey | None = None,
    iv: bytes | None = None,
) -> EncryptedContractKey20:
    """The SA's side: encrypt ``contract_key`` for the vehicle with ``pcid``.

    ``provisioning_public_key`` is the OEM provisioning certificate's secp521r1 key, or the
    X448 key an Ed448 provisioning certificate carries; it selects ECDHCurve. The contract
    key's type selects the field. ``ephemeral_key`` and ``iv`` are for known-answer tests
    only; leave them None ([V2G20-2496]: nothing is kept)."""
    curve = _curve_of_static(provisioning_public_key, "provisioning_public_key")
    if isinstance(provisioning_public_key, ec.EllipticCurvePrivateKey | x448.X448PrivateKey):
        raise ContractKeyError("provisioning_public_key", "key.type", "a public key is needed")
    field, plain = _plaintext(contract_key)
    header = aad(pcid, contract_ski)
    if ephemeral_key is None:
        ephemeral_key = (x448.X448PrivateKey.generate() if curve is EcdhCurve.X448
                         else ec.generate_private_key(ec.SECP521R1()))
    elif _curve_of_static(ephemeral_key, "ephemeral_key") is not curve:
        raise ContractKeyError("ephemeral_key", "key.curve",
                               "the ephemeral key is on the provisioning key's curve")
    iv = os.urandom(IV_LEN) if iv is None else bytes(iv)
    if len(iv) != IV_LEN:
        raise ContractKeyError("iv", "iv.length", f"[V2G20-2497] the IV is {IV_LEN} bytes (96 bits)")
    key = session_key(_exchange(ephemeral_key, provisioning_public_key))
    sealed = AESGCM(key).encrypt(iv, plain, header)  # ciphertext || 16-byte tag
    return EncryptedContractKey20(curve, _encode_dh(ephemeral_key.public_key()), field, iv + sealed)


def decrypt_contract_key20(
    encrypted: EncryptedContractKey20,
    provisioning_key: ec.EllipticCurvePrivateKey | x448.X448PrivateKey,
    *,
    pcid: str,
    contract_ski: bytes,
    contract_public_key: ContractPublicKey,
) -> ContractPrivateKey:
    """The vehicle's side: recover the contract private key and check it belongs to the
    contract certificate (its SKI and public key are given)."""
    try:
        curve = EcdhCurve(encrypted.ecdh_curve)
        field = KeyField(encrypted.field)
    except ValueError as exc:
        raise ContractKeyError("ECDHCurve", "enum", str(exc)) from exc
    if _curve_of_static(provisioning_key, "provisioning_key") is not curve:
        raise ContractKeyError("ECDHCurve", "key.curve",
                               f"ECDHCurve is {curve.value} but the vehicle's key for it is not:"
                               " SECP521 uses the provisioning key, X448 its alternate key"
                               " ([V2G20-2533], [V2G20-2534])")
    data = bytes(encrypted.encrypted_private_key)
    if len(data) != _FIELD_LEN[field]:
        raise ContractKeyError(field.value, "length",
                               f"{_FIELD_LEN[field]} bytes (IV 12, ciphertext, tag 16;"
                               f" [V2G20-2499]/[V2G20-2502]), got {len(data)}")
    header = aad(pcid, contract_ski)
    peer = _decode_dh(curve, encrypted.dh_public_key)
    key = session_key(_exchange(provisioning_key, peer))
    try:
        plain = AESGCM(key).decrypt(data[:IV_LEN], data[IV_LEN:], header)
    except InvalidTag:
        raise ContractKeyError(field.value, "decrypt.tag",
                               "[V2G20-2504] AES-GCM authentication failed: the IV, ciphertext,"
                               " tag, AAD (PCID, contract SKI) or session key differ from the"
                               " sender's") from None
    if field is KeyField.SECP521:
        if plain[0] & 0xFE:
            raise ContractKeyError(field.value, "decrypt.padding",
                                   "[V2G20-2678] the 7 most significant bits are not zero")
        value = int.from_bytes(plain, "big")  # [V2G20-2506]: the 521 low bits
        if not 0 < value < _P521_ORDER:
            raise ContractKeyError(field.value, "decrypt.range",
                                   "[V2G20-2507] the key is not below the secp521r1 order")
        private: ContractPrivateKey = ec.derive_private_key(value, ec.SECP521R1())
    else:
        private = x448.X448PrivateKey.from_private_bytes(plain)  # [V2G20-2509]
    if not _same_public(private.public_key(), contract_public_key):
        rule = "[V2G20-2507]" if field is KeyField.SECP521 else "[V2G20-2510]"
        raise ContractKeyError(field.value, "decrypt.mismatch",
                               f"{rule} the decrypted key does not match the contract"
                               " certificate's public key")
    return private


def _same_public(a: object, b: object) -> bool:
    def raw(k: object) -> bytes | None:
        if isinstance(k, ec.EllipticCurvePublicKey):
            return k.public_bytes(serialization.Encoding.X962,
                                  serialization.PublicFormat.UncompressedPoint)
        if isinstance(k, x448.X448PublicKey):
            return k.public_bytes_raw()
        return None

    ra = raw(a)
    return ra is not None and ra == raw(b)
