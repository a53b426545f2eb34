"""PKI benchmark: our API against bare `cryptography` doing the same primitive work.

    .venv/bin/python bench/pki.py [--n 1000]

Prints one JSON line: per operation, microseconds per call for ours and the baseline,
and their ratio. Both sides run in the same process, interleaved per operation, so the
ratio is the overhead of our profile/validation logic over the cryptography it calls.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from v2g.contract_key import decrypt_contract_key, encrypt_contract_key
from v2g.ids import emaid_with_check_digit
from v2g.pki.builder import issue
from v2g.pki.testpki import TestPki
from v2g.pki.validate import Purpose, TrustAnchor, TrustStore, validate_chain


def timed(fn: Callable[[int], object], n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    n = ap.parse_args().n

    pki = TestPki.build(ocsp_signers=False)
    sub2, sub1, root = pki["mo1.sub2"], pki["mo1.sub1"], pki["mo1.root"]
    emaids = [emaid_with_check_digit(f"DEOPC{i:09d}") for i in range(n)]
    url = "http://127.0.0.1:8080/ocsp"

    def ours_issue(i: int) -> object:
        return issue("contract_leaf", emaids[i], sub2, ocsp_url=url)

    def base_issue(i: int) -> object:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OPCP Test PKI"),
                          x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "MO"),
                          x509.NameAttribute(NameOID.COMMON_NAME, emaids[i])])
        return (x509.CertificateBuilder().subject_name(name).issuer_name(sub2.cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + dt.timedelta(days=730))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(True, True, False, False, True, False, False,
                                             False, False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                               critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    sub2.cert.public_key()), critical=False)
                .add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
                    AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(url))]),
                    critical=False)
                .sign(sub2.key, hashes.SHA256()))

    leaves = [ours_issue(i).cert for i in range(n)]  # type: ignore[attr-defined]
    store = TrustStore([TrustAnchor(root.cert, root.profile.role)])

    def ours_validate(i: int) -> object:
        return validate_chain([leaves[i], sub2.cert, sub1.cert], store, purpose=Purpose.CONTRACT)

    def base_validate(i: int) -> object:
        now = dt.datetime.now(dt.UTC)
        for c, parent in ((leaves[i], sub2.cert), (sub2.cert, sub1.cert), (sub1.cert, root.cert)):
            c.verify_directly_issued_by(parent)
            if not c.not_valid_before_utc <= now <= c.not_valid_after_utc:
                raise ValueError("expired")
        return None

    prov = pki["oem1.prov"]
    prov_pub = prov.cert.public_key()
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(min(n, 200))]

    def ours_crypt(i: int) -> object:
        enc = encrypt_contract_key(keys[i % len(keys)], prov_pub)
        return decrypt_contract_key(enc.encrypted_private_key, enc.dh_public_key, prov.key)

    def base_crypt(i: int) -> object:
        k = keys[i % len(keys)]
        eph = ec.generate_private_key(ec.SECP256R1())
        def kdf(z):
            return ConcatKDFHash(hashes.SHA256(), 16, b"\x01UV").derive(z)
        iv = os.urandom(16)
        e = Cipher(algorithms.AES(kdf(eph.exchange(ec.ECDH(), prov_pub))), modes.CBC(iv)).encryptor()
        ct = e.update(k.private_numbers().private_value.to_bytes(32, "big")) + e.finalize()
        dh = eph.public_key().public_bytes(serialization.Encoding.X962,
                                           serialization.PublicFormat.UncompressedPoint)
        peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), dh)
        d = Cipher(algorithms.AES(kdf(prov.key.exchange(ec.ECDH(), peer))), modes.CBC(iv)).decryptor()
        return ec.derive_private_key(int.from_bytes(d.update(ct) + d.finalize(), "big"),
                                     ec.SECP256R1())

    out: dict[str, object] = {"n": n, "python": platform.python_version(),
                              "cryptography": __import__("cryptography").__version__}
    for name, ours, base in [("issue_contract", ours_issue, base_issue),
                             ("validate_chain", ours_validate, base_validate),
                             ("encrypt_decrypt_key", ours_crypt, base_crypt)]:
        ours(0), base(0)  # warm up
        o, b = timed(ours, n), timed(base, n)
        out[name] = {"ours_us": round(o, 1), "baseline_us": round(b, 1), "ratio": round(o / b, 2)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
