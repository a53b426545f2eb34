"""XML Signature core (namespace http://www.w3.org/2000/09/xmldsig#), as ISO 15118-2 uses it.

Every declaration of the core schema is here, not only those V2G messages use: the EXI
fragment grammar counts all element declarations, so a missing one would change event codes.
Attributes are unqualified; elements are qualified.
"""

from __future__ import annotations

from v2g.exi.model import Module, any_, attr, choice, el, fields, ref, seq

NS = "http://www.w3.org/2000/09/xmldsig#"


def module() -> Module:
    m = Module(NS, {"ds": NS}, qualified_attributes=False)
    m.simple("CryptoBinary", "xs:base64Binary")
    m.simple("DigestValueType", "xs:base64Binary")
    m.simple("HMACOutputLengthType", "xs:integer")

    m.complex("SignatureType", fields("@SignedInfo @SignatureValue @KeyInfo? @Object*"),
              attrs=[attr("Id", "xs:ID")])
    m.complex("SignatureValueType", simple="xs:base64Binary", attrs=[attr("Id", "xs:ID")])
    m.complex("SignedInfoType", fields("@CanonicalizationMethod @SignatureMethod @Reference+"),
              attrs=[attr("Id", "xs:ID")])
    m.complex("CanonicalizationMethodType", seq(any_("##any", "*")), mixed=True,
              attrs=[attr("Algorithm", "xs:anyURI", required=True)])
    m.complex("SignatureMethodType",
              seq(el("HMACOutputLength?", "HMACOutputLengthType"), any_("##other", "*")),
              mixed=True, attrs=[attr("Algorithm", "xs:anyURI", required=True)])
    m.complex("ReferenceType", fields("@Transforms? @DigestMethod @DigestValue"),
              attrs=[attr("Id", "xs:ID"), attr("URI", "xs:anyURI"), attr("Type", "xs:anyURI")])
    m.complex("TransformsType", fields("@Transform+"))
    m.complex("TransformType", choice(any_("##other"), el("XPath", "xs:string"), occ="*"),
              mixed=True, attrs=[attr("Algorithm", "xs:anyURI", required=True)])
    m.complex("DigestMethodType", seq(any_("##other", "*")), mixed=True,
              attrs=[attr("Algorithm", "xs:anyURI", required=True)])
    m.complex("KeyInfoType",
              choice(ref("KeyName"), ref("KeyValue"), ref("RetrievalMethod"), ref("X509Data"),
                     ref("PGPData"), ref("SPKIData"), ref("MgmtData"), any_("##other"), occ="+"),
              mixed=True, attrs=[attr("Id", "xs:ID")])
    m.complex("KeyValueType", choice(ref("DSAKeyValue"), ref("RSAKeyValue"), any_("##other")),
              mixed=True)
    m.complex("RetrievalMethodType", fields("@Transforms?"),
              attrs=[attr("URI", "xs:anyURI"), attr("Type", "xs:anyURI")])
    m.complex("X509DataType", seq(choice(
        el("X509IssuerSerial", "X509IssuerSerialType"), el("X509SKI", "xs:base64Binary"),
        el("X509SubjectName", "xs:string"), el("X509Certificate", "xs:base64Binary"),
        el("X509CRL", "xs:base64Binary"), any_("##other")), occ="+"))
    m.complex("X509IssuerSerialType", fields("X509IssuerName:xs:string X509SerialNumber:xs:integer"))
    m.complex("PGPDataType", choice(
        seq(el("PGPKeyID", "xs:base64Binary"), el("PGPKeyPacket?", "xs:base64Binary"),
            any_("##other", "*")),
        seq(el("PGPKeyPacket", "xs:base64Binary"), any_("##other", "*"))))
    m.complex("SPKIDataType", seq(el("SPKISexp", "xs:base64Binary"), any_("##other", "?"), occ="+"))
    m.complex("ObjectType", seq(any_("##any"), occ="*"), mixed=True,
              attrs=[attr("Id", "xs:ID"), attr("MimeType", "xs:string"), attr("Encoding", "xs:anyURI")])
    m.complex("ManifestType", fields("@Reference+"), attrs=[attr("Id", "xs:ID")])
    m.complex("SignaturePropertiesType", fields("@SignatureProperty+"), attrs=[attr("Id", "xs:ID")])
    m.complex("SignaturePropertyType", choice(any_("##other"), occ="+"), mixed=True,
              attrs=[attr("Target", "xs:anyURI", required=True), attr("Id", "xs:ID")])
    m.complex("DSAKeyValueType", seq(
        seq(el("P", "CryptoBinary"), el("Q", "CryptoBinary"), occ="?"),
        el("G?", "CryptoBinary"), el("Y", "CryptoBinary"), el("J?", "CryptoBinary"),
        seq(el("Seed", "CryptoBinary"), el("PgenCounter", "CryptoBinary"), occ="?")))
    m.complex("RSAKeyValueType", fields("Modulus:CryptoBinary Exponent:CryptoBinary"))

    for name, type_ in [
        ("Signature", "SignatureType"), ("SignatureValue", "SignatureValueType"),
        ("SignedInfo", "SignedInfoType"), ("CanonicalizationMethod", "CanonicalizationMethodType"),
        ("SignatureMethod", "SignatureMethodType"), ("Reference", "ReferenceType"),
        ("Transforms", "TransformsType"), ("Transform", "TransformType"),
        ("DigestMethod", "DigestMethodType"), ("DigestValue", "DigestValueType"),
        ("KeyInfo", "KeyInfoType"), ("KeyName", "xs:string"), ("MgmtData", "xs:string"),
        ("KeyValue", "KeyValueType"), ("RetrievalMethod", "RetrievalMethodType"),
        ("X509Data", "X509DataType"), ("PGPData", "PGPDataType"), ("SPKIData", "SPKIDataType"),
        ("Object", "ObjectType"), ("Manifest", "ManifestType"),
        ("SignatureProperties", "SignaturePropertiesType"),
        ("SignatureProperty", "SignaturePropertyType"), ("DSAKeyValue", "DSAKeyValueType"),
        ("RSAKeyValue", "RSAKeyValueType"),
    ]:
        m.element(name, type_)
    return m
