"""Golden vectors made by EXIficient (the oracle) from generated XML: one or two messages per
ISO 15118-2 body type, signed-element fragments, SignedInfo fragments (xmldsig grammar) and
SupportedAppProtocol documents, many with undeclared content (xsi:type, xsi:nil, wildcards,
mixed text, out-of-order elements, non-canonical values).

They let the bit-exactness be checked without Java; tests/oracle runs the live comparison.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from v2g.exi import decode, encode, xml_to_exi

DATA = json.loads((Path(__file__).parent / "data" / "exificient_vectors.json").read_text())
VECTORS = DATA["vectors"]


def test_vectors_cover_every_body_type() -> None:
    from v2g.exi.schemas.iso2 import MESSAGE_NAMES

    names = {v["name"].split("/")[1] for v in VECTORS if v["name"].startswith("iso2-doc/")}
    assert set(MESSAGE_NAMES) <= names


@pytest.mark.parametrize("vec", VECTORS, ids=[v["name"] for v in VECTORS])
def test_encode_matches_exificient(vec: dict[str, object]) -> None:
    assert xml_to_exi(str(vec["xml"]), str(vec["schema"]), bool(vec["fragment"])).hex() == vec["exi"]


@pytest.mark.parametrize("vec", VECTORS, ids=[v["name"] for v in VECTORS])
def test_decode_then_encode_reproduces_exificient_bytes(vec: dict[str, object]) -> None:
    data = bytes.fromhex(str(vec["exi"]))
    schema, fragment = str(vec["schema"]), bool(vec["fragment"])
    assert encode(decode(data, schema, fragment), schema, fragment) == data
