"""Pool collaboration: two reference ecosystems; a vehicle published in A is read through B."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import httpx
import pytest

from features.support.oem_pki import OemPki, SuiteOcspResponder
from opcp import target
from opcp_reference.server import EmbeddedReference


def _token(ref: EmbeddedReference, client_id: str) -> dict:
    clients = json.loads((ref.ref.data_dir / "clients.json").read_text())
    secret = next(c["client_secret"] for c in clients if c["client_id"] == client_id)
    got = httpx.post(ref.base_url + "/oauth/token", json={
        "client_id": client_id, "client_secret": secret, "audience": ref.ref.auth.audience,
        "grant_type": "client_credentials"})
    assert got.status_code == 200, got.text
    return {"Authorization": f"Bearer {got.json()['access_token']}"}


@pytest.fixture(scope="module")
def ecosystems(tmp_path_factory):
    responder = SuiteOcspResponder().start()
    a = EmbeddedReference(tmp_path_factory.mktemp("eco-a")).start()
    b = EmbeddedReference(tmp_path_factory.mktemp("eco-b"),
                          peers=[a.ref.data_dir / "target.toml"]).start()
    # A also knows B, so a loop would show if forwarded calls were forwarded again.
    a.ref.peers = (target.load(b.ref.data_dir / "target.toml"),)
    yield a, b, responder
    b.stop()
    a.stop()
    responder.stop()


def _publish_in(eco: EmbeddedReference, responder: SuiteOcspResponder,
                trusted_by: tuple[EmbeddedReference, ...] = ()) -> str:
    """A vehicle published in `eco`, under an OEM root in the RCPs of `eco` and `trusted_by`."""
    pki = OemPki.build(responder, uuid.uuid4().hex[:8])
    for pool in (eco, *trusted_by):
        got = httpx.put(pool.base_url + "/v1/root/rootCerts", headers=_token(pool, "admin"),
                        json={"caCertificate": base64.b64encode(pki.root.der).decode(),
                              "rootType": "OEM"})
        assert got.status_code == 200, got.text
    pcid = "WMA" + uuid.uuid4().hex.upper()[:14]
    leaf = pki.leaf(pcid)
    got = httpx.put(eco.base_url + "/v1/oem/provCerts", headers=_token(eco, "oem-1"), json={
        "subCA1Certificate": base64.b64encode(pki.sub1.der).decode(),
        "subCA2Certificate": base64.b64encode(pki.sub2.der).decode(),
        "vehicleCertificate": base64.b64encode(leaf.der).decode()})
    assert got.status_code == 200, got.text
    return pcid


def test_a_vehicle_published_in_a_is_read_through_b(ecosystems):
    a, b, responder = ecosystems
    pcid = _publish_in(a, responder, trusted_by=(b,))
    mo_b = _token(b, "mo-1")
    got = httpx.get(f"{b.base_url}/v1/oem/provCerts/{pcid}", headers=mo_b)
    assert got.status_code == 200, got.text
    from_a = httpx.get(f"{a.base_url}/v1/oem/provCerts/{pcid}", headers=_token(a, "mo-1"))
    assert got.json() == from_a.json()


def test_a_peer_answer_is_rechecked_against_the_local_rcp(ecosystems):
    # B's RCP lacks the OEM root of a vehicle A holds: B's MOs could not validate it, and B
    # does not vouch for it.
    a, b, responder = ecosystems
    pcid = _publish_in(a, responder)
    assert httpx.get(f"{a.base_url}/v1/oem/provCerts/{pcid}",
                     headers=_token(a, "mo-1")).status_code == 200
    got = httpx.get(f"{b.base_url}/v1/oem/provCerts/{pcid}", headers=_token(b, "mo-1"))
    assert got.status_code == 404, got.text


def test_a_peer_answer_about_another_pcid_is_not_passed_on(ecosystems, monkeypatch):
    import asyncio

    from opcp_reference.domain import pcp
    from opcp_reference.domain.pki import StatusChecker

    a, b, responder = ecosystems
    pcid = _publish_in(a, responder, trusted_by=(b,))
    data = httpx.get(f"{a.base_url}/v1/oem/provCerts/{pcid}",
                     headers=_token(a, "mo-1")).json()["OEMMessage"]
    checker = StatusChecker(b.ref.store)
    assert asyncio.run(pcp.check_peer_answer(b.ref.store, pcid, data, b.ref.faults, checker)) is None
    other = "WMA" + uuid.uuid4().hex.upper()[:14]
    why = asyncio.run(pcp.check_peer_answer(b.ref.store, other, data, b.ref.faults, checker))
    assert why is not None and f"not {other}" in why


def test_broadcast_true_is_not_forwarded(ecosystems):
    a, b, responder = ecosystems
    pcid = _publish_in(a, responder)
    got = httpx.get(f"{b.base_url}/v1/oem/provCerts/{pcid}",
                    headers={**_token(b, "mo-1"), "broadcast": "true"})
    assert got.status_code == 404, got.text


def test_a_pcid_in_no_pool_is_not_found_without_looping(ecosystems):
    a, b, _ = ecosystems
    got = httpx.get(f"{b.base_url}/v1/oem/provCerts/WMA{uuid.uuid4().hex.upper()[:14]}",
                    headers=_token(b, "mo-1"), timeout=20)
    assert got.status_code == 404, got.text


def test_lookup_and_delete_stay_local(ecosystems):
    a, b, responder = ecosystems
    pcid = _publish_in(a, responder)
    got = httpx.get(f"{b.base_url}/v1/oem/provCerts/lookupVehicle/{pcid}",
                    headers=_token(b, "mo-1"))
    assert got.status_code == 404
    got = httpx.delete(f"{b.base_url}/v1/oem/provCerts/{pcid}", headers=_token(b, "oem-1"))
    assert got.status_code == 404


def test_a_peer_answer_outside_the_spec_shape_is_not_passed_on(monkeypatch):
    import asyncio

    from opcp.target import from_dict
    from opcp_reference.domain import peers

    class Fake(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            if request.url.path == "/oauth/token":
                return httpx.Response(200, json={"access_token": "t"})
            return httpx.Response(200, json={"OEMMessage": {"vehicleCertificate": 1}})

    real = httpx.AsyncClient
    monkeypatch.setattr(peers.httpx, "AsyncClient",
                        lambda **kw: real(transport=Fake(), **kw))
    peer = from_dict({"base_url": "http://peer.example", "audience": "a", "clients": [
        {"role": "MO", "client_id": "m", "client_secret": "s"}]}, Path("."))
    assert asyncio.run(peers.find_prov_cert((peer,), "WMA00000000000001")) is None
