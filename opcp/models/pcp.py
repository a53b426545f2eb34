"""Provisioning Certificate Pool models (pcp.v1.json: ProvisioningCertificateData and the
GET envelope). Field names follow the spec, deprecated spellings included."""

from opcp.models.base import OpModel
from v2g.namespaces import ISO2_MSG_DEF

B64 = {"type": "string", "pattern": "^[A-Za-z0-9+/\\s]+={0,3}$", "minLength": 1}
PCID = {"type": "string", "pattern": "^[a-zA-Z0-9]{17,18}$"}

PROVISIONING_CERTIFICATE_DATA = {
    "type": "object",
    "minProperties": 3,
    "required": ["subCA1Certificate", "vehicleCertificate", "rootIssuerDistinguishedName",
                 "rootIssuerSerialNumber"],
    "properties": {
        "subCA1Certificate": B64,
        "subCA2Certificate": B64,
        "vehicleCertificate": B64,
        "xsdMsgDefNamespace": {"enum": [ISO2_MSG_DEF]},
        "rootIssuerDistinguishedName": {"type": "string", "minLength": 1},
        "rootIssuerSerialNumber": {"type": "string", "pattern": "^[0-9a-fA-F]+$"},
        "v2gRootAuthorityKeyIdentifiers": {"type": "array", "minItems": 1, "uniqueItems": True,
                                           "items": {"type": "string"}},
        "rootAuthorityKeyIdentifier": {"type": "string"},
        "fingerprint": {"type": "string"},
        "previousPcid": PCID,
    },
}

# What an OEM publishes (addOemProvCert's body): the root issuer fields are the pool's to fill.
PROVISIONING_CERTIFICATE = {
    **PROVISIONING_CERTIFICATE_DATA,
    "minProperties": 2,
    "required": ["subCA1Certificate", "vehicleCertificate"],
}

MODELS = {
    "ProvisioningCertificate": PROVISIONING_CERTIFICATE,
    "ProvisioningCertificateData": PROVISIONING_CERTIFICATE_DATA,
    "GetProvisioningCertificateResponse": {
        "type": "object",
        "required": ["OEMMessage"],
        "properties": {"OEMMessage": PROVISIONING_CERTIFICATE_DATA},
    },
}

# 502: a certificate's OCSP responder could not be asked (erratum E-PCP-1, docs/pcp.md).
OPERATIONS = {
    "addOemProvCert": OpModel({200: "ProvisioningCertificateData", 400: "Error", 502: "Error"},
                              request="ProvisioningCertificate"),
    "getOEMProvCert": OpModel({200: "GetProvisioningCertificateResponse", 400: "Error", 404: "Error",
                               502: "Error"}),
    "deleteOemProvCert": OpModel({200: None, 400: "Error", 404: "Error"}),
    "lookupVehicle": OpModel({200: None, 400: "Error", 404: "Error"}),
}
