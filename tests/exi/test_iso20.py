"""ISO 15118-20 schema sets: names for the CLI, exported namespaces, one grammar per namespace."""

from __future__ import annotations

from v2g.errors import ExiError
from v2g.exi import SCHEMAS, decode, encode, xml_to_exi
from v2g.exi.schemas import ISO20_SCHEMAS, iso20_ac, iso20_acdp, iso20_common, iso20_dc, iso20_types, iso20_wpt

CT = iso20_types.COMMON_TYPES
HEADER = '<ct:Header><ct:SessionID>0102030405060708</ct:SessionID><ct:TimeStamp>1</ct:TimeStamp></ct:Header>'


def test_short_names_map_to_schema_sets() -> None:
    assert set(ISO20_SCHEMAS) == {"common", "dc", "ac", "acdp", "wpt", "app"}
    assert set(ISO20_SCHEMAS.values()) <= set(SCHEMAS)


def test_namespace_constants() -> None:
    assert iso20_common.NS == iso20_types.COMMON_MESSAGES == "urn:iso:std:iso:15118:-20:CommonMessages"
    assert CT == "urn:iso:std:iso:15118:-20:CommonTypes"
    assert (iso20_dc.NS, iso20_ac.NS, iso20_acdp.NS, iso20_wpt.NS) == tuple(
        f"urn:iso:std:iso:15118:-20:{n}" for n in ("DC", "AC", "ACDP", "WPT"))
    assert iso20_types.APP_PROTOCOL == "urn:iso:15118:2:2010:AppProtocol"


def test_message_is_the_document_root_and_each_namespace_has_its_grammar() -> None:
    xml = (f'<dc:DC_CableCheckReq xmlns:dc="{iso20_dc.NS}" xmlns:ct="{CT}">{HEADER}</dc:DC_CableCheckReq>')
    data = xml_to_exi(xml, "iso20-dc")
    root = decode(data, "iso20-dc")
    assert root.tag == f"{{{iso20_dc.NS}}}DC_CableCheckReq"
    assert encode(root, "iso20-dc") == data
    # the same bytes mean something else (or nothing) under another namespace's grammar
    try:
        other = decode(data, "iso20-common")
    except ExiError:
        pass
    else:
        assert other.tag != root.tag
    # under CommonMessages' grammar DC_CableCheckReq is undeclared: SE(*) and an xs:anyType cast
    assert xml_to_exi(xml, "iso20-common") != data


def test_iso20_handshake_is_the_iso2_one() -> None:
    xml = ('<a:supportedAppProtocolReq xmlns:a="urn:iso:15118:2:2010:AppProtocol"><AppProtocol>'
           f"<ProtocolNamespace>{iso20_common.NS}</ProtocolNamespace><VersionNumberMajor>1"
           "</VersionNumberMajor><VersionNumberMinor>0</VersionNumberMinor><SchemaID>1</SchemaID>"
           "<Priority>1</Priority></AppProtocol></a:supportedAppProtocolReq>")
    assert xml_to_exi(xml, "iso20-app") == xml_to_exi(xml, "app")
