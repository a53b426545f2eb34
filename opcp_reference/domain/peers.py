"""Pool collaboration: a provisioning certificate this ecosystem lacks is asked for at the
peer ecosystems it knows (`opcp serve --peer FILE`, a target file per peer).

A forwarded request carries `broadcast: true` (pcp.v1.json: "if set to true, this call is
not getting forwarded to other ecosystems"), so a peer answers from its own pool only and
two pools that list each other cannot loop. Peers are asked in the order given; the first
200 whose certificate passes `accept` wins (the PCP re-checks it against this ecosystem's own
RCP and the OCSP responders: a peer is not trusted blindly). A peer that fails (no token,
5xx, unreachable, an answer `accept` refuses) is logged and skipped: the caller then gets
this pool's 404, not the peer's trouble.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import httpx

from opcp.client import path_of
from opcp.models import check_body
from opcp.target import Target

log = logging.getLogger("opcp.reference.peers")

READER_ROLES = ("MO", "MO_V2G", "CPS", "OEM")  # roles that may read provisioning certificates


async def _token(http: httpx.AsyncClient, peer: Target) -> str | None:
    client = next((c for r in READER_ROLES for c in peer.clients_of(r)), None)
    if client is None:
        log.warning("peer %s: no client of a role that may read provisioning certificates",
                    peer.name)
        return None
    resp = await http.post(peer.token_url, json={
        "client_id": client.client_id, "client_secret": client.client_secret,
        "audience": peer.audience, "grant_type": "client_credentials"})
    if resp.status_code != 200:
        log.warning("peer %s: token request answered %s", peer.name, resp.status_code)
        return None
    return resp.json().get("access_token")


Accept = Callable[[dict], Awaitable[str | None]]  # why an answer is refused, or None


async def _accept_any(data: dict) -> str | None:
    return None


async def find_prov_cert(peers: tuple[Target, ...], pcid: str, accept: Accept = _accept_any
                         ) -> dict | None:
    """ProvisioningCertificateData from the first peer that has the PCID and whose answer
    `accept` takes, else None."""
    if not peers:
        return None
    async with httpx.AsyncClient(timeout=10) as http:
        for peer in peers:
            try:
                token = await _token(http, peer)
                if token is None:
                    continue
                resp = await http.get(peer.url("pcp", path_of("getOEMProvCert", {"pcid": pcid})),
                                      headers={"Authorization": f"Bearer {token}",
                                               "broadcast": "true"})
            except httpx.HTTPError as exc:
                log.warning("peer %s: %s", peer.name, exc)
                continue
            if resp.status_code == 200:
                try:
                    body = resp.json()
                except ValueError:
                    body = None
                # A peer's answer is passed on only in the spec's shape.
                problems = check_body("GetProvisioningCertificateResponse", body)
                if not problems:
                    refused = await accept(body["OEMMessage"])
                    if refused is None:
                        return body["OEMMessage"]
                    log.warning("peer %s: PCID %s refused: %s", peer.name, pcid, refused)
                    continue
                log.warning("peer %s: 200 that is no GetProvisioningCertificateResponse: %s",
                            peer.name, "; ".join(problems[:3]))
            elif resp.status_code != 404:
                log.warning("peer %s answered %s for PCID %s", peer.name, resp.status_code, pcid)
    return None
