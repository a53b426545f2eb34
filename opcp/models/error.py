"""The Error body every OPCP service answers with, and the UUID form of its traceId and of the
services' object ids."""

UUID_PATTERN = "^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"

ERROR = {
    "type": "object",
    "required": ["errorMessages", "traceId"],
    "properties": {
        "errorMessages": {"type": "array", "minItems": 1, "uniqueItems": True,
                          "items": {"type": "string"}},
        "traceId": {"type": "string", "pattern": UUID_PATTERN},
    },
}

MODELS = {"Error": ERROR}
