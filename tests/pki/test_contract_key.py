"""Contract key encryption: round trips, the KDF, a known answer, and typed errors."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from hypothesis import given, settings
from hypothesis import strategies as st

from v2g.contract_key import (
    OTHER_INFO,
    ContractKeyError,
    concat_kdf_sha256,
    decrypt_contract_key,
    encrypt_contract_key,
)
from v2g.pki.testpki import TestPki


def test_other_info_is_iso15118_2() -> None:
    assert OTHER_INFO == b"\x01\x55\x56"


@given(st.binary(min_size=32, max_size=32), st.integers(1, 80), st.binary(max_size=8))
def test_kdf_matches_cryptography(z: bytes, length: int, info: bytes) -> None:
    ref = ConcatKDFHash(algorithm=hashes.SHA256(), length=length, otherinfo=info).derive(z)
    assert concat_kdf_sha256(z, length, info) == ref


def test_round_trip_with_test_pki(pki: TestPki) -> None:
    prov, contract = pki["oem1.prov"], pki["mo1.contract"]
    enc = encrypt_contract_key(contract.key, prov.cert.public_key())
    assert len(enc.encrypted_private_key) == 48 and len(enc.dh_public_key) == 65
    assert enc.dh_public_key[0] == 4
    back = decrypt_contract_key(enc.encrypted_private_key, enc.dh_public_key, prov.key)
    assert back.public_key().public_numbers() == contract.cert.public_key().public_numbers()
    # a fresh ephemeral key and IV each time
    again = encrypt_contract_key(contract.key, prov.cert.public_key())
    assert again.dh_public_key != enc.dh_public_key
    assert again.encrypted_private_key[:16] != enc.encrypted_private_key[:16]


def test_known_answer_built_from_primitives() -> None:
    """Fixed scalars and IV; expected bytes computed with cryptography's ConcatKDFHash and
    AES-CBC, step by step as ISO 15118-2 describes, independently of our module."""
    prov = ec.derive_private_key(0x1111, ec.SECP256R1())
    eph = ec.derive_private_key(0x2222, ec.SECP256R1())
    contract = ec.derive_private_key(0x3333, ec.SECP256R1())
    iv = bytes(range(16))
    z = eph.exchange(ec.ECDH(), prov.public_key())
    k = ConcatKDFHash(algorithm=hashes.SHA256(), length=16, otherinfo=b"\x01UV").derive(z)
    e = Cipher(algorithms.AES(k), modes.CBC(iv)).encryptor()
    expected = iv + e.update((0x3333).to_bytes(32, "big")) + e.finalize()
    got = encrypt_contract_key(contract, prov.public_key(), ephemeral_key=eph, iv=iv)
    assert got.encrypted_private_key == expected
    assert got.dh_public_key == eph.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 2**255))
def test_any_private_value_round_trips(value: int) -> None:
    prov = ec.generate_private_key(ec.SECP256R1())
    key = ec.derive_private_key(value, ec.SECP256R1())
    enc = encrypt_contract_key(key, prov.public_key())
    assert decrypt_contract_key(enc.encrypted_private_key, enc.dh_public_key, prov).private_numbers() \
        == key.private_numbers()


def test_wrong_provisioning_key_does_not_recover(pki: TestPki) -> None:
    contract = pki["mo1.contract"]
    enc = encrypt_contract_key(contract.key, pki["oem1.prov"].cert.public_key())
    try:
        got = decrypt_contract_key(enc.encrypted_private_key, enc.dh_public_key, pki["oem2.prov"].key)
    except ContractKeyError as exc:
        assert exc.rule == "decrypt.range"
    else:
        assert got.private_numbers() != contract.key.private_numbers()


@pytest.mark.parametrize(
    ("call", "field", "rule"),
    [
        (lambda p: decrypt_contract_key(b"\x00" * 47, p.public_key(), p), "encrypted_private_key",
         "length"),
        (lambda p: decrypt_contract_key(b"\x00" * 48, b"\x04" + b"\x01" * 64, p), "dh_public_key",
         "key.point"),
        (lambda p: encrypt_contract_key(ec.generate_private_key(ec.SECP384R1()), p.public_key()),
         "contract_key", "key.curve"),
        (lambda p: encrypt_contract_key(p, p.public_key(), iv=b"short"), "iv", "iv.length"),
    ],
)
def test_bad_input_is_typed(call, field: str, rule: str) -> None:
    p = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(ContractKeyError) as info:
        call(p)
    assert (info.value.field, info.value.rule) == (field, rule)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=48, max_size=48), st.binary(min_size=65, max_size=65))
def test_decrypt_garbage_is_typed_or_a_key(blob: bytes, dh: bytes) -> None:
    prov = _PROV
    try:
        key = decrypt_contract_key(blob, b"\x04" + dh[1:], prov)
    except ContractKeyError as exc:
        assert exc.rule in {"key.point", "decrypt.range"}
    else:
        assert isinstance(key, ec.EllipticCurvePrivateKey)


_PROV = ec.generate_private_key(ec.SECP256R1())
