"""OAuth2 token endpoint and the JWKS of the reference's token signing keys."""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from opcp.errors import OAuthError
from opcp_reference.domain import auth
from opcp_reference.http.common import CTX, OBJECT_IDS, OPERATION


async def issue_token(request: web.Request) -> web.Response:
    ref = request.app[CTX]
    request[OPERATION] = "issue-token"
    form = await _token_form(request)
    if isinstance(form.get("client_id"), str):
        request[OBJECT_IDS] = [f"client_id={form['client_id'][:64]}"]
    body = auth.issue_token(ref.store, ref.auth, form, ref.faults, ref.throttle)
    # RFC 6749 5.1: token responses must not be cached.
    return web.json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def _token_form(request: web.Request) -> dict:
    """The grant's fields from a JSON body (as the spec shows) or a form body (RFC 6749),
    with client credentials optionally in HTTP Basic (RFC 6749 2.3.1)."""
    raw = await request.read()
    ctype = request.content_type
    try:
        if ctype == "application/x-www-form-urlencoded":
            form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        elif raw:
            form = json.loads(raw)
            if not isinstance(form, dict):
                raise ValueError("not an object")
        else:
            form = {}
    except (UnicodeDecodeError, ValueError):
        raise OAuthError(400, "invalid_request",
                         "body: must be a JSON object or a form-encoded body") from None
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError(400, "invalid_request", "Authorization: bad Basic credentials") from None
        form.setdefault("client_id", unquote(user))
        form.setdefault("client_secret", unquote(password))
    return form


async def get_jwks(request: web.Request) -> web.Response:
    return web.json_response(auth.jwks(request.app[CTX].store))


async def get_openapi(request: web.Request) -> web.Response:
    from opcp import openapi

    return web.json_response(openapi.build(f"{request.scheme}://{request.host}"))


ROUTES = [
    ("/oauth/token", "POST", issue_token),
    ("/.well-known/jwks.json", "GET", get_jwks),
    ("/openapi.json", "GET", get_openapi),
]
