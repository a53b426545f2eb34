"""The project's model of the OPCP API: bodies, and what each operation may answer.

Written here from the facts of the spec (field names, types, patterns, enums, status codes);
the spec's own JSON files are not copied. The reference serves an OpenAPI description built
from these models (`opcp.openapi`), and the suite checks every response it receives against
them (`check_response`), so a deployment is judged by one model of the API.
"""

from __future__ import annotations

import re
from functools import cache

from jsonschema import Draft202012Validator, FormatChecker

from opcp import media_types
from opcp.access import ACCESS, Operation
from opcp.models import admin, auth, ccp, cps, errata, error, est, pcp, rcp, webhook
from opcp.models.base import SECURED_ERRORS, OpModel

MODELS: dict[str, dict] = {**error.MODELS, **auth.MODELS, **rcp.MODELS, **admin.MODELS, **webhook.MODELS,
                          **pcp.MODELS, **cps.MODELS, **ccp.MODELS}
MODELS.update(errata.models(MODELS))
OPERATION_MODELS: dict[str, OpModel] = {**rcp.OPERATIONS, **admin.OPERATIONS, **webhook.OPERATIONS,
                                        **pcp.OPERATIONS, **est.OPERATIONS, **cps.OPERATIONS,
                                        **ccp.OPERATIONS}


def check_body(model: str, body: object) -> list[str]:
    validator = Draft202012Validator(MODELS[model], format_checker=FormatChecker())
    problems = []
    for found in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
        where = "$" + "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}"
                              for p in found.absolute_path)
        problems.append(f"{where}: {found.message} (rule: {found.validator})")
    return problems


@cache
def _route_patterns() -> list[tuple[re.Pattern, Operation]]:
    patterns = []
    for op in ACCESS.values():
        regex = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(op.path))
        patterns.append((re.compile(regex + "/?$"), op))
    # Literal segments beat parameters: /rootCerts/lookupVehicle/x before /rootCerts/{id}/x.
    patterns.sort(key=lambda p: -len(p[1].path.split("{")[0]))
    return patterns


def operation_for(method: str, path: str) -> Operation | None:
    """The operation a request addresses, by method and the end of its URL path (a target's
    base URL may add a prefix)."""
    for pattern, op in _route_patterns():
        if op.method == method.upper() and pattern.search(path):
            return op
    return None


def check_response(method: str, path: str, status: int, content_type: str,
                   body: bytes, profile: str = "strict") -> list[str]:
    """Problems of one response against the model of the operation it answers. In the lenient
    profile a body that fits an erratum's alternative model is not a problem: see
    `lenient_findings`."""
    problems, _ = check_response_profiled(method, path, status, content_type, body, profile)
    return problems


def check_response_profiled(method: str, path: str, status: int, content_type: str,
                            body: bytes, profile: str = "strict") -> tuple[list[str], list[str]]:
    """(problems, erratum notes) of one response. A body that fits another reading the spec
    supports (an erratum's alternative) has no problem in either profile: the note names the
    erratum, for the report. `profile` is kept for callers; errata do not depend on it."""
    problems = _check_response(method, path, status, content_type, body)
    op = operation_for(method, path)
    if not problems or op is None or op.name not in OPERATION_MODELS:
        return problems, []
    model = OPERATION_MODELS[op.name].responses.get(status)
    if model is None:
        return problems, []
    import json

    try:
        parsed = json.loads(body)
    except ValueError:
        return problems, []
    for alt in errata.alternatives_of(model):
        if not check_body(alt.name, parsed):
            finding = (f"{alt.erratum}: {op.name} answered the {alt.name} form "
                       f"({'; '.join(problems)})")
            return [], [finding]
    return problems, []


def _check_response(method: str, path: str, status: int, content_type: str,
                    body: bytes) -> list[str]:
    op = operation_for(method, path)
    if op is None or op.name not in OPERATION_MODELS:
        return []
    declared = {**SECURED_ERRORS, **OPERATION_MODELS[op.name].responses}
    where = f"{op.name} ({op.spec_ref})"
    if status not in declared:
        return [f"{where}: HTTP {status} is not a declared response "
                f"(declared: {sorted(declared)})"]
    model = declared[status]
    if model is None:
        return []
    if not media_types.is_json(content_type):
        return [f"{where}: HTTP {status} must carry application/json, got {content_type!r}"]
    import json

    try:
        parsed = json.loads(body)
    except ValueError as exc:
        return [f"{where}: HTTP {status} body is not JSON ({exc})"]
    return [f"{where}: HTTP {status} {model}: {p}" for p in check_body(model, parsed)]
