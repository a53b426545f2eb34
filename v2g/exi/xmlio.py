"""XML text <-> element tree, with errors mapped to ExiError.

Prefixes and namespace declarations carry no information in EXI (prefixes are not
preserved), so ``to_xml`` picks its own. The one place where a prefix matters is the value
of ``xsi:type``, a QName: in the tree it is kept in Clark notation (``{uri}local``);
``parse_xml`` resolves a prefixed value against the namespaces in scope, and ``to_xml``
writes it back as ``prefix:local`` with a declaration of that prefix on the element.
``XmlNames`` holds one document's prefixes; ``to_xml`` and the decoder's XML text output
(``codec.decode_xml``) both name elements and attributes through it, so they write the same
text.
"""

from __future__ import annotations

import re
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
    "urn:iso:std:iso:15118:-20:CommonMessages": "v2gci_cm",
    "urn:iso:std:iso:15118:-20:CommonTypes": "v2gci_ct",
    "urn:iso:std:iso:15118:-20:DC": "v2gci_dc",
    "urn:iso:std:iso:15118:-20:AC": "v2gci_ac",
    "urn:iso:std:iso:15118:-20:ACDP": "v2gci_acdp",
    "urn:iso:std:iso:15118:-20:WPT": "v2gci_wpt",
    "http://www.w3.org/XML/1998/namespace": "xml",
}


def parse_xml(text: str | bytes) -> ET.Element:
    data: str | bytes = text
    if isinstance(text, str):
        # An encoding declaration means nothing once the text is a str (expat reads a str as
        # UTF-8 whatever it declares): the declaration is replaced by a plain one, and the str
        # goes to the parser as it is (no copy encoded to bytes first).
        if text.startswith("<?xml"):
            end = text.find("?>")
            if end > 0:
                data = '<?xml version="1.0" encoding="UTF-8"?>' + text[end + 2:]
        # Entities can only be declared in a DTD, which only "<!DOCTYPE" opens (anywhere
        # else "<!ENTITY" is not well-formed, and expat refuses it): one scan, with a long
        # needle (a short one like "<!" makes the substring search several times slower).
        dtd = "<!DOCTYPE" in data
        # An xsi:type attribute is written "prefix:type" (an attribute without prefix has no
        # namespace), so text without ":type" has none, even when it declares the xsi
        # namespace (EXIficient's XML always does).
        xsi = ":type" in data and "XMLSchema-instance" in data
    else:
        dtd = b"<!DOCTYPE" in data
        xsi = b":type" in data and b"XMLSchema-instance" in data
    if dtd:
        raise ExiError("XML with a DTD is refused (entity expansion)", 0, "XML without DTD")
    if not xsi:
        # No xsi:type QName value to resolve: the C parser alone will do.
        try:
            return ET.fromstring(data)
        except ET.ParseError as exc:
            raise ExiError(f"not well-formed XML: {exc}", 0, "well-formed XML") from exc
    return _parse_resolving(data)


def _parse_resolving(data: str | bytes) -> ET.Element:
    """``parse_xml`` through the namespace-tracking pull parser, which resolves prefixed
    ``xsi:type`` values to Clark notation (``parse_xml`` takes this path only for text that
    can hold one; tests compare both paths)."""
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


def escape_text(s: str) -> str:
    if "&" in s:
        s = s.replace("&", "&amp;")
    if "<" in s:
        s = s.replace("<", "&lt;")
    if ">" in s:
        s = s.replace(">", "&gt;")
    return s


_ATTR_SPECIAL = re.compile('[&<>"\n\r\t]')
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;",
                               "\r": "&#13;", "\t": "&#09;"})


# Clark tag -> (prefixed name, URI, "<name", "><name", "</name>") for tags in the known
# namespaces, whatever the document: filled as tags are met (the schemas' few hundred names),
# so a document only has to note which URIs it used (the tag strings serve the decoder's
# XML text output).
KNOWN_NAMES: dict[str, tuple[str, str, str, str, str]] = {}
_KNOWN_DECLARATIONS = {u: f' xmlns:{p}="{u}"' for u, p in _KNOWN_PREFIXES.items() if p != "xml"}
_DECLARATIONS: dict[tuple[str, ...], str] = {}  # URIs in order of first use -> declarations


class XmlNames:
    """The prefixes of one XML document being written: known prefixes for the ISO 15118
    namespaces, ``ns0``, ``ns1``, ... for others, each declared once on the root."""

    __slots__ = ("names", "prefixes")

    def __init__(self) -> None:
        self.prefixes: dict[str, str] = {}
        self.names: dict[str, str] = {}  # Clark tag -> prefixed name, for this document

    def name(self, clark: str) -> str:
        known = KNOWN_NAMES.get(clark)
        if known is not None:
            if known[1] not in self.prefixes:
                self.prefixes[known[1]] = _KNOWN_PREFIXES[known[1]]
            return known[0]
        qualified = self.names.get(clark)
        if qualified is None:
            if clark[0] != "{":
                qualified = clark
            else:
                uri, _, local = clark[1:].partition("}")
                prefix = self.prefixes.get(uri)
                if prefix is None:
                    prefix = self.prefixes[uri] = _KNOWN_PREFIXES.get(uri) or f"ns{len(self.prefixes)}"
                qualified = f"{prefix}:{local}"
                if uri in _KNOWN_PREFIXES and len(KNOWN_NAMES) < 100_000:  # bounded: tags come from input
                    KNOWN_NAMES[clark] = (qualified, uri, "<" + qualified, "><" + qualified, f"</{qualified}>")
            self.names[clark] = qualified
        return qualified

    def attribute(self, clark: str, value: str) -> str:
        """`` name="value"`` (escaped); an ``xsi:type`` value in Clark notation becomes
        ``xt:local`` with ``xmlns:xt`` declared before it."""
        if _ATTR_SPECIAL.search(value):
            value = value.translate(_ATTR_ESCAPES)
        if clark == XSI_TYPE and value.startswith("{"):
            uri, _, local = value[1:].partition("}")
            return f' xmlns:xt="{uri}" {self.name(clark)}="xt:{local}"'
        return f' {self.name(clark)}="{value}"'

    def declarations(self) -> str:
        """The ``xmlns:`` declarations of every prefix used so far, for the root's start tag."""
        key = tuple(self.prefixes)  # the URIs in order of first use decide the prefixes
        decls = _DECLARATIONS.get(key)
        if decls is None:
            decls = self._declarations()
            if len(_DECLARATIONS) < 1000:  # bounded: URIs can come from the input
                _DECLARATIONS[key] = decls
        return decls

    def _declarations(self) -> str:
        return "".join(_KNOWN_DECLARATIONS.get(u) or f' xmlns:{p}="{u.translate(_ATTR_ESCAPES)}"'
                       for u, p in self.prefixes.items() if p != "xml")


def to_xml(elem: ET.Element) -> str:
    """XML text of a tree: every namespace declared once on the root (see XmlNames)."""
    names = XmlNames()
    name = names.name
    attribute = names.attribute
    parts: list[str] = []
    out = parts.append

    def write(e: ET.Element) -> None:
        tag = e.tag
        if not isinstance(tag, str):
            raise ExiError("comments and processing instructions are not element content", 0, "elements")
        qtag = name(tag)
        out("<" + qtag)
        if e.attrib:
            for k, v in e.attrib.items():
                out(attribute(k, v))
        text = e.text
        if not len(e) and not text:
            out(" />")
        else:
            out(">")
            if text:
                out(escape_text(text))
            for child in e:
                write(child)
                if child.tail:
                    out(escape_text(child.tail))
            out(f"</{qtag}>")

    write(elem)
    parts[0] += names.declarations()
    return "".join(parts)
