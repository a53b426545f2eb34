"""An OpenAPI 3.1 description of the API, generated from the project's models.

The reference serves it at `/openapi.json`; Schemathesis reads it to fuzz every operation.
Only operations that have a model are described: an operation without one is not built yet.
"""

from __future__ import annotations

import re

from opcp.access import OPERATIONS
from opcp.models import MODELS, OPERATION_MODELS, SECURED_ERRORS

VERSION = "1.0.0"
_PATTERNS = {  # path parameters with a known form (docs/05_handling-of-ids.md)
    "pcid": {"type": "string", "pattern": "^[a-zA-Z0-9]{17,18}$"},
    "emaid": {"type": "string", "pattern": "^[A-Za-z]{2}-?[A-Za-z0-9]{3}-?[A-Za-z0-9]{9}(-?[A-Za-z0-9])?$"},
}


def _ref(model: str) -> dict:
    return {"$ref": f"#/components/schemas/{model}"}


def build(server_url: str | None = None) -> dict:
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        model = OPERATION_MODELS.get(op.name)
        if model is None:
            continue
        responses = {}
        for status, body in sorted({**SECURED_ERRORS, **model.responses}.items()):
            entry: dict = {"description": f"HTTP {status}"}
            if body:
                entry["content"] = {"application/json": {"schema": _ref(body)}}
            responses[str(status)] = entry
        parameters = [{"name": name, "in": "path", "required": True,
                       "schema": _PATTERNS.get(name, {"type": "string"})}
                      for name in re.findall(r"{([^}]+)}", op.path)]
        parameters += [{"name": name, "in": "query", "required": False, "schema": schema}
                       for name, schema in model.query.items()]
        operation = {"operationId": op.name, "tags": [op.service], "responses": responses,
                     "security": [{"bearer": []}], "deprecated": op.deprecated,
                     "description": f"Roles: {', '.join(sorted(r.value for r in op.roles))}. "
                                    f"Spec: {op.spec_ref}."}
        if parameters:
            operation["parameters"] = parameters
        if model.request:
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": _ref(model.request)}}}
        paths.setdefault(op.path, {})[op.method.lower()] = operation
    paths["/oauth/token"] = {"post": {
        "operationId": "issue-token", "tags": ["auth"],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": _ref("TokenRequest")},
            "application/x-www-form-urlencoded": {"schema": _ref("TokenRequest")}}},
        "responses": {
            "200": {"description": "a token",
                    "content": {"application/json": {"schema": _ref("TokenResponse")}}},
            **{str(s): {"description": f"HTTP {s}",
                        "content": {"application/json": {"schema": _ref("TokenError")}}}
               for s in (400, 401, 429)}}}}
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "OPCP reference ecosystem", "version": VERSION,
                 "description": "Generated from the OPCP conformance harness's API models."},
        "paths": paths,
        "components": {
            "schemas": MODELS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "bearerFormat": "JWT"}},
        },
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc
