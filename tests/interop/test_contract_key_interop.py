"""Contract key encryption, ours against the iso15118 package's (an independent implementation)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from v2g.contract_key import decrypt_contract_key, encrypt_contract_key
from v2g.pki.testpki import TestPki

DRIVER = Path(__file__).with_name("iso15118_driver.py")
N = 20

pytestmark = pytest.mark.oracle


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _run(python: Path, ops: list[dict]) -> list[dict]:
    proc = subprocess.run([str(python), str(DRIVER)], input=json.dumps(ops), capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_ours_encrypts_theirs_decrypts(iso15118_python: Path) -> None:
    pki = TestPki.build(ocsp_signers=False)
    prov = pki["oem1.prov"]
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(N)]
    ops = []
    for k in keys:
        enc = encrypt_contract_key(k, prov.cert.public_key())
        assert len(enc.encrypted_private_key) == 48
        ops.append({"op": "decrypt", "prov_key_pem": prov.key_pem().decode(),
                    "dh_public_key": enc.dh_public_key.hex(),
                    "encrypted": enc.encrypted_private_key.hex()})
    answers = _run(iso15118_python, ops)
    for k, a in zip(keys, answers, strict=True):
        assert int(a["private_value"], 16) == k.private_numbers().private_value


def test_theirs_encrypts_ours_decrypts(iso15118_python: Path) -> None:
    pki = TestPki.build(ocsp_signers=False)
    prov, contract = pki["oem2.prov"], pki["mo1.contract"]
    keys = [contract.key] + [ec.generate_private_key(ec.SECP256R1()) for _ in range(N - 1)]
    ops = [{"op": "encrypt", "prov_cert_der": prov.der.hex(),
            "contract_key_pem": _pem(k)} for k in keys]
    answers = _run(iso15118_python, ops)
    for k, a in zip(keys, answers, strict=True):
        assert len(bytes.fromhex(a["encrypted"])) == 48
        got = decrypt_contract_key(bytes.fromhex(a["encrypted"]), bytes.fromhex(a["dh_public_key"]),
                                   prov.key)
        assert got.private_numbers() == k.private_numbers()
    # the first one is the contract certificate's own key
    first = decrypt_contract_key(bytes.fromhex(answers[0]["encrypted"]),
                                 bytes.fromhex(answers[0]["dh_public_key"]), prov.key)
    assert first.public_key().public_numbers() == contract.cert.public_key().public_numbers()
