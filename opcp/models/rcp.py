"""Root Certificate Pool models (rcp.v1.json, RootCertV2 and its envelopes)."""

from opcp.models.base import OpModel
from opcp.models.error import UUID_PATTERN
from v2g.namespaces import OPCP_MSG_DEF_NAMESPACES

ROOT_CERT = {
    "type": "object",
    "required": ["rootCertificateId", "rootType", "caCertificate"],
    "properties": {
        "rootCertificateId": {"type": "string", "pattern": UUID_PATTERN},
        "distinguishedName": {"type": "string", "pattern": r"^((CN|OU|O|C|DC|ST)=[^,]+,? ?)+$"},
        "rootType": {"enum": ["MO", "V2G", "OEM", "PE"]},
        "caCertificate": {"type": "string", "pattern": "^[-A-Za-z0-9+/]+={0,3}$",
                          "maxLength": 800},
        "commonName": {"type": "string"},
        "rootAuthorityKeyIdentifier": {"type": "string"},
        "rootAuthorityKeyIdentifierHex": {"type": "string"},
        "rootIssuerSerialNumber": {"type": "string"},
        "validFrom": {"type": "string", "format": "date-time"},
        "validTo": {"type": "string", "format": "date-time"},
        "organizationName": {"type": "string"},
        "fingerprint": {"type": "string"},
        "fingerprintSha1": {"type": "string"},
        "xsdMsgDefNamespace": {"enum": list(OPCP_MSG_DEF_NAMESPACES)},
        "signatureAlgorithm": {"enum": ["secp256r1", "secp521r1", "ed448"]},
        # Optional RootCertV2 fields, typed "string" by the spec: the reference writes the
        # crossCertificatePair and the CRL as base64 DER (docs/ecosystems.md).
        "certificateRevocationList": {"type": "string"},
        "crossCertificatePair": {"type": "string", "pattern": "^[-A-Za-z0-9+/]+={0,3}$"},
        "labeledUri": {"type": "string"},
    },
}

MODELS = {
    "RootCert": ROOT_CERT,
    "GetAllRootCertsResponse": {
        "type": "object",
        "required": ["RootCertificateCollection"],
        "properties": {"RootCertificateCollection": {
            "type": "object",
            "required": ["rootCertificates"],
            "properties": {"rootCertificates": {"type": "array", "items": ROOT_CERT}},
        }},
    },
    "GetRootCertResponse": {
        "type": "object",
        "required": ["RootResponse"],
        "properties": {"RootResponse": ROOT_CERT},
    },
}

SAVE_ROOT_REQUEST = {
    "type": "object",
    "required": ["caCertificate", "rootType"],
    "properties": {
        "caCertificate": {"type": "string", "maxLength": 800},
        "rootType": {"enum": ["MO", "V2G", "OEM", "PE"]},
        # Not in the spec's request: the optional RootCertV2 fields the operator may give a
        # root when it is added (the response model has them; docs/ecosystems.md).
        "crossCertificatePair": {"type": "string"},
        "certificateRevocationList": {"type": "string"},
        "labeledUri": {"type": "string"},
        "xsdMsgDefNamespace": {"enum": list(OPCP_MSG_DEF_NAMESPACES)},
    },
}

# The spec's envelope; the CTL object's inner format is the project's (v2g/pki/ctl.py,
# docs/ctl.md, erratum E-RCP-CTL), checked by the CTL scenarios, not by this model.
CTL = {
    "type": "object",
    "required": ["signerCertificate", "timeStamp", "CTL"],
    "properties": {"signerCertificate": {"type": "string"}, "timeStamp": {"type": "string"},
                   "CTL": {"type": "object"}},
}

MODELS.update({"SaveRootRequest": SAVE_ROOT_REQUEST, "CertificateTrustList": CTL})


OPERATIONS = {
    "getAllRootCerts": OpModel(
        {200: "GetAllRootCertsResponse", 400: "Error"},
        query={"rootType": {"type": "string", "enum": ["mo", "v2g", "oem"]}}),
    "getRootCert": OpModel({200: "GetRootCertResponse", 400: "Error", 404: "Error"}),
    # Erratum E-RCP-3: the spec declares only 200 for saveRootCa, with no body; bad input
    # needs a 400, and the reference answers the stored root like getRootCert.
    "saveRootCa": OpModel({200: "GetRootCertResponse", 400: "Error"},
                          request="SaveRootRequest"),
    "deleteRootCa": OpModel({200: None, 400: "Error", 404: "Error"}),
    "getCertificateTrustList": OpModel({200: "CertificateTrustList", 404: "Error"}),
}

