"""Golden vectors made by EXIficient (the oracle) from generated XML: one or two messages per
ISO 15118-2 body type, signed-element fragments, SignedInfo fragments (xmldsig grammar) and
SupportedAppProtocol documents, many with undeclared content (xsi:type, xsi:nil, wildcards,
mixed text, out-of-order elements, non-canonical values). For ISO 15118-20
(exificient_vectors_iso20.json, made by tests/oracle/make_iso20_vectors.py): every message
of every -20 schema set and every signed element, as generated with and without undeclared
content.

They let the bit-exactness be checked without Java; tests/oracle runs the live comparison.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from v2g.exi import decode, encode, xml_to_exi

DATA = json.loads((Path(__file__).parent / "data" / "exificient_vectors.json").read_text())
DATA20 = json.loads((Path(__file__).parent / "data" / "exificient_vectors_iso20.json").read_text())
VECTORS = DATA["vectors"] + DATA20["vectors"]


def test_vectors_cover_every_body_type() -> None:
    from v2g.exi.schemas.iso2 import MESSAGE_NAMES

    names = {v["name"].split("/")[1] for v in VECTORS if v["name"].startswith("iso2-doc/")}
    assert set(MESSAGE_NAMES) <= names


def test_iso20_vectors_cover_every_message() -> None:
    from v2g.exi.schemas import load_schema

    for schema, ns in (("iso20-common", "CommonMessages"), ("iso20-dc", "DC"), ("iso20-ac", "AC"),
                       ("iso20-acdp", "ACDP"), ("iso20-wpt", "WPT")):
        messages = {n for (uri, n) in load_schema(schema).elements
                    if uri.endswith(f":-20:{ns}") and n.endswith(("Req", "Res"))}
        names = {v["name"].split("/")[1] for v in DATA20["vectors"] if v["name"].startswith(f"{schema}-doc/")}
        assert messages and messages <= names, sorted(messages - names)
    signed = {v["name"].split("/")[1] for v in DATA20["vectors"] if v["name"].startswith("iso20-common-fragment/")}
    assert {"OEMProvisioningCertificateChain", "SignedInstallationData"} <= signed


@pytest.mark.parametrize("vec", VECTORS, ids=[v["name"] for v in VECTORS])
def test_encode_matches_exificient(vec: dict[str, object]) -> None:
    assert xml_to_exi(str(vec["xml"]), str(vec["schema"]), bool(vec["fragment"])).hex() == vec["exi"]


@pytest.mark.parametrize("vec", VECTORS, ids=[v["name"] for v in VECTORS])
def test_decode_then_encode_reproduces_exificient_bytes(vec: dict[str, object]) -> None:
    data = bytes.fromhex(str(vec["exi"]))
    schema, fragment = str(vec["schema"]), bool(vec["fragment"])
    assert encode(decode(data, schema, fragment), schema, fragment) == data
