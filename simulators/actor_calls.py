"""What every simulated actor shares: talking OPCP through `opcp.client` and reading answers."""

from __future__ import annotations

import base64
from collections.abc import Callable

from opcp.client import Exchange, OpcpClient
from simulators.webhook_receiver import Receiver
from v2g.namespaces import ISO2_MSG_DEF

ISO2 = ISO2_MSG_DEF


class ActorError(Exception):
    """An OPCP call did not give what the actor needs; `exchange` holds the answer."""

    def __init__(self, what: str, exchange: Exchange):
        super().__init__(f"{what}: {exchange.method} {exchange.url} answered {exchange.status} "
                         f"{exchange.response_body[:300]}")
        self.exchange = exchange


def expect(exchange: Exchange, what: str, *statuses: int) -> Exchange:
    if exchange.status not in (statuses or (200,)):
        raise ActorError(what, exchange)
    return exchange


def parsed(exchange: Exchange, what: str, read):
    """`read(exchange.json())`, or an ActorError when the answer lacks what the actor needs
    (a target's malformed answer is the target's failure, not the actor's crash)."""
    try:
        return read(exchange.json())
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise ActorError(f"{what}: unreadable answer ({type(exc).__name__}: {exc})", exchange) from None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode("".join(text.split()), validate=True)


def trusted_roots(client: OpcpClient, role: str, party: int, root_type: str) -> list[bytes]:
    """The RCP's roots of one type (mo, v2g, oem), as DER."""
    got = expect(client.op("getAllRootCerts", role=role, party=party,
                           params={"rootType": root_type}), f"list {root_type} roots")
    return parsed(got, f"list {root_type} roots", lambda body: [
        unb64(r["caCertificate"]) for r in body["RootCertificateCollection"]["rootCertificates"]])


def subscribe(client: OpcpClient, role: str, party: int, receiver: Receiver, hook: str, url: str,
              events: tuple[str, ...], on_event: Callable[[dict], None], description: str) -> str:
    """Create an actor's webhook endpoint at `url` (served by `receiver` as `hook`) and hand
    what arrives there, signature verified, to `on_event`; returns the endpoint id."""
    got = expect(client.op("addWebhook", role=role, party=party,
                           json={"url": url, "enabledEvents": list(events),
                                 "description": description}),
                 "subscribe to webhook events", 201)
    created = parsed(got, "subscribe to webhook events",
                     lambda body: {"id": str(body["id"]), "secret": str(body["secret"])})
    # The secret is shown once: it goes straight to the receiver, which checks signatures.
    client.remember_secret(created["secret"])
    receiver.register(hook, created["secret"])
    receiver.listen(hook, on_event)
    return created["id"]


def unsubscribe(client: OpcpClient, role: str, party: int, endpoint_id: str) -> None:
    expect(client.op("deleteWebhook", {"id": endpoint_id}, role=role, party=party),
           "delete the webhook endpoint", 200, 204)
