"""The habits of deployed OPCP clients the reference accommodates, and what it does about them.

Guarantees:
- Every accommodation is a row of `HABITS`: the client habit, the clients known to have it,
  the spec rule it bends, its compatibility rule in `opcp.rules` and the fault switch that
  refuses it alone. Nothing outside this table bends the spec for a client.
- An accommodation is made only through `accommodate`: it refuses the habit (an error naming
  the rule it bends and the compatibility rule) when the reference runs strict
  (`Reference.strict`, `opcp serve --strict`) or the habit's fault switch is on; otherwise it
  remembers the habit on the request, and `record` turns each remembered habit into a log
  line and an audit row (`opcp audit`) once the request is answered.
- No secret reaches a finding: it names the client id, the habit and the request path only.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from opcp.errors import ApiError, BadRequest, NotFound, OAuthError
from opcp.rules import COMPATIBILITY, RULES
from opcp_reference import audit
from opcp_reference.context import Reference

log = logging.getLogger("opcp.reference.compat")

FINDINGS = web.RequestKey("compatibility_findings", list)  # habit names met in this request


@dataclass(frozen=True)
class Habit:
    rule: str  # its compatibility rule in opcp.rules
    fault: str  # the fault switch that refuses this habit alone
    clients: str  # who is known to do it (INTEROP.md, docs/clients.md)
    what: str  # the habit, in words
    bends: str  # the spec rule it bends
    field: str  # what the refusal names first (a field, header or path)
    status: int  # the refusal's status
    oauth_code: str | None = None  # the RFC 6749 error code, for the token endpoint

    def refusal(self, why: str) -> ApiError:
        text = (f"{self.field}: {self.bends} (compatibility rule {self.rule}: {self.what};"
                f" clients: {self.clients}; refused here because {why})")
        if self.oauth_code:
            return OAuthError(self.status, self.oauth_code, text)
        return (NotFound if self.status == 404 else BadRequest)(text)


HABITS: dict[str, Habit] = {
    "token-audience-base-url": Habit(
        "AUTH-AUDIENCE-BASE-URL", "compat-refuse-audience-base-url", "CitrineOS",
        "the token request names the base URL the client calls as its audience",
        "must be the audience this ecosystem serves (accessToken.v1.json audience)",
        "audience", 400, "invalid_target"),
    "token-audience-missing": Habit(
        "AUTH-AUDIENCE-DEFAULT", "compat-refuse-missing-audience", "MaEVe",
        "the token request carries no audience",
        "is required (accessToken.v1.json token request: required audience)",
        "audience", 400, "invalid_request"),
    "token-form-encoded": Habit(
        "AUTH-FORM", "compat-refuse-form-token", "CitrineOS and RFC 6749 clients",
        "the token request is form-encoded (RFC 6749 section 4.4.2)",
        "must be application/json (accessToken.v1.json token request body)",
        "Content-Type", 400, "invalid_request"),
    "est-well-known-short": Habit(
        "EST-WELL-KNOWN-SHORT", "compat-refuse-est-well-known-short", "CitrineOS (since early 2026)",
        "EST is called at /.well-known/{ca}/cacerts and /.well-known/{ca}/simpleenroll, without"
        " est/ and without the iso-version (served as ISO15118-2)",
        "EST is served at /.well-known/est/{ca}/simpleenroll/{iso-version} and"
        " /{ca}/cacerts/{iso-version}/{algorithm}/ (est.v1.json paths)",
        "path", 404),
    "est-no-prefix": Habit(
        "EST-NO-PREFIX", "compat-refuse-est-no-prefix", "MaEVe",
        "simpleenroll is called at /{ca}/simpleenroll/{iso-version}, without /.well-known/est",
        "simpleenroll is at /.well-known/est/{ca}/simpleenroll/{iso-version} (est.v1.json paths)",
        "path", 404),
    "est-no-algorithm": Habit(
        "EST-NO-ALGORITHM", "compat-refuse-est-no-algorithm", "MaEVe and its test scripts",
        "cacerts is called without the {algorithm} segment (served for the CA's curve)",
        "cacerts is at /{ca}/cacerts/{iso-version}/{algorithm}/ (est.v1.json paths)",
        "path", 404),
    "est-chain-leaf-first": Habit(
        "EST-CHAIN-ORDER", "est-chain-root-first", "CitrineOS",
        "the cacerts container is read by position (Sub-CA 2, Sub-CA 1, root; the last taken"
        " for the V2G root), so it is listed in that order",
        "the certificates of a PKCS#7 container are a SET OF, in DER sorted by their encoding"
        " (RFC 5652 section 5.1, X.690 section 11.6)",
        "body", 200),
}

for _habit in HABITS.values():  # a typo in the table fails at import, not at the first client
    assert RULES[_habit.rule].axis == COMPATIBILITY, _habit.rule


def refuses(ref: Reference, name: str) -> bool:
    """Whether this reference refuses the habit (strict mode or the habit's fault switch)."""
    return ref.strict or ref.faults.on(HABITS[name].fault)


def accommodate(ref: Reference, request: web.Request, name: str) -> None:
    """Let the request's habit through and remember it, or raise its refusal."""
    habit = HABITS[name]
    if refuses(ref, name):
        raise habit.refusal("this reference runs strict" if ref.strict
                            else f"the fault switch {habit.fault} is on")
    request.setdefault(FINDINGS, []).append(name)


def record(ref: Reference, request: web.Request, *, client_id: str | None, role: str | None,
           status: int, trace_id: str) -> None:
    """Log and audit each habit the answered request was let through with."""
    for name in request.get(FINDINGS, ()):
        habit = HABITS[name]
        log.warning("compatibility finding %s: %s (%s); bends: %s; %s %s -> %s traceId=%s"
                    " client=%s", habit.rule, habit.what, habit.clients, habit.bends,
                    request.method, request.path, status, trace_id, client_id or "-")
        try:
            audit.record(ref.store, client_id=client_id, role=role,
                         operation=f"compatibility:{habit.rule}",
                         object_ids=[f"habit={name}", f"path={request.path[:200]}"],
                         status=status, trace_id=trace_id)
        except Exception:  # the answer is already sent; a failed audit write must be seen
            log.exception("audit record of a compatibility finding failed traceId=%s", trace_id)


Handler = Callable[..., Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Alias:
    """A further path of an operation. With a habit, the path is one only some clients call:
    every request through it is accommodated (and refused when strict); `defaults` fill in
    the path parameters the alias leaves out."""

    method: str
    path: str
    operation: str
    habit: str | None = None
    defaults: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert self.habit is None or self.habit in HABITS, self.habit

    def wrap(self, handler: Handler | None) -> Handler | None:
        if handler is None or self.habit is None:
            return handler
        habit, defaults = self.habit, self.defaults

        async def through_alias(request: web.Request, ref: Reference, who):
            accommodate(ref, request, habit)
            for key, value in defaults.items():
                request.match_info.setdefault(key, value)
            return await handler(request, ref, who)

        return through_alias
