"""The differential machinery itself reports what it should (it can fail)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .differential import first_diff_bit, run, summary, write_failures
from .exificient import Exificient

pytestmark = pytest.mark.oracle

APP_RES = (
    '<a:supportedAppProtocolRes xmlns:a="urn:iso:15118:2:2010:AppProtocol">'
    "<ResponseCode>OK_SuccessfulNegotiation</ResponseCode><SchemaID>{}</SchemaID>"
    "</a:supportedAppProtocolRes>"
)


def test_first_diff_bit() -> None:
    assert first_diff_bit(b"\x80\x00", b"\x80\x00") is None
    assert first_diff_bit(b"\x80\x00", b"\x80\x01") == 15
    assert first_diff_bit(b"\x80\x40", b"\x80\x00") == 9
    assert first_diff_bit(b"\x00", b"\x80") == 0
    assert first_diff_bit(b"\x80", b"\x80\x00") == 8  # one is a prefix of the other


def test_a_wrong_codec_is_caught(exificient: Exificient, tmp_path: Path) -> None:
    cases = [(f"res{i}", APP_RES.format(i)) for i in range(4)]

    def bad_encode(xml: str, *, schema: str, fragment: bool) -> bytes:
        good = exificient.encode(xml, schema=schema, fragment=fragment)
        if "<SchemaID>2<" in xml:
            return good[:3] + bytes([good[3] ^ 0x10]) + good[4:]  # flip bit 27
        if "<SchemaID>3<" in xml:
            raise RuntimeError("boom")
        return good

    def bad_decode(data: bytes, *, schema: str, fragment: bool) -> str:
        xml = exificient.decode(data, schema=schema, fragment=fragment)
        return xml.replace(">1<", ">7<")  # loses information for case 1

    failures, total = run(exificient, cases, schema="app", fragment=False,
                          xml_to_exi=bad_encode, exi_to_xml=bad_decode)
    assert total == 4
    found = {(f.name, f.check) for f in failures}
    assert ("res2", "encode") in found and ("res3", "encode") in found and ("res1", "decode") in found
    assert ("res0", "encode") not in found and ("res0", "decode") not in found
    flipped = next(f for f in failures if f.name == "res2" and f.check == "encode")
    assert flipped.bit == 27
    assert any(f.name == "res3" and "boom" in f.detail for f in failures)

    where = write_failures("machinery", failures, cases, schema="app", fragment=False, root=tmp_path)
    notes = [json.loads(p.read_text()) for p in sorted(where.glob("*.json"))]
    assert {n["name"] for n in notes} == {"res1", "res2", "res3"}
    assert (where / "00002-res2-encode.ours.exi").exists()
    text = summary("machinery", failures, total, where)
    assert "3/4 messages fail" in text and "first: #1 res1 [decode] at bit" in text
