"""Pool collaboration for the CCP: a vehicle of ecosystem B asks through a CPO of ecosystem A;
A has no contract and forwards to its peer B (with B's own CPO credentials and
`broadcast: true`); `broadcast: true` from the caller stops forwarding; a peer that is down or
slow is a 502/504 naming it, within bounded time."""

from __future__ import annotations

import base64
import socket
import time

import pytest
from faker import Faker

from opcp.client import OpcpClient
from opcp.id_faker import PnCIdProvider
from opcp.target import load
from opcp_reference.server import EmbeddedReference, write_target_file
from simulators.ev import Vehicle
from simulators.mo import MoV2gPki
from simulators.oem import Oem
from simulators.provisioning import EstEnrollment


@pytest.fixture(scope="module")
def ecosystem_b(tmp_path_factory):
    with EmbeddedReference(tmp_path_factory.mktemp("b")) as ref:
        yield ref, write_target_file(ref.ref, ref.base_url)


def _vehicle_with_contract_in(target_file) -> Vehicle:
    client = OpcpClient(load(target_file))
    faker = Faker()
    faker.add_provider(PnCIdProvider)
    oem = Oem(client, source=EstEnrollment(client))
    vehicle = oem.produce_vehicle()
    oem.publish(vehicle)
    prefix = client.target.client("MO_V2G").emaid_prefixes[0]
    MoV2gPki(client).generate_contract(vehicle.pcid, faker.emaid(prefix=prefix, check_digit=False))
    client.close()
    return vehicle


def _ask(target_file, vehicle: Vehicle, headers: dict | None = None):
    client = OpcpClient(load(target_file))
    try:
        return client.op("getSignedContractData", role="CPO", headers=headers or {}, json={
            "certificateInstallationReq": base64.b64encode(vehicle.installation_req()).decode(),
            "xsdMsgDefNamespace": "urn:iso:15118:2:2013:MsgDef"})
    finally:
        client.close()


def test_a_contract_of_the_peer_is_answered_unless_broadcast_is_true(ecosystem_b, tmp_path):
    ref_b, target_b = ecosystem_b
    vehicle = _vehicle_with_contract_in(target_b)
    with EmbeddedReference(tmp_path / "a", peers=[target_b]) as ref_a:
        target_a = write_target_file(ref_a.ref, ref_a.base_url)
        got = _ask(target_a, vehicle)
        assert got.status == 200, got.response_body
        res = base64.b64decode(got.json()["CCPResponse"]["emaidContent"][0]["messageDef"][
            "certificateInstallationRes"])
        vehicle.accept(res)  # the peer's signed data installs as if it came from A
        assert _ask(target_a, vehicle, {"broadcast": "true"}).status == 404


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peer_file(tmp_path, name: str, port: int, like) -> object:
    text = load(like)
    path = tmp_path / f"{name}.toml"
    clients = "".join(f'[[clients]]\nrole = "{c.role}"\nclient_id = "{c.client_id}"\n'
                      f'client_secret = "x"\n' for c in text.clients)
    path.write_text(f'name = "{name}"\nbase_url = "http://127.0.0.1:{port}"\n'
                    f'audience = "a"\n{clients}')
    return path


def test_a_peer_down_or_slow_is_named_in_a_502_or_504(ecosystem_b, tmp_path):
    _, target_b = ecosystem_b
    vehicle = _vehicle_with_contract_in(target_b)
    down = _peer_file(tmp_path, "peer-down", _dead_port(), target_b)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    slow = _peer_file(tmp_path, "peer-slow", silent.getsockname()[1], target_b)
    try:
        with EmbeddedReference(tmp_path / "a1", peers=[down]) as ref_a:
            got = _ask(write_target_file(ref_a.ref, ref_a.base_url), vehicle)
            assert got.status == 502 and "peer-down" in got.response_body
        with EmbeddedReference(tmp_path / "a2", peers=[slow]) as ref_a:
            started = time.perf_counter()
            got = _ask(write_target_file(ref_a.ref, ref_a.base_url), vehicle)
            assert got.status == 504 and "peer-slow" in got.response_body
            assert time.perf_counter() - started < 20  # bounded, no hang
    finally:
        silent.close()


def test_three_peers_that_list_each_other_do_not_loop(tmp_path):
    # A -> B -> C -> A: every forwarded call says broadcast: true, so a PCID no one has is a
    # 404 after one round, not an endless ring.
    refs = [EmbeddedReference(tmp_path / n) for n in "abc"]
    for r in refs:
        r.start()
    try:
        files = [write_target_file(r.ref, r.base_url) for r in refs]
        for i, r in enumerate(refs):
            object.__setattr__(r.ref, "peers", (load(files[(i + 1) % 3]),))
        client = OpcpClient(load(files[0]))
        oem = Oem(client, source=EstEnrollment(client))
        vehicle = oem.produce_vehicle()  # never published anywhere
        client.close()
        got = _ask(files[0], vehicle)
        assert got.status == 404
    finally:
        for r in refs:
            r.stop()
