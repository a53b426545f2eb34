"""The OAuth2 token service's bodies (RFC 6749 client credentials): the token request, the token
answer and the token error."""

TOKEN = {
    "type": "object",
    "required": ["access_token", "scope", "expires_in", "token_type"],
    "properties": {
        "access_token": {"type": "string", "minLength": 1},
        "scope": {"type": "string", "minLength": 1},
        "expires_in": {"type": "number"},
        "token_type": {"type": "string", "minLength": 1},
    },
}

TOKEN_ERROR = {
    "type": "object",
    "required": ["error", "error_description"],
    "properties": {
        "error": {"type": "string", "minLength": 1},
        "error_description": {"type": "string", "minLength": 1},
    },
}

TOKEN_REQUEST = {
    "type": "object",
    "required": ["client_id", "client_secret", "audience", "grant_type"],
    "properties": {
        "client_id": {"type": "string"},
        "client_secret": {"type": "string"},
        "audience": {"type": "string"},
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
    },
}

MODELS = {"TokenRequest": TOKEN_REQUEST, "TokenResponse": TOKEN, "TokenError": TOKEN_ERROR}
