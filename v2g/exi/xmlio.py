"""XML text <-> element tree, with errors mapped to ExiError.

Prefixes and namespace declarations carry no information in EXI (prefixes are not
preserved), so ``to_xml`` picks its own. The one place where a prefix matters is the value
of ``xsi:type``, a QName: in the tree it is kept in Clark notation (``{uri}local``);
``parse_xml`` resolves a prefixed value against the namespaces in scope, and ``to_xml``
writes it back as ``prefix:local`` with a declaration of that prefix on the element.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET

from v2g.errors import ExiError

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

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
        # an encoding declaration means nothing once the text is a str: re-encode as UTF-8
        if data.startswith(b"<?xml"):
            end = data.find(b"?>")
            if end > 0:
                data = b'<?xml version="1.0" encoding="UTF-8"?>' + data[end + 2:]
    else:
        data = text
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ExiError("XML with a DTD is refused (entity expansion)", 0, "XML without DTD")
    parser: ET.XMLPullParser = ET.XMLPullParser(events=("start-ns", "start", "end"))
    scopes: list[dict[str, str]] = [{"xml": "http://www.w3.org/XML/1998/namespace"}]
    pending: dict[str, str] = {}
    root: ET.Element | None = None
    try:
        parser.feed(data)
        parser.close()
        for ev in parser.read_events():
            event, item = ev[0], ev[1]  # type: ignore[misc]
            if event == "start-ns":
                ns_decl: tuple[str, str] = item  # type: ignore[assignment]
                pending[ns_decl[0]] = ns_decl[1]
            elif event == "start":
                elem = item
                assert isinstance(elem, ET.Element)
                scope = {**scopes[-1], **pending}
                pending = {}
                scopes.append(scope)
                if root is None:
                    root = elem
                value = elem.get(XSI_TYPE)
                if value is not None:
                    elem.set(XSI_TYPE, _resolve_qname(value, scope))
            else:
                scopes.pop()
    except ET.ParseError as exc:
        raise ExiError(f"not well-formed XML: {exc}", 0, "well-formed XML") from exc
    if root is None:
        raise ExiError("no element in the XML", 0, "a root element")
    return root


def _resolve_qname(value: str, scope: dict[str, str]) -> str:
    v = value.strip()
    if v.startswith("{"):
        return v
    prefix, _, local = v.rpartition(":")
    uri = scope.get(prefix)
    if uri is None:
        # as EXIficient: no namespace in scope for the prefix -> empty URI, whole value as name
        return v
    return f"{{{uri}}}{local}" if uri else local


def to_xml(elem: ET.Element) -> str:
    for uri, prefix in _KNOWN_PREFIXES.items():
        ET.register_namespace(prefix, uri)
    if any(e.get(XSI_TYPE, "").startswith("{") for e in elem.iter()):
        elem = copy.deepcopy(elem)
        for e in elem.iter():
            value = e.get(XSI_TYPE)
            if value is not None and value.startswith("{"):
                uri, _, local = value[1:].partition("}")
                e.set(XSI_TYPE, f"xt:{local}")
                e.set("xmlns:xt", uri)  # a plain attribute name: ET writes it as it is
    return ET.tostring(elem, encoding="unicode")
