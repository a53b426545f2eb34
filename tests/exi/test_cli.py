"""``opcp exi decode|encode|verify`` through opcp_cli.main."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from opcp_cli import main
from v2g.exi import decode


@pytest.fixture()
def files(tmp_path: Path, signed_res: bytes, signed_req: bytes, failed_res: bytes,
          signed_data_xml: str) -> dict[str, Path]:
    out = {
        "res.exi": signed_res,
        "req.b64": base64.b64encode(signed_req) + b"\n",
        "failed.exi": failed_res,
        "signed.xml": signed_data_xml.encode(),
        "junk.txt": b"this is neither",
        "trunc.exi": signed_res[:700],
    }
    paths = {}
    for name, data in out.items():
        p = tmp_path / name
        p.write_bytes(data)
        paths[name] = p
    return paths


def test_decode_raw_and_base64(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exi", "decode", str(files["res.exi"])]) == 0
    out = capsys.readouterr().out
    assert "CertificateInstallationRes" in out and out.lstrip().startswith("<")
    assert main(["exi", "decode", str(files["req.b64"])]) == 0
    assert "OEMProvisioningCert" in capsys.readouterr().out


def test_encode_round_trips_decode(files: dict[str, Path], tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str], signed_res: bytes) -> None:
    assert main(["exi", "decode", str(files["res.exi"])]) == 0
    xml_file = tmp_path / "res.xml"
    xml_file.write_text(capsys.readouterr().out)
    assert main(["exi", "encode", str(xml_file), "--base64"]) == 0
    assert base64.b64decode(capsys.readouterr().out) == signed_res


def test_encode_raw_bytes(files: dict[str, Path], capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["exi", "encode", str(files["signed.xml"])]) == 0
    data = capsysbinary.readouterr().out
    assert data[0] == 0x80 and decode(data).tag.endswith("V2G_Message")


def test_fragment_and_schema_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xml = tmp_path / "si.xml"
    xml.write_text('<ds:KeyName xmlns:ds="http://www.w3.org/2000/09/xmldsig#">k1</ds:KeyName>')
    assert main(["exi", "encode", str(xml), "--schema", "xmldsig", "--fragment", "--base64"]) == 0
    b64 = tmp_path / "si.b64"
    b64.write_text(capsys.readouterr().out)
    assert main(["exi", "decode", str(b64), "--schema", "xmldsig", "--fragment"]) == 0
    assert ">k1<" in capsys.readouterr().out


def test_stdin(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(files["req.b64"].read_bytes())))
    assert main(["exi", "decode", "-"]) == 0
    assert "CertificateInstallationReq" in capsys.readouterr().out


def test_verify_valid(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exi", "verify", str(files["res.exi"])]) == 0
    assert capsys.readouterr().out.startswith("valid: 4 reference(s)")
    assert main(["exi", "verify", str(files["req.b64"])]) == 0
    assert main(["exi", "verify", str(files["signed.xml"])]) == 0


def test_verify_invalid_names_the_reason(files: dict[str, Path], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    xml = files["signed.xml"].read_text().replace("EMP99CQATEST001", "EMP99CQATEST002")
    bad = tmp_path / "bad.xml"
    bad.write_text(xml)
    assert main(["exi", "verify", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "invalid: Reference #ID4: digest mismatch" in out


def test_verify_with_explicit_wrong_cert(files: dict[str, Path], tmp_path: Path, signed_res: bytes,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    # the contract certificate is not the signer: the signature value must fail
    root = decode(signed_res)
    cert = root.find(".//{urn:iso:15118:2:2013:MsgBody}ContractSignatureCertChain/"
                     "{urn:iso:15118:2:2013:MsgDataTypes}Certificate")
    assert cert is not None and cert.text
    cert_file = tmp_path / "contract.b64"
    cert_file.write_text(cert.text)
    assert main(["exi", "verify", str(files["res.exi"]), "--cert", str(cert_file)]) == 1
    assert "SignatureValue does not verify" in capsys.readouterr().out


@pytest.mark.parametrize("name,action", [("junk.txt", "decode"), ("trunc.exi", "decode"),
                                         ("failed.exi", "verify"), ("junk.txt", "verify"),
                                         ("signed.xml", "decode")])
def test_unusable_input_exits_2(files: dict[str, Path], name: str, action: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exi", action, str(files[name])]) == 2
    assert capsys.readouterr().err.startswith("opcp exi:")


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exi", "decode", str(tmp_path / "nope")]) == 2


def test_iso20_decode_encode_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.exi.iso20_samples import installation_res
    from v2g import exi

    element, _ = installation_res()
    raw = exi.encode(element, "iso20-common")
    path = tmp_path / "res20.exi"
    path.write_bytes(raw)
    assert main(["exi", "decode", "--iso", "20", str(path)]) == 0
    xml = capsys.readouterr().out
    assert "urn:iso:std:iso:15118:-20:CommonMessages" in xml and "CertificateInstallationRes" in xml
    (tmp_path / "res20.xml").write_text(xml)
    assert main(["exi", "encode", "--iso", "20", "--schema", "common", "--base64",
                 str(tmp_path / "res20.xml")]) == 0
    assert base64.b64decode(capsys.readouterr().out) == raw  # XML back to the same bits
    assert main(["exi", "verify", "--iso", "20", str(path)]) == 0
    # The -2 grammar cannot read a -20 message, and a -2 name is no -20 grammar.
    assert main(["exi", "decode", str(path)]) == 2
    with pytest.raises(SystemExit, match="not a grammar of ISO 15118-20"):
        main(["exi", "decode", "--iso", "20", "--schema", "iso2", str(path)])
