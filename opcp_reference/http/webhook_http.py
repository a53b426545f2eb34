"""Webhook endpoint handlers (reference/webhooks.v1.json) and the delivery log (an extension)."""

from __future__ import annotations

from aiohttp import web

from opcp.errors import BadRequest
from opcp_reference.context import Reference
from opcp_reference.domain import webhooks
from opcp_reference.domain.auth import Principal
from opcp_reference.http.request_scope import OBJECT_IDS, read_json


async def get_webhooks(request: web.Request, ref: Reference, who: Principal):
    return web.json_response(webhooks.list_endpoints(ref.store, who, ref.faults))


async def _body(request: web.Request, ref: Reference) -> object:
    try:
        return await read_json(request)
    except BadRequest:
        if ref.faults.on("webhook-lax-validation"):
            return {}  # the fault takes whatever came
        raise


async def add_webhook(request: web.Request, ref: Reference, who: Principal):
    body = webhooks.create_endpoint(ref.store, who, await _body(request, ref), ref.faults)
    request[OBJECT_IDS] = [f"id={body['id']}"]  # the audit names the new endpoint
    # The secret is in this body, once: keep intermediaries from storing it.
    return web.json_response(body, status=201, headers={"Cache-Control": "no-store"})


async def get_webhook(request: web.Request, ref: Reference, who: Principal):
    return web.json_response(
        webhooks.get_endpoint(ref.store, who, request.match_info["id"], ref.faults))


async def update_webhook(request: web.Request, ref: Reference, who: Principal):
    endpoint_id = request.match_info["id"]
    body = await _body(request, ref)
    return web.json_response(
        webhooks.update_endpoint(ref.store, who, endpoint_id, body, ref.faults))


async def delete_webhook(request: web.Request, ref: Reference, who: Principal):
    webhooks.delete_endpoint(ref.store, who, request.match_info["id"], ref.faults)
    return web.Response(status=200)


async def get_webhook_deliveries(request: web.Request, ref: Reference, who: Principal):
    return web.json_response(
        webhooks.delivery_log(ref.store, who, request.match_info["id"], ref.faults))


HANDLERS = {
    "getWebhooks": get_webhooks,
    "addWebhook": add_webhook,
    "getWebhook": get_webhook,
    "updateWebhook": update_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookDeliveries": get_webhook_deliveries,
}
