"""Schema-informed EXI 1.0 codec for ISO 15118-2 (bit-exact with EXIficient).

Options are fixed to what ISO 15118-2 uses: bit-packed, default fidelity options (not
strict), valuePartitionCapacity 0, no built-in grammar learning, header byte 0x80.

Public API (names are stable; other modules and tests call exactly these):

* ``decode(data, schema="iso2", fragment=False) -> Element``
* ``encode(element, schema="iso2", fragment=False) -> bytes``
* ``exi_to_xml(data, schema="iso2", fragment=False) -> str``
* ``xml_to_exi(xml, schema="iso2", fragment=False) -> bytes``

``schema`` is ``"iso2"`` (V2G_CI_MsgDef), ``"app"`` (SupportedAppProtocol) or ``"xmldsig"``
(xmldsig-core alone, e.g. for SignedInfo). ``Element`` is
:class:`xml.etree.ElementTree.Element` with ``{namespace}local`` tags and lexical values.
Every problem with the input raises :class:`v2g.errors.ExiError`.
"""

from __future__ import annotations

import base64
import binascii
from xml.etree.ElementTree import Element

from v2g.errors import ExiError
from v2g.exi.codec import decode_body, decode_xml, encode_body
from v2g.exi.grammar import grammars_for
from v2g.exi.schemas import SCHEMA_SETS
from v2g.exi.xmlio import parse_xml

__all__ = [
    "SCHEMAS",
    "Element",
    "ExiError",
    "decode",
    "encode",
    "exi_to_xml",
    "from_base64",
    "xml_to_exi",
]

SCHEMAS = tuple(SCHEMA_SETS)


def _grammars(schema: str):  # type: ignore[no-untyped-def]
    if schema not in SCHEMA_SETS:
        raise ValueError(f"unknown schema {schema!r}; expected one of {', '.join(SCHEMAS)}")
    return grammars_for(schema)


def decode(data: bytes, schema: str = "iso2", fragment: bool = False) -> Element:
    """Decode an EXI stream (document or fragment with one root element) to an element tree."""
    g = _grammars(schema)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("decode() takes bytes")
    try:
        roots = decode_body(bytes(data), g, fragment)
    except RecursionError as exc:  # pragma: no cover - guarded by MAX_DEPTH
        raise ExiError("input nested too deeply", 0, "less nesting") from exc
    if len(roots) != 1:
        raise ExiError(f"stream holds {len(roots)} root elements", 0, "exactly one root element")
    return roots[0]


def encode(element: Element, schema: str = "iso2", fragment: bool = False) -> bytes:
    """Encode an element tree as an EXI document (or fragment)."""
    g = _grammars(schema)
    return encode_body([element], g, fragment)


def from_base64(text: str | bytes) -> bytes:
    """EXI bytes from base64 text (whitespace allowed); ExiError if it is not base64."""
    if isinstance(text, str):
        text = text.encode("ascii", "replace")
    try:
        return base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ExiError(f"invalid base64: {exc}", 0, "base64 text") from exc


def exi_to_xml(data: bytes, schema: str = "iso2", fragment: bool = False) -> str:
    """XML text of an EXI stream, written while decoding (the same text as ``to_xml(decode())``)."""
    g = _grammars(schema)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("exi_to_xml() takes bytes")
    return decode_xml(bytes(data), g, fragment)


def xml_to_exi(xml: str, schema: str = "iso2", fragment: bool = False) -> bytes:
    return encode(parse_xml(xml), schema, fragment)
