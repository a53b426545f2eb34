"""OpenSSL as an independent judge of the ISO 15118-20 test PKI (secp521r1 and Ed448).

`openssl verify -x509_strict` checks every -20 leaf and OCSP-signer chain: signatures with
ECDSA-SHA512 and Ed448, pathLen, CA flags, key usage, AKI/SKI, and that it can read the
subjectAltPublicKeyInfo extension of the Ed448 provisioning certificates.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from v2g.pki.testpki import LAYOUT_20, TestPki

OPENSSL = shutil.which("openssl")
pytestmark = [pytest.mark.oracle,
              pytest.mark.skipif(OPENSSL is None, reason="openssl command not found")]


def test_openssl_verifies_every_20_chain_strictly(tmp_path) -> None:
    pki = TestPki.build(layout=LAYOUT_20)
    pki.write(tmp_path)
    leaves = [n for n in pki.names() if pki.entries[n].kind.value in ("leaf", "ocsp")]
    assert len(leaves) == 2 * (6 + 13)
    for name in leaves:
        chain = pki.chain(name)
        untrusted = tmp_path / f"{name}.untrusted.pem"
        untrusted.write_bytes(b"".join(i.pem for i in chain[1:]) or pki.root_of(name).pem)
        root = tmp_path / f"{name}.root.pem"
        root.write_bytes(pki.root_of(name).pem)
        r = subprocess.run([OPENSSL or "openssl", "verify", "-x509_strict", "-CAfile", str(root),
                            "-untrusted", str(untrusted), str(tmp_path / "certs" / f"{name}.pem")],
                           capture_output=True, text=True, timeout=60, check=False)
        assert r.returncode == 0 and r.stdout.strip().endswith(": OK"), (name, r.stdout, r.stderr)
