"""The reference ecosystem's aiohttp application.

Every operation of the role table (`opcp.access.OPERATIONS`) is routed here; the service
modules in `opcp_reference.http` supply handlers for the operations they implement, and an
operation without a handler yet answers 501 after authentication and authorisation, so the
role rules hold for the whole API from the first version on.

Every error, including unknown routes and wrong methods, leaves as the spec's Error body
with a fresh traceId, and the same traceId is in that request's log line.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from opcp.access import ACCESS, OPERATIONS, Operation
from opcp.errors import ApiError, BadRequest, Forbidden, NotImplementedYet, OAuthError
from opcp_reference import audit, compat, webhook_delivery
from opcp_reference.context import Reference
from opcp_reference.domain import auth
from opcp_reference.http import (
    admin_http,
    auth_http,
    ccp_http,
    cps_http,
    est_http,
    ocsp_http,
    pcp_http,
    rcp_http,
    webhook_http,
)
from opcp_reference.http.request_scope import CTX, OBJECT_IDS, OPERATION, PRINCIPAL, TRACE_ID

log = logging.getLogger("opcp.reference")

MAX_BODY = 1024 * 1024  # bytes; larger bodies are refused with 413

Handler = Callable[[web.Request, Reference, auth.Principal], Awaitable[web.StreamResponse]]
SERVICE_MODULES = [rcp_http, admin_http, webhook_http, pcp_http, est_http, cps_http, ccp_http]


def error_body(trace_id: str, messages: list[str], faults) -> dict:
    body: dict = {"errorMessages": messages}
    if not faults.on("error-without-trace-id"):
        body["traceId"] = trace_id
    return body


@web.middleware
async def trace_and_errors(request: web.Request, handler) -> web.StreamResponse:
    ref: Reference = request.app[CTX]
    trace_id = str(uuid.uuid4())
    request[TRACE_ID] = trace_id
    started = time.perf_counter()
    status = 500
    try:
        async with asyncio.timeout(ref.request_timeout):
            response = await handler(request)
        status = response.status
        return response
    except TimeoutError:
        status = 503
        return web.json_response(error_body(trace_id, [f"request: not completed within "
                                                       f"{ref.request_timeout:g} s"], ref.faults),
                                 status=503, headers={"Retry-After": "1"})
    except ApiError as exc:
        status = exc.status
        body = error_body(trace_id, exc.messages, ref.faults)
        if isinstance(exc, OAuthError):
            body = {"error": exc.code, "error_description": exc.messages[0], **body}
        return web.json_response(body, status=exc.status, headers=exc.headers)
    except web.HTTPException as exc:
        status = exc.status
        if exc.status < 400:
            raise
        reason = {404: f"{request.path}: no such resource",
                  405: f"{request.method} {request.path}: method not allowed",
                  413: f"body: larger than {MAX_BODY} bytes"}.get(exc.status, exc.reason)
        headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        return web.json_response(error_body(trace_id, [reason], ref.faults), status=exc.status,
                                 headers=headers)
    except Exception:
        log.exception("unhandled error traceId=%s", trace_id)
        return web.json_response(error_body(trace_id, ["internal error"], ref.faults), status=500)
    finally:
        principal = request.get(PRINCIPAL)
        if audit.should_record(request.method, status, request.get(OPERATION)):
            _audit(ref, request, principal, status, trace_id)
        if compat.FINDINGS in request:
            compat.record(ref, request, client_id=_client_of(request, principal),
                          role=principal.role.value if principal else None, status=status,
                          trace_id=trace_id)
        log.info("%s %s -> %s traceId=%s client=%s %.1fms", request.method, request.path_qs,
                 status, trace_id, principal.client_id if principal else "-",
                 (time.perf_counter() - started) * 1000)


def _audit(ref: Reference, request: web.Request, principal, status: int, trace_id: str) -> None:
    ids = [f"{k}={v}" for k, v in request.match_info.items()] + request.get(OBJECT_IDS, [])
    try:
        audit.record(ref.store, client_id=principal.client_id if principal else None,
                     role=principal.role.value if principal else None,
                     operation=request.get(OPERATION, f"{request.method} {request.path}"),
                     object_ids=ids, status=status, trace_id=trace_id)
    except Exception:  # the answer is already decided; a failed audit write must be seen
        log.exception("audit record failed traceId=%s", trace_id)


def _client_of(request: web.Request, principal) -> str | None:
    """The authenticated client, or the client id a token request claimed."""
    if principal:
        return principal.client_id
    claimed = [i for i in request.get(OBJECT_IDS, []) if i.startswith("client_id=")]
    return claimed[0].partition("=")[2] if claimed else None


def _secured(op: Operation, handler: Handler | None) -> Callable[[web.Request], Awaitable]:
    async def route(request: web.Request) -> web.StreamResponse:
        ref: Reference = request.app[CTX]
        request[OPERATION] = op.name
        principal = auth.verify_token(ref.store, ref.auth, request.headers.get("Authorization"),
                                      ref.faults)
        request[PRINCIPAL] = principal
        if ref.faults.on("auth-refuse-api-key") and "x-api-key" in request.headers:
            raise BadRequest("x-api-key: not accepted here")
        if not (op.allows(principal.role) or ref.faults.opens(op.name)):
            raise Forbidden(f"role {principal.role.value} may not call {op.name}")
        if handler is None:
            raise NotImplementedYet(f"{op.name}: not implemented by this reference version")
        return await handler(request, ref, principal)

    route.__name__ = op.name
    return route


def create_app(ref: Reference) -> web.Application:
    app = web.Application(middlewares=[trace_and_errors], client_max_size=MAX_BODY)
    app[CTX] = ref
    handlers: dict[str, Handler] = {}
    for module in SERVICE_MODULES:
        for name, handler in module.HANDLERS.items():
            assert name in ACCESS, f"{module.__name__} implements unknown operation {name}"
            handlers[name] = handler
    for path, method, view in auth_http.ROUTES + ocsp_http.ROUTES:
        app.router.add_route(method, path, view)
    for op in OPERATIONS:
        app.router.add_route(op.method, op.path, _secured(op, handlers.get(op.name)))
    # Further paths of an operation: other readings of the spec (docs/errata.md), and paths
    # only some clients call, which are accommodated as habits (opcp_reference/compat.py).
    for module in SERVICE_MODULES:
        for alias in getattr(module, "ALIASES", ()):
            app.router.add_route(alias.method, alias.path, _secured(
                ACCESS[alias.operation], alias.wrap(handlers.get(alias.operation))))
    webhook_delivery.install(app, ref)  # delivers the outbox while the app runs
    return app
