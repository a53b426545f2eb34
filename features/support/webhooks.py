"""The suite's webhook endpoints: where its receiver listens and how endpoints are made.

Guarantees: an endpoint a scenario creates is deleted after it by its owner; its signing
secret goes to the client's mask (and to the receiver), never into scenario state, which
reports show.
"""

from __future__ import annotations

from features.support.context import Scenario
from opcp.client import Exchange, OpcpClient
from opcp.target import Target
from simulators.webhook_receiver import ReceiverServer

CRUD_URL = "https://webhooks.example.invalid/opcp-suite"
ARRIVAL_TIMEOUT = 15.0  # seconds a delivery may take to arrive when nothing is retried


def receiver_url(target: Target, server: ReceiverServer, hook: str) -> str:
    """The URL under which the target reaches the receiver's `hook` (the target file's
    `[webhook] receiver_url` when the target sees this machine under another name)."""
    base = target.webhook.get("receiver_url")
    if base:
        return str(base).format(port=server.port).rstrip("/") + f"/hooks/{hook}"
    return server.url(hook)


def pace(target: Target, key: str) -> float | None:
    """A number of seconds from the target file's `[webhook]` table, if given."""
    value = target.webhook.get(key)
    return float(value) if isinstance(value, int | float) else None


def without_secret(endpoint: dict) -> dict:
    # Scenario state is shown in reports; the secret must not be.
    return {k: v for k, v in endpoint.items() if k != "secret"}


def delete_after(api: OpcpClient, ctx: Scenario, endpoint_id: str, role: str, party: int) -> None:
    ctx.cleanups.append(lambda: api.op("deleteWebhook", {"id": endpoint_id}, role=role,
                                       party=party))


def create_endpoint(api: OpcpClient, ctx: Scenario, body: dict, role: str, party: int) -> Exchange:
    """addWebhook with `body` as `role` number `party + 1`; a created endpoint is deleted
    after the scenario."""
    got = api.op("addWebhook", role=role, party=party, json=body)
    if got.status == 201:
        created = got.json()
        api.remember_secret(created.get("secret", ""))
        delete_after(api, ctx, created["id"], role, party)
    return got
