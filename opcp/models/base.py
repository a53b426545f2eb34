"""The shape of an operation's model: what it takes and what it may answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class OpModel:
    """`responses` maps each declared status to the body model it carries (None: no body
    is promised); `request` names the request body model; `query` gives parameter schemas."""

    responses: dict[int, str | None]
    request: str | None = None
    query: dict[str, dict] = field(default_factory=dict)
    # Forms a spec erratum allows are declared per model, not here: `opcp.models.errata`.


# Every secured operation may answer 401 and 403 with the Error body, whether or not the
# spec lists them for that operation (erratum E-STATUS-1 in docs/errata.md).
SECURED_ERRORS = {401: "Error", 403: "Error"}


def iso_z(when: datetime) -> str:
    """A date-time as OPCP bodies carry it: RFC 3339 in UTC, whole seconds, `Z`."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
