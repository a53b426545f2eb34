"""Models of the reference's operator extension (not part of OPCP)."""

from opcp.models.base import OpModel

MODELS = {
    "RotateSigningKeyRequest": {
        "type": "object", "required": ["reason"],
        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 200}},
    },
    "RotateSigningKeyResponse": {
        "type": "object", "required": ["kid"], "properties": {"kid": {"type": "string"}},
    },
}

OPERATIONS = {
    "rotateSigningKey": OpModel({200: "RotateSigningKeyResponse", 400: "Error"},
                                request="RotateSigningKeyRequest"),
    "revokeCertificate": OpModel({200: None, 400: "Error", 404: "Error", 409: "Error"}),
}
