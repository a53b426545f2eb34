"""What every simulated actor shares: talking OPCP through `opcp.client` and reading answers."""

from __future__ import annotations

import base64

from opcp.client import Exchange, OpcpClient

ISO2 = "urn:iso:15118:2:2013:MsgDef"


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
    got = expect(client.call("GET", "rcp", f"/v1/root/rootCerts?rootType={root_type}", role=role,
                             party=party), f"list {root_type} roots")
    return parsed(got, f"list {root_type} roots", lambda body: [
        unb64(r["caCertificate"]) for r in body["RootCertificateCollection"]["rootCertificates"]])
