"""ISO 15118-20 through OCPP 2.0.1: a station sends the vehicle's -20 CertificateInstallationReq
with iso15118SchemaVersion urn:iso:std:iso:15118:-20:CommonMessages to the project's CSMS,
which asks the reference's CCP once and hands the vehicle one contract per exchange of its
V2G session (simulators/csms_certificates.py, simulators/station.install_contracts20); the
answers it keeps for a session expire; a whole -20 Plug&Charge session (run_pnc_session with a
Vehicle20, what `opcp station --iso 20` runs) installs, authorizes and charges."""

from __future__ import annotations

import asyncio
import base64

import pytest
from faker import Faker

from opcp.client import OpcpClient
from opcp.id_faker import PnCIdProvider
from opcp.target import load
from opcp_reference.server import EmbeddedReference
from simulators import csms
from simulators.actor_calls import expect
from simulators.csms_certificates import PENDING20_SECONDS, CertificateServices
from simulators.csms_security import CsmsConfig, StationCredential
from simulators.mo import MoOwnPki
from simulators.oem import Oem, iso20_v2g_root
from simulators.party_pki import OemPki, SuiteOcspResponder
from simulators.station import (
    StationIdentity,
    boot,
    connect,
    ecosystem_vehicle20,
    install_contracts20,
    iso20_v2g_root_in_rcp,
    run_pnc_session,
)
from v2g.namespaces import ISO20_COMMON_MESSAGES, ISO20_SPEC_MSG_DEF

PASSWORD = "iso20-station-password-0123456789"


def test_two_contracts_reach_a_20_vehicle_through_the_csms(tmp_path):
    with EmbeddedReference(tmp_path / "data") as _reference:
        target = load(tmp_path / "data" / "target.toml")
        client = OpcpClient(target)
        responder = SuiteOcspResponder().start()
        try:
            oem_pki = OemPki.build(responder, "CSMS20 OEM", algorithm="secp521r1")
            mo_pki = OemPki.build(responder, "CSMS20 MO", role="mo", algorithm="secp521r1")
            for der, kind in ((iso20_v2g_root(client), "V2G"), (oem_pki.root.der, "OEM"),
                              (mo_pki.root.der, "MO")):
                expect(client.op("saveRootCa", role="ADMIN", json={
                    "caCertificate": base64.b64encode(der).decode(), "rootType": kind,
                    "xsdMsgDefNamespace": ISO20_SPEC_MSG_DEF}), f"register the {kind} root")
            oem = Oem(client, wmi=target.client("OEM").wmis[0], source=oem_pki)
            vehicle = oem.produce_vehicle20(maximum_chains=3)
            oem.publish(vehicle)
            faker = Faker()
            faker.add_provider(PnCIdProvider)
            prefix = target.client("MO").emaid_prefixes[0]
            mo = MoOwnPki(client, sub2=mo_pki.sub2, sub1=mo_pki.sub1)
            emaids = [faker.emaid(prefix=prefix, check_digit=False) for _ in range(2)]
            for emaid in emaids:
                mo.issue_contract(vehicle.pcid, emaid)

            async def scenario():
                running = await csms.start(CsmsConfig(stations=(StationCredential("CS-20", 1, PASSWORD),)),
                                           client, port=0, tls_port=0, pki_dir=tmp_path / "csms-pki")
                try:
                    async with connect(running.ws_url, StationIdentity("CS-20", PASSWORD)) as station:
                        assert await boot(station) == "Accepted"
                        return await install_contracts20(station, vehicle)
                finally:
                    await running.stop()

            installed = asyncio.run(scenario())
        finally:
            responder.stop()
            client.close()
    assert [(i.emaid, i.remaining) for i in installed] == [(emaids[0], 1), (emaids[1], 0)]


@pytest.fixture(scope="module")
def ecosystem(tmp_path_factory):
    """The embedded reference with its -20 V2G root in the RCP, a client, and the CSMS's
    configuration: the reference's OCSP responder is the ecosystem's (its certificates name
    the default public URL, not the embedded port)."""
    data = tmp_path_factory.mktemp("csms20") / "data"
    with EmbeddedReference(data) as reference:
        client = OpcpClient(load(data / "target.toml"))
        config = CsmsConfig(stations=(StationCredential("CS-20S", 1, PASSWORD),),
                            ocsp_responder=f"{reference.base_url}/ocsp")
        try:
            with iso20_v2g_root_in_rcp(client):
                yield client, data.parent, config
        finally:
            client.close()


def test_a_whole_20_session_installs_two_contracts_then_authorizes_and_charges(ecosystem):
    client, tmp, config = ecosystem
    vehicle, emaids = ecosystem_vehicle20(client)

    async def scenario():
        running = await csms.start(config, client, port=0, tls_port=0, pki_dir=tmp / "csms-pki")
        try:
            return await run_pnc_session(running.ws_url, StationIdentity("CS-20S", PASSWORD),
                                         vehicle)
        finally:
            await running.stop()

    report = asyncio.run(scenario())
    assert [(c.emaid, c.remaining) for c in report.contracts20] == [(emaids[0], 1), (emaids[1], 0)], \
        report.steps
    assert report.contract is report.contracts20[0]
    assert report.certificate_status == "Accepted", report.steps
    assert report.authorization["status"] == "Accepted", report.steps
    assert report.ended, report.steps
    exchanges = [s for s in report.steps if s.startswith("Get15118EVCertificate Install (-20)")]
    assert exchanges == ["Get15118EVCertificate Install (-20) exchange 1: Accepted",
                         "Get15118EVCertificate Install (-20) exchange 2: Accepted"], report.steps


def test_the_answers_kept_for_a_20_session_expire(ecosystem):
    client, _, _ = ecosystem
    vehicle, emaids = ecosystem_vehicle20(client)
    now = [1000.0]
    services = CertificateServices(client, clock=lambda: now[0])

    def exchange(session: bytes):
        request = base64.b64encode(vehicle.installation_req(session)).decode()
        answer = services.ev_certificate(ISO20_COMMON_MESSAGES, "Install", request)
        assert answer.status == "Accepted", answer
        got = vehicle.accept(answer.exi_response)
        return got.emaid, got.remaining

    try:
        # Within the lifetime the second exchange gets the kept answer.
        assert exchange(b"\x01" * 8) == (emaids[0], 1)
        assert services.pending20_sessions() == 1
        now[0] += PENDING20_SECONDS - 1
        assert exchange(b"\x01" * 8) == (emaids[1], 0)
        assert services.pending20_sessions() == 0
        # A session whose vehicle does not come back in time: its answers are dropped, and a
        # late request with its SessionID is asked of the CCP anew (the first answer again).
        assert exchange(b"\x02" * 8) == (emaids[0], 1)
        now[0] += PENDING20_SECONDS
        assert services.pending20_sessions() == 0
        assert exchange(b"\x02" * 8) == (emaids[0], 1)
        assert services.pending20_sessions() == 1
    finally:
        services.http.close()
