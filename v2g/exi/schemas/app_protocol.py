"""ISO 15118-2 SupportedAppProtocol (namespace urn:iso:15118:2:2010:AppProtocol).

Its schema sets neither elementFormDefault nor attributeFormDefault, so local elements
are unqualified (empty namespace).
"""

from __future__ import annotations

from v2g.exi.model import Module, el, seq

NS = "urn:iso:15118:2:2010:AppProtocol"


def module() -> Module:
    m = Module(NS, qualified_elements=False)
    m.simple("idType", "xs:unsignedByte")
    m.simple("protocolNameType", "xs:string", max_length=30)
    m.simple("protocolNamespaceType", "xs:anyURI", max_length=100)
    m.simple("priorityType", "xs:unsignedByte", min=1, max=20)
    m.enum("responseCodeType",
           "OK_SuccessfulNegotiation OK_SuccessfulNegotiationWithMinorDeviation Failed_NoNegotiation")
    m.complex("AppProtocolType", seq(
        el("ProtocolNamespace", "protocolNamespaceType"), el("VersionNumberMajor", "xs:unsignedInt"),
        el("VersionNumberMinor", "xs:unsignedInt"), el("SchemaID", "idType"),
        el("Priority", "priorityType")))
    m.element("supportedAppProtocolReq", m.anonymous(seq(el("AppProtocol{1,20}", "AppProtocolType"))))
    m.element("supportedAppProtocolRes", m.anonymous(seq(
        el("ResponseCode", "responseCodeType"), el("SchemaID?", "idType"))))
    return m
