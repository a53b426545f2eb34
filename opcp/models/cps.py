"""Certificate Provisioning Service models (cps.v1.json).

Erratum E-CPS-1: `cpsV2GRootCertificateFingerprint` is described as a SHA-256 fingerprint but
its pattern is a UUID. Responses carry the UUID form (the V2G root's rootCertificateId in the
RCP), which fits the pattern; requests may give either form.
"""

from opcp.models.base import OpModel
from opcp.models.error import UUID_PATTERN
from v2g.namespaces import ISO2_MSG_DEF

B64 = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
EMAID = r"^[A-Za-z]{2}-?[A-Za-z0-9]{3}-?[A-Za-z0-9]{9}(-?[A-Za-z0-9])?$"
PCID = "^[a-zA-Z0-9]{17,18}$"
DN = r"^((CN|OU|O|C|DC|ST)=[^,]+,? ?)+$"
FINGERPRINT_IN = {"type": "string", "anyOf": [{"pattern": UUID_PATTERN}, {"pattern": "^[0-9a-fA-F]{64}$"}]}
NAMESPACE = {"type": "string", "enum": [ISO2_MSG_DEF]}

CONTRACT_DATA = {
    "type": "object",
    "required": ["contractCertificate", "contractSubCa1Certificate",
                 "contractSignatureEncryptedPrivateKey", "dHpublickey"],
    "properties": {
        "contractCertificate": {"type": "string", "pattern": B64, "maxLength": 800},
        "contractSubCa2Certificate": {"type": "string", "pattern": B64, "maxLength": 800},
        "contractSubCa1Certificate": {"type": "string", "pattern": B64, "maxLength": 800},
        "contractSignatureEncryptedPrivateKey": {"type": "string", "minLength": 1},
        "dHpublickey": {"type": "string", "minLength": 1},
    },
}

# The deprecated pair's contractData is cps.v1.json's "contract-data" (Contract Data V1): the
# chain as one object, and the EMAID beside the key.
CONTRACT_CHAIN_V1 = {
    "type": "object",
    "required": ["contractSignatureCertChainCertificate", "contractSignatureCertChainSubCertificates"],
    "properties": {
        "contractSignatureCertChainCertificate": {"type": "string", "pattern": B64, "maxLength": 800},
        "contractSignatureCertChainSubCertificates": {"type": "array", "minItems": 1, "maxItems": 2,
                                                      "items": {"type": "string"}},
    },
}
CONTRACT_DATA_V1 = {
    "type": "object",
    "required": ["contractSignatureCertChain", "contractSignatureEncryptedPrivateKey", "dHpublickey",
                 "emaid"],
    "properties": {
        "contractSignatureCertChain": CONTRACT_CHAIN_V1,
        "contractSignatureEncryptedPrivateKey": {"type": "string", "minLength": 1},
        "dHpublickey": {"type": "string", "minLength": 1},
        "emaid": {"type": "string", "minLength": 1},
    },
}

SIGNED_RESPONSE = {
    "type": "object",
    "required": ["emaid", "xsdMsgDefNamespace", "signedData", "cpsV2GRootCertificateFingerprint",
                 "cpsRootDistinguishedName"],
    "properties": {
        "pcid": {"type": ["string", "null"], "pattern": PCID},
        "emaid": {"type": "string", "pattern": EMAID},
        "xsdMsgDefNamespace": {"type": "string"},
        "signedData": {"type": "string", "minLength": 1},
        "cpsV2GRootCertificateFingerprint": {"type": "string", "pattern": UUID_PATTERN},
        "cpsRootDistinguishedName": {"type": "string", "pattern": DN},
        "metaData": {"type": "string"},
    },
}

