"""Contract Certificate Pool models (ccp.v1.json).

Erratum E-CCP-1: in LookupContractResponse the patterns of `cpsRootCertificateDN` (a UUID
pattern) and `cpsV2GRootCertificateFingerprint` (a DN pattern) are swapped. The models here
give each field the pattern of its meaning: the DN carries a DN, the fingerprint the V2G
root's RCP id (the UUID form, as everywhere else: E-CPS-1).
"""

from opcp.models.base import OpModel
from opcp.models.cps import B64, DN, EMAID, PCID
from opcp.models.error import ERROR, UUID_PATTERN

ROOT_ID = {"type": "string", "pattern": UUID_PATTERN}
EXI_B64 = {"type": "string", "pattern": B64, "minLength": 1}

CCP_RESPONSE = {
    "type": "object",
    "required": ["CCPResponse"],
    "properties": {"CCPResponse": {
        "type": "object", "required": ["emaidContent"],
        "properties": {"emaidContent": {
            "type": "array", "minItems": 1,
            "items": {"type": "object", "required": ["messageDef"], "properties": {
                "messageDef": {"type": "object", "required": ["certificateInstallationRes"],
                               "properties": {
                                   "certificateInstallationRes": EXI_B64,
                                   "emaid": {"type": "string", "pattern": EMAID},
                                   "metaData": {"type": "string"},
                                   "cpsV2GRootCertificateFingerprint": ROOT_ID}}}}}}}},
}

MODELS = {
    "GetSignedContractDataRequest": {
        "type": "object", "required": ["certificateInstallationReq", "xsdMsgDefNamespace"],
        "properties": {"certificateInstallationReq": {"type": "string"},
                       "xsdMsgDefNamespace": {"type": "string"},
                       "metadata": {"type": "string"}},
    },
    "GetSignedContractDataResponse": CCP_RESPONSE,
    # 404 of getSignedContractData: with alwaysReturnEXI (default) a CCPResponse holding a
    # failed CertificateInstallationRes, otherwise the Error body.
    "GetSignedContractDataNotFound": {"anyOf": [CCP_RESPONSE, ERROR]},
    "AddSignedContractDataRequest": {
        "type": "object",
        "required": ["xsdMsgDefNamespace", "emaid", "pcid", "signedContractDataXML"],
        "properties": {"xsdMsgDefNamespace": {"type": "string"},
                       "emaid": {"type": "string", "pattern": EMAID},
                       "pcid": {"type": "string", "pattern": PCID},
                       "signedContractDataXML": {"type": "string"},
                       "metadata": {"type": "string"},
                       "cpsV2GRootCertificateFingerprint": ROOT_ID},
    },
    "ProvideContractDataResponse": {
        "type": "object", "required": ["certificateInstallationRes", "xsdMsgDefNamespace"],
        "properties": {"certificateInstallationRes": EXI_B64,
                       "xsdMsgDefNamespace": {"type": "string"},
                       "cpsV2GRootCertificateFingerprint": ROOT_ID},
    },
    "LookupContractResponse": {
        "type": "object", "required": ["XMLContracts"],
        "properties": {"XMLContracts": {"type": "array", "items": {
            "type": "object",
            "required": ["pcid", "emaid", "contractCertificate", "defaultContract"],
            "properties": {
                "pcid": {"type": "string", "pattern": PCID},
                "emaid": {"type": "string", "pattern": EMAID},
                "xsdMsgDefNamespace": {"type": "string"},
                "contractCertificate": {"type": "string", "pattern": B64, "maxLength": 800},
                "defaultContract": {"type": "boolean"},
                "certValidFrom": {"type": "string", "format": "date-time"},
                "certValidTo": {"type": "string", "format": "date-time"},
                "cpsRootCertificateDN": {"type": "string", "pattern": DN},
                "cpsV2GRootCertificateFingerprint": ROOT_ID,
            }}}},
    },
}

OPERATIONS = {
    # E-CCP-4: forwarded to a peer ecosystem that cannot answer: 502 (down) or 504 (slow).
    "getSignedContractData": OpModel({200: "GetSignedContractDataResponse", 400: "Error",
                                      404: "GetSignedContractDataNotFound", 502: "Error",
                                      504: "Error"},
                                     request="GetSignedContractDataRequest"),
    "addSignedContractData": OpModel({201: None, 400: "Error", 404: "Error"},
                                     request="AddSignedContractDataRequest"),
    "deleteSignedContractData": OpModel({200: None, 400: "Error", 404: "Error"}),
    "provideSignedContractData": OpModel({200: "ProvideContractDataResponse", 400: "Error",
                                          404: "Error", 502: "Error", 504: "Error"}),
    # E-CCP-2: setDefaultContract declares no 404; an unknown contract is answered 404 as in
    # every other CCP operation.
    "setDefaultContract": OpModel({200: None, 400: "Error", 404: "Error"}),
    "lookupContract": OpModel({200: "LookupContractResponse", 400: "Error", 404: "Error"}),
    "getContracts": OpModel({200: "LookupContractResponse", 400: "Error"}),
}
