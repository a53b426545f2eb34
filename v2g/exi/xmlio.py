"""XML text <-> element tree, with errors mapped to ExiError.

Prefixes and namespace declarations carry no information in EXI (prefixes are not
preserved), so ``to_xml`` picks its own: ``ns0``, ``ns1``, ... by order of first use.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from v2g.errors import ExiError

_KNOWN_PREFIXES = {
    "urn:iso:15118:2:2013:MsgDef": "v2gci_d",
    "urn:iso:15118:2:2013:MsgHeader": "v2gci_h",
    "urn:iso:15118:2:2013:MsgBody": "v2gci_b",
    "urn:iso:15118:2:2013:MsgDataTypes": "v2gci_t",
    "http://www.w3.org/2000/09/xmldsig#": "xmlsig",
    "urn:iso:15118:2:2010:AppProtocol": "v2gci_app",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi",
}


def parse_xml(text: str | bytes) -> ET.Element:
    if isinstance(text, str):
        data = text.encode("utf-8")
        # an encoding declaration in a str is meaningless once it is a str; re-encode as UTF-8
        if data.startswith(b"<?xml"):
            end = data.find(b"?>")
            if end > 0:
                data = b'<?xml version="1.0" encoding="UTF-8"?>' + data[end + 2:]
    else:
        data = text
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ExiError("XML with a DTD is refused (entity expansion)", 0, "XML without DTD")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise ExiError(f"not well-formed XML: {exc}", 0, "well-formed XML") from exc


def to_xml(elem: ET.Element) -> str:
    for uri, prefix in _KNOWN_PREFIXES.items():
        ET.register_namespace(prefix, uri)
    return ET.tostring(elem, encoding="unicode")
