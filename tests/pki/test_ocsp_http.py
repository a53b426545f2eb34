"""OCSP over HTTP: the aiohttp responder in a thread, the httpx client against it."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import threading
from collections.abc import Iterator

import httpx
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.x509 import ocsp

from opcp.ocsp_client import AsyncOcspClient, OcspClient, OcspError
from opcp_reference.ocsp import ocsp_app
from v2g.pki.builder import issue
from v2g.pki.ocsp import GOOD, UNKNOWN, CaIndex, Revoked, build_request
from v2g.pki.testpki import TestPki


class Store:
    """Revocation store for the test: what an admin entry point would write to."""

    def __init__(self) -> None:
        self.revoked: dict[tuple[bytes, int], Revoked] = {}
        self.known: set[tuple[bytes, int]] = set()
        self.calls = 0

    def lookup(self, key_hash: bytes, serial: int):
        self.calls += 1
        if (key_hash, serial) in self.revoked:
            return self.revoked[(key_hash, serial)]
        return GOOD if (key_hash, serial) in self.known else UNKNOWN


class Server:
    def __init__(self, app: web.Application) -> None:
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = self.runner.addresses[0][1]
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def env() -> Iterator[tuple[TestPki, Store, Server]]:
    store = Store()
    holder: dict[str, CaIndex] = {}
    server = Server(ocsp_app(store.lookup, lambda h: holder["index"](h)))
    pki = TestPki.build(ocsp_url=f"http://127.0.0.1:{server.port}/ocsp")
    holder["index"] = CaIndex(pki.ocsp_signers())
    for name in pki.names():
        entry = pki.entries[name]
        if entry.kind.value == "root":
            continue
        issuer = pki[entry.issuer].cert
        for h in _hashes(issuer):
            store.known.add((h, pki[name].cert.serial_number))
    yield pki, store, server
    server.close()


def _hashes(ca: x509.Certificate) -> list[bytes]:
    from v2g.pki.ocsp import issuer_key_hashes

    return list(issuer_key_hashes(ca).values())


def revoke(store: Store, pki: TestPki, name: str) -> None:
    issuer = pki[pki.entries[name].issuer].cert
    for h in _hashes(issuer):
        store.revoked[(h, pki[name].cert.serial_number)] = Revoked(
            dt.datetime(2026, 1, 1, tzinfo=dt.UTC), x509.ReasonFlags.superseded)


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_status_via_aia(env, method: str) -> None:
    pki, _, _ = env
    client = OcspClient(httpx.Client(), method=method)
    for name, issuer in [("v2g1.cpo.secc", "v2g1.cpo.sub2"), ("mo1.sub2", "mo1.sub1"),
                         ("oem2.sub1", "oem2.root")]:
        result = client.status(pki[name].cert, pki[issuer].cert)
        assert result.status == GOOD
        assert result.responder == pki[f"{issuer}.ocsp"].cert


def test_revocation_and_cache(env) -> None:
    pki, store, _ = env
    now = [dt.datetime.now(dt.UTC)]
    client = OcspClient(httpx.Client(), clock=lambda: now[0])
    cert, ca = pki["v2g2.cps.leaf"].cert, pki["v2g2.cps.sub2"].cert
    assert client.status(cert, ca).status == GOOD
    calls = store.calls
    revoke(store, pki, "v2g2.cps.leaf")
    # Cached until nextUpdate: no request, the old answer.
    assert client.status(cert, ca).status == GOOD
    assert store.calls == calls
    # Past nextUpdate (one hour) the client asks again and sees the revocation.
    now[0] += dt.timedelta(hours=1, seconds=1)
    result = client.status(cert, ca)
    assert isinstance(result.status, Revoked) and result.status.reason is x509.ReasonFlags.superseded
    assert store.calls == calls + 1


def test_async_client(env) -> None:
    pki, _, _ = env

    async def go():
        async with httpx.AsyncClient() as http:
            client = AsyncOcspClient(http, method="GET")
            return await client.status(pki["oem1.prov"].cert, pki["oem1.sub2"].cert)

    assert asyncio.run(go()).status == GOOD


def test_unknown_certificate(env) -> None:
    pki, _, _ = env
    ghost = issue("oem_prov_leaf", "OPCVIN00000000099", pki["oem1.sub2"],
                  ocsp_url=f"http://127.0.0.1:{env[2].port}/ocsp")
    assert OcspClient().status(ghost.cert, pki["oem1.sub2"].cert).status == UNKNOWN


def test_transport_rules(env) -> None:
    pki, _, server = env
    base = f"http://127.0.0.1:{server.port}/ocsp"
    r = httpx.post(base, content=b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and r.json()["errorMessages"]
    r = httpx.post(base, content=b"garbage", headers={"Content-Type": "application/ocsp-request"})
    assert r.headers["content-type"] == "application/ocsp-response"
    assert ocsp.load_der_ocsp_response(r.content).response_status is \
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    # GET without padding (some clients strip it)
    der = build_request(pki["mo1.contract"].cert, pki["mo1.sub2"].cert)
    r = httpx.get(base + "/" + base64.b64encode(der).decode().rstrip("="))
    assert ocsp.load_der_ocsp_response(r.content).certificate_status is ocsp.OCSPCertStatus.GOOD


def test_client_errors(env) -> None:
    pki, _, server = env
    no_aia = issue("oem_prov_leaf", "OPCVIN00000000098", pki["oem1.sub2"])
    with pytest.raises(OcspError) as info:
        OcspClient().status(no_aia.cert, pki["oem1.sub2"].cert)
    assert info.value.rule == "aia.missing"
    with pytest.raises(OcspError) as info:
        OcspClient(url=f"http://127.0.0.1:{server.port}/nothing").status(
            pki["mo1.contract"].cert, pki["mo1.sub2"].cert)
    assert info.value.rule == "http.status"
    with pytest.raises(OcspError) as info:
        OcspClient(url="http://127.0.0.1:9/ocsp").status(pki["mo1.contract"].cert,
                                                         pki["mo1.sub2"].cert)
    assert info.value.rule == "http.transport"
