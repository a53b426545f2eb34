"""How a step calls the target as the scenario's caller, and reads a JSON answer.

Guarantees: every request names its operation from the role table (`opcp.access`), never a
path; the caller is the scenario's (its role and party, an explicit token, or none at all),
and the exchange becomes the scenario's `last` answer for the checks that follow.
"""

from __future__ import annotations

import json

from features.support.context import Scenario
from opcp import media_types
from opcp.client import Exchange, OpcpClient


def send(api: OpcpClient, ctx: Scenario, operation: str, path_params: dict | None = None,
         **kwargs) -> Exchange:
    """Call `operation` as the scenario's caller; the answer is the scenario's last."""
    if ctx.anonymous:
        ctx.last = api.op(operation, path_params, **kwargs)
    elif ctx.token is not None:
        ctx.last = api.op(operation, path_params, token=ctx.token, **kwargs)
    else:
        ctx.last = api.op(operation, path_params, role=ctx.role, party=ctx.party, **kwargs)
    return ctx.last


def send_path(api: OpcpClient, ctx: Scenario, method: str, service: str, path: str,
              **kwargs) -> Exchange:
    """A request to a path the role table does not route (an unknown resource, a client's
    alias), made from a table path by the caller: as the scenario's caller."""
    if ctx.anonymous:
        ctx.last = api.call(method, service, path, **kwargs)
    elif ctx.token is not None:
        ctx.last = api.call(method, service, path, token=ctx.token, **kwargs)
    else:
        ctx.last = api.call(method, service, path, role=ctx.role, party=ctx.party, **kwargs)
    return ctx.last


def json_body(ctx: Scenario):
    """The last answer's JSON body; an AssertionError naming what is wrong when it is none."""
    got = ctx.response
    ctype = got.response_headers.get("content-type", "")
    assert media_types.is_json(ctype), (
        f"expected a JSON body (Content-Type application/json), got {ctype!r}: "
        f"{got.response_body[:300]}")
    try:
        return json.loads(got.response.content)
    except ValueError as exc:
        raise AssertionError(
            f"the body is not valid JSON ({exc}): {got.response_body[:300]}") from None
