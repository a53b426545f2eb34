"""aiohttp face of the OCSP responder (RFC 6960 Appendix A): GET with the base64 DER
request in the path, POST with an ``application/ocsp-request`` body.

The handler stays thin: decode the transport, call ``v2g.pki.ocsp.respond`` with the
``lookup`` and ``signer`` it was given (so any store, e.g. the reference's revocation
table with its admin entry point, plugs in), and send ``application/ocsp-response``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from aiohttp import web

from v2g.pki.ocsp import Lookup, Signer, SignerFor, respond

__all__ = ["MAX_REQUEST", "REQUEST_TYPE", "RESPONSE_TYPE", "ocsp_app", "ocsp_handler"]

REQUEST_TYPE = "application/ocsp-request"
RESPONSE_TYPE = "application/ocsp-response"
MAX_REQUEST = 16 * 1024  # an OCSP request for one certificate is ~100 bytes


def ocsp_handler(lookup: Lookup, signer: Signer | SignerFor
                 ) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        if request.method == "POST":
            ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if ctype != REQUEST_TYPE:
                return web.json_response(
                    {"errorMessages": [f"Content-Type must be {REQUEST_TYPE}"]}, status=415)
            if (request.content_length or 0) > MAX_REQUEST:
                return web.json_response({"errorMessages": ["request too large"]}, status=413)
            body = await request.read()
        else:
            encoded = unquote(request.match_info.get("request", ""))
            try:
                # Some clients drop the base64 padding; some keep URL-unsafe characters.
                body = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=False)
            except (binascii.Error, ValueError):
                body = b""
        der = respond(body, lookup, signer)
        return web.Response(body=der, content_type=RESPONSE_TYPE,
                            headers={"Cache-Control": "no-store"})

    return handle


def ocsp_app(lookup: Lookup, signer: Signer | SignerFor, *, path: str = "/ocsp") -> web.Application:
    app = web.Application(client_max_size=MAX_REQUEST)
    handler = ocsp_handler(lookup, signer)
    app.router.add_post(path, handler)
    app.router.add_get(path.rstrip("/") + "/{request:.+}", handler)
    return app
