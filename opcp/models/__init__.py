"""The project's model of the OPCP API: response schemas per operation and status.

Written here from the facts of the spec (field names, types, patterns, enums); the spec's
own JSON files are not copied. `check_body` validates a decoded body against a model and
returns readable problems, each naming the JSON path and the rule.
"""

from __future__ import annotations

from jsonschema import Draft202012Validator, FormatChecker

from opcp.models import common, pcp, rcp

MODELS: dict[str, dict] = {**common.MODELS, **rcp.MODELS, **pcp.MODELS}


def check_body(model: str, body: object) -> list[str]:
    validator = Draft202012Validator(MODELS[model], format_checker=FormatChecker())
    problems = []
    for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
        where = "$" + "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}"
                              for p in error.absolute_path)
        problems.append(f"{where}: {error.message} (rule: {error.validator})")
    return problems
