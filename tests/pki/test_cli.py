"""`opcp pki init|list|validate` through the CLI entry point."""

from __future__ import annotations

import json

from opcp_cli import main
from v2g.pki.testpki import TestPki


def test_init_list_validate(tmp_path, capsys) -> None:
    d = tmp_path / "pki"
    assert main(["pki", "init", str(d), "--ocsp-url", "http://ocsp.example.test/"]) == 0
    pki = TestPki.load(d)
    assert pki["oem1.prov"].cert.extensions  # loads back
    assert main(["pki", "init", str(d)]) == 1  # refuses to overwrite
    assert main(["pki", "init", str(d), "--force"]) == 0
    capsys.readouterr()

    assert main(["pki", "list", str(d)]) == 0
    assert "mo1.contract" in capsys.readouterr().out

    chain = [str(d / "certs" / f"{n}.pem") for n in ("oem1.prov", "oem1.sub2", "oem1.sub1")]
    assert main(["pki", "validate", *chain, "--trust", str(d), "--purpose", "provisioning"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] and out["anchorRole"] == "oem" and out["findings"] == []

    assert main(["pki", "validate", *chain, "--trust", str(d / "certs/v2g1.root.der")]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out == {"valid": False, "position": 2, "subject": out["subject"],
                   "rule": "anchor.not_found", "detail": out["detail"]}
    assert "OPCP OEM Sub1 CA 1" in out["subject"]

    (tmp_path / "junk.pem").write_bytes(b"not a certificate")
    assert main(["pki", "validate", str(tmp_path / "junk.pem"), "--trust", str(d)]) == 1
    assert json.loads(capsys.readouterr().out)["rule"] == "bundle.base64"

    # A PKCS#7 bundle in the wrong order is accepted as one argument.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    pki = TestPki.load(d)
    bag = [pki["mo1.sub1"].cert, pki["mo1.contract"].cert, pki["mo1.sub2"].cert]
    (tmp_path / "chain.p7b").write_bytes(pkcs7.serialize_certificates(bag, serialization.Encoding.PEM))
    assert main(["pki", "validate", str(tmp_path / "chain.p7b"), "--trust", str(d),
                 "--purpose", "contract"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"]
