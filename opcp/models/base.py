"""The shape of an operation's model: what it takes and what it may answer."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OpModel:
    """`responses` maps each declared status to the body model it carries (None: no body
    is promised); `request` names the request body model; `query` gives parameter schemas."""

    responses: dict[int, str | None]
    request: str | None = None
    query: dict[str, dict] = field(default_factory=dict)
    # Spec errata: status -> (erratum id, model the lenient profile also accepts). A body that
    # fails the strict model but fits this one is a warning in lenient, a failure in strict.
    lenient: dict[int, tuple[str, str]] = field(default_factory=dict)


# Every secured operation may answer 401 and 403 with the Error body, whether or not the
# spec lists them for that operation (erratum E-STATUS-1 in docs/errata.md).
SECURED_ERRORS = {401: "Error", 403: "Error"}
