"""OAuth2 token endpoint and the JWKS of the reference's token signing keys.

The endpoint takes the spec's JSON body. Deployed clients' habits are accommodated here,
before the grant is checked (opcp_reference/compat.py): a form-encoded body (RFC 6749), an
audience naming this instance's own URL (its public URL, or the base URL the request was sent
to), and no audience at all; the last two are read as this instance's audience, so the token
is the one a spec-conform request buys. Strict, each is refused naming the rule it bends.
"""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from opcp.errors import OAuthError
from opcp_reference import compat
from opcp_reference.domain import auth, pki
from opcp_reference.http.request_scope import CTX, OBJECT_IDS, OPERATION


async def issue_token(request: web.Request) -> web.Response:
    ref = request.app[CTX]
    request[OPERATION] = "issue-token"
    form = await _token_form(request)
    if isinstance(form.get("client_id"), str):
        request[OBJECT_IDS] = [f"client_id={form['client_id'][:64]}"]
    _read_audience(request, ref, form)
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
            compat.accommodate(request.app[CTX], request, "token-form-encoded")
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


def _own_urls(request: web.Request, ref) -> set[str]:
    return {_url_key(pki.public_url(ref.store)), _url_key(f"{request.scheme}://{request.host}")}


def _url_key(url: str) -> str:
    scheme, sep, rest = url.strip().partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}{sep}{host.lower()}{slash}{path}".rstrip("/")


def _read_audience(request: web.Request, ref, form: dict) -> None:
    """An audience left out, or naming this instance's own URL, is this instance's audience."""
    audience = form.get("audience")
    if audience is None or audience == "":
        compat.accommodate(ref, request, "token-audience-missing")
        form["audience"] = ref.auth.audience
    elif (isinstance(audience, str) and audience != ref.auth.audience
          and _url_key(audience) in _own_urls(request, ref)):
        compat.accommodate(ref, request, "token-audience-base-url")
        form["audience"] = ref.auth.audience


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
