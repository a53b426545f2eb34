"""Pool collaboration: a provisioning certificate or contract this ecosystem lacks is asked
for at the peer ecosystems it knows (`opcp serve --peer FILE`, a target file per peer).

CCP forwarding (`forward`, getSignedContractData and provideSignedContractData): the request
goes to each peer in turn with `broadcast: true`, authenticated with that peer's own client of
the caller's role, within bounded timeouts (`PEER_READ_SECONDS`); the first 200 in the spec's shape
wins. A peer that is down (no connection), slow (timeout) or failing (5xx, a 200 of the wrong
shape) is reported: when no peer had the data and one failed, the caller gets 502 (down or
failing) or 504 (slow) naming each such peer, never a hang and never a silent 404.

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
from dataclasses import dataclass

import httpx

from opcp.access import ACCESS
from opcp.client import path_of
from opcp.errors import ApiError
from opcp.models import check_body
from opcp.target import Target

log = logging.getLogger("opcp.reference.peers")

READER_ROLES = ("MO", "MO_V2G", "CPS", "OEM")  # roles that may read provisioning certificates


def _http(peer: Target, timeout: httpx.Timeout) -> httpx.AsyncClient:
    """A client for one peer, with the TLS settings of its target file (its CA, its client
    certificate)."""
    return httpx.AsyncClient(timeout=timeout, verify=peer.tls.httpx_verify())


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


def _shaped(resp: httpx.Response, model: str) -> tuple[object, list[str]]:
    """A peer's JSON body and how it misses `model` ([] when it is in the spec's shape)."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    return body, check_body(model, body)


Accept = Callable[[dict], Awaitable[str | None]]  # why an answer is refused, or None


async def _accept_any(data: dict) -> str | None:
    return None


async def find_prov_cert(peers: tuple[Target, ...], pcid: str, accept: Accept = _accept_any
                         ) -> dict | None:
    """ProvisioningCertificateData from the first peer that has the PCID and whose answer
    `accept` takes, else None."""
    for peer in peers:
        async with _http(peer, httpx.Timeout(10)) as http:
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
                # A peer's answer is passed on only in the spec's shape.
                body, problems = _shaped(resp, "GetProvisioningCertificateResponse")
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


# A peer gets 2 s to accept the connection and 5 s per read: a CPO's CertificateInstallation
# must fit ISO 15118's timeouts (INTEROP item 11), so a slow peer is cut off, not waited for.
# (An instance running at test pace, as the suite's embedded one, may cut it off sooner:
# `Reference.peer_read_seconds`.)
PEER_READ_SECONDS = 5.0


def _peer_timeout(read_seconds: float) -> httpx.Timeout:
    return httpx.Timeout(read_seconds, connect=min(2.0, read_seconds))


@dataclass(frozen=True)
class PeerFailure:
    peer: str
    slow: bool  # a timeout (504) rather than no connection or a bad answer (502)
    detail: str


class PeerUnavailable(ApiError):
    """No peer had the data and at least one could not answer: 502, or 504 when all that
    failed were slow."""

    def __init__(self, failures: list[PeerFailure]):
        self.status = 504 if all(f.slow for f in failures) else 502
        super().__init__(*(f"peer {f.peer}: {f.detail}" for f in failures))


async def _peer_token(http: httpx.AsyncClient, peer: Target, role: str) -> str:
    client = peer.client(role)
    if client is None:
        raise ValueError(f"the peer's target file has no {role} client")
    resp = await http.post(peer.token_url, json={
        "client_id": client.client_id, "client_secret": client.client_secret,
        "audience": peer.audience, "grant_type": "client_credentials"})
    if resp.status_code != 200:
        raise ValueError(f"its token endpoint answered {resp.status_code} for {client.client_id}")
    return str(resp.json().get("access_token"))


async def forward(peers: tuple[Target, ...], operation: str, role: str, model: str,
                  path_params: dict[str, str] | None = None, json: object = None,
                  params: dict | None = None,
                  read_seconds: float = PEER_READ_SECONDS) -> dict | None:
    """The first peer's 200 body (in the shape of `model`) for `operation`, asked as `role`
    with `broadcast: true`; None when every peer answered it has nothing. Raises
    `PeerUnavailable` when none had it and some could not answer (a peer silent for
    `read_seconds` is slow)."""
    failures: list[PeerFailure] = []
    op = ACCESS[operation]
    for peer in peers:
        async with _http(peer, _peer_timeout(read_seconds)) as http:
            try:
                token = await _peer_token(http, peer, role)
                resp = await http.request(
                    op.method, peer.url(op.service, path_of(op, path_params)), json=json,
                    params=params, headers={"Authorization": f"Bearer {token}",
                                            "broadcast": "true"})
            except httpx.TimeoutException:
                failures.append(PeerFailure(peer.name, True, "no answer within"
                                            f" {read_seconds:g} s ({operation})"))
                continue
            except (httpx.HTTPError, ValueError) as exc:
                failures.append(PeerFailure(peer.name, False, f"unreachable ({exc})"))
                continue
            if resp.status_code == 200:
                body, problems = _shaped(resp, model)
                if not problems:
                    return body
                failures.append(PeerFailure(peer.name, False, f"answered 200 that is no {model}:"
                                            f" {'; '.join(problems[:2])}"))
            elif resp.status_code >= 500:
                failures.append(PeerFailure(peer.name, False,
                                            f"answered {resp.status_code} to {operation}"))
            else:
                log.info("peer %s: %s answered %s", peer.name, operation, resp.status_code)
    if failures:
        raise PeerUnavailable(failures)
    return None