MODELS = {
    "ContractData": CONTRACT_DATA,
    "ContractDataV1": CONTRACT_DATA_V1,
    "ContractSignatureCertChainV1": CONTRACT_CHAIN_V1,
    "SignedContractDataRequest": {
        "type": "object", "required": ["contractData", "xsdMsgDefNamespace"],
        "properties": {"contractData": CONTRACT_DATA, "pcid": {"type": "string", "pattern": PCID},
                       "xsdMsgDefNamespace": NAMESPACE,
                       "cpsV2GRootCertificateFingerprint": FINGERPRINT_IN},
    },
    "SignedContractDataResponse": SIGNED_RESPONSE,
    # The deprecated pair (createSignedContractData, createAndForwardSignedContractData).
    "CreateSignedContractDataRequest": {
        "type": "object", "required": ["xsdMsgDefNamespace", "contractData", "pcid", "emaid"],
        "properties": {"contractData": CONTRACT_DATA_V1, "pcid": {"type": "string", "pattern": PCID},
                       "emaid": {"type": "string", "pattern": EMAID},
                       "xsdMsgDefNamespace": NAMESPACE, "metaData": {"type": "string"},
                       "cpsV2GRootCertificateFingerprint": FINGERPRINT_IN},
    },
    "CreateSignedContractDataResponse": {
        "type": "object", "required": ["emaid", "pcid", "signedData", "xsdMsgDefNamespace"],
        "properties": {**SIGNED_RESPONSE["properties"],
                       "pcid": {"type": "string", "pattern": PCID}},
    },
    "Empty": {"type": "object"},
    "GenerateSignedContractDataRequest": {
        "type": "object",
        "required": ["contractBegins", "contractEnds", "emaid", "pcid", "xsdMsgDefNamespace"],
        "properties": {
            "contractBegins": {"type": "string", "format": "date-time"},
            "contractEnds": {"type": "string", "format": "date-time"},
            "emaid": {"type": "string", "pattern": EMAID},
            "pcid": {"type": "string", "pattern": PCID},
            "xsdMsgDefNamespace": NAMESPACE,
            "subscriptionUrl": {"type": "string"},
            "cpsV2GRootCertificateFingerprint": FINGERPRINT_IN,
            "metaData": {"type": "string"},
        },
    },
    "GetAllCpsSignerResponse": {
        "type": "object", "required": ["cpsCertificates"],
        "properties": {"cpsCertificates": {"type": "array", "items": {
            "type": "object",
            "required": ["cpsDistinguishedName", "cpsCertificate", "validFrom", "validTo",
                         "organizationName", "cpsV2GRootCertificateFingerprint",
                         "cpsRootDistinguishedName", "cpsSubCa1Certificate", "xsdMsgDefNamespace"],
            "properties": {
                "cpsDistinguishedName": {"type": "string", "minLength": 1},
                "cpsCertificate": {"type": "string", "pattern": B64},
                "validFrom": {"type": "string", "format": "date-time"},
                "validTo": {"type": "string", "format": "date-time"},
                "organizationName": {"type": "string", "minLength": 1},
                "cpsV2GRootCertificateFingerprint": {"type": "string", "pattern": UUID_PATTERN},
                "cpsRootDistinguishedName": {"type": "string", "pattern": DN},
                "cpsSubCa1Certificate": {"type": "string", "pattern": B64, "maxLength": 800},
                "cpsSubCa2Certificate": {"type": "string", "pattern": B64, "maxLength": 800},
                "xsdMsgDefNamespace": {"type": "string"},
            }}}},
    },
}

OPERATIONS = {
    "getAllCpsSigners": OpModel({200: "GetAllCpsSignerResponse"}),
    "signContractData": OpModel({201: "SignedContractDataResponse", 400: "Error", 404: "Error"},
                                request="SignedContractDataRequest"),
    "createSignedContractData": OpModel({200: "CreateSignedContractDataResponse", 400: "Error"},
                                        request="CreateSignedContractDataRequest"),
    "createAndForwardSignedContractData": OpModel({201: "Empty", 400: "Error"},
                                                  request="CreateSignedContractDataRequest"),
    "generateSignedContractData": OpModel({201: "SignedContractDataResponse", 400: "Error",
                                           404: "Error"},
                                          request="GenerateSignedContractDataRequest"),
}
