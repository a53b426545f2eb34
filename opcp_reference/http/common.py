"""Pieces every HTTP module of the reference uses."""

from __future__ import annotations

import json

from aiohttp import web

from opcp.errors import BadRequest
from opcp_reference.context import Reference

CTX = web.AppKey("reference", Reference)
TRACE_ID = web.RequestKey("trace_id", str)
PRINCIPAL = web.RequestKey("principal", object)  # opcp_reference.domain.auth.Principal


async def read_json(request: web.Request) -> object:
    """The request body as JSON; a clear 400 when it is not."""
    raw = await request.read()
    if not raw:
        raise BadRequest("body: a JSON body is required")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"body: is not valid JSON ({exc})") from None
