"""OpenSSL as an independent judge of our certificates and OCSP responses.

`openssl verify -x509_strict` checks every test chain against RFC 5280 rules OpenSSL
enforces (pathLen, CA flags, key usage, AKI/SKI); `openssl ocsp` makes requests that our
responder answers, and verifies those answers (signature, delegated signer, status).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509

from v2g.pki.ocsp import GOOD, CaIndex, Revoked, respond
from v2g.pki.testpki import TestPki

OPENSSL = shutil.which("openssl")
pytestmark = [pytest.mark.oracle,
              pytest.mark.skipif(OPENSSL is None, reason="openssl command not found")]


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory) -> tuple[TestPki, Path]:
    d = tmp_path_factory.mktemp("pki")
    pki = TestPki.build()
    pki.write(d)
    return pki, d


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPENSSL or "openssl", *args], capture_output=True, text=True, timeout=60,
                          check=False)


def test_openssl_verifies_every_chain_strictly(pki_dir) -> None:
    pki, d = pki_dir
    leaves = [n for n in pki.names() if pki.entries[n].kind.value in ("leaf", "ocsp")]
    assert len(leaves) == 29
    for name in leaves:
        chain = pki.chain(name)
        untrusted = d / f"{name}.untrusted.pem"
        untrusted.write_bytes(b"".join(i.pem for i in chain[1:]) or pki.root_of(name).pem)
        root = d / "certs" / f"{pki.entries[_root_name(pki, name)].name}.pem"
        r = _run("verify", "-x509_strict", "-CAfile", str(root), "-untrusted", str(untrusted),
                 str(d / "certs" / f"{name}.pem"))
        assert r.returncode == 0 and r.stdout.strip().endswith(": OK"), (name, r.stdout, r.stderr)


def _root_name(pki: TestPki, name: str) -> str:
    cur = name
    while pki.entries[cur].kind.value != "root":
        cur = pki.entries[cur].issuer
    return cur


@pytest.mark.parametrize(("leaf", "issuer", "revoked"), [
    ("mo1.contract", "mo1.sub2", False),
    ("oem1.prov", "oem1.sub2", True),
    ("v2g1.cpo.sub2", "v2g1.cpo.sub1", False),
])
def test_openssl_ocsp_round_trip(pki_dir, leaf: str, issuer: str, revoked: bool) -> None:
    pki, d = pki_dir
    cert, ca = d / "certs" / f"{leaf}.pem", d / "certs" / f"{issuer}.pem"
    req = d / f"{leaf}.req.der"
    r = _run("ocsp", "-issuer", str(ca), "-cert", str(cert), "-reqout", str(req))
    assert r.returncode == 0, r.stderr

    import datetime as dt

    status = (Revoked(dt.datetime(2025, 5, 5, tzinfo=dt.UTC), x509.ReasonFlags.key_compromise)
              if revoked else GOOD)
    resp = d / f"{leaf}.resp.der"
    resp.write_bytes(respond(req.read_bytes(), lambda h, s: status, CaIndex(pki.ocsp_signers())))

    trust = d / f"{leaf}.trust.pem"
    trust.write_bytes(pki.root_of(leaf).pem + b"".join(i.pem for i in pki.chain(issuer)))
    # Only -reqin (no -cert, which would make openssl build a new request with a new
    # nonce): openssl then checks our echo of its nonce as well as the signature.
    r = _run("ocsp", "-reqin", str(req), "-respin", str(resp), "-CAfile", str(trust),
             "-resp_text")
    assert r.returncode == 0, r.stderr
    assert "Response verify OK" in r.stderr
    expected = "revoked" if revoked else "good"
    assert f"Cert Status: {expected}" in r.stdout, r.stdout
    assert "OCSP Nonce" in r.stdout
    if revoked:
        assert "Revocation Reason: keyCompromise" in r.stdout


REAL_CHAINS = [
    ("EMP99CQATEST001", "MO Sub2 CA QA G1.1.1", "MO Sub1 CA QA G1.1"),
    ("huboemprovcqa0615", "OEM Sub2 CA QA G1.1.1", "OEM Sub1 CA QA G1.1"),
    ("hubUsEaTest000003", "US OEM Sub2 CA TEST G2.1.1", "US OEM Sub1 CA TEST G2.1"),
    ("CPS 2022.2 QA", "Prov Sub2 CA QA G1.1.1", "Prov Sub1 CA QA G1.1"),
]


@pytest.mark.parametrize(("leaf", "sub2", "sub1"), REAL_CHAINS)
def test_openssl_agrees_on_real_chains(tmp_path: Path, leaf: str, sub2: str, sub1: str) -> None:
    """Same verdict as ours (tests/pki/test_validate.py) with the Sub-CA 1 as anchor."""
    import datetime as dt

    from cryptography.hazmat.primitives import serialization
    from pki.spec_certs import spec_cert

    def pem(cn: str) -> bytes:
        return x509.load_der_x509_certificate(spec_cert(cn)).public_bytes(
            serialization.Encoding.PEM)

    for cn in (leaf, sub2, sub1):
        (tmp_path / f"{cn}.pem").write_bytes(pem(cn))
    at = int(dt.datetime(2022, 6, 1, tzinfo=dt.UTC).timestamp())
    r = _run("verify", "-partial_chain", "-attime", str(at), "-CAfile", str(tmp_path / f"{sub1}.pem"),
             "-untrusted", str(tmp_path / f"{sub2}.pem"), str(tmp_path / f"{leaf}.pem"))
    assert r.returncode == 0 and r.stdout.strip().endswith(": OK"), (r.stdout, r.stderr)
    at = int(dt.datetime(2040, 1, 1, tzinfo=dt.UTC).timestamp())
    r = _run("verify", "-partial_chain", "-attime", str(at), "-CAfile", str(tmp_path / f"{sub1}.pem"),
             "-untrusted", str(tmp_path / f"{sub2}.pem"), str(tmp_path / f"{leaf}.pem"))
    assert r.returncode != 0 and "expired" in (r.stdout + r.stderr)
