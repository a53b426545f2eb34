"""ISO 15118-20 through OCPP 2.0.1: a station sends the vehicle's -20 CertificateInstallationReq
with iso15118SchemaVersion urn:iso:std:iso:15118:-20:CommonMessages to the project's CSMS,
which asks the reference's CCP once and hands the vehicle one contract per exchange of its
V2G session (simulators/csms_certificates.py, simulators/station.install_contracts20)."""

from __future__ import annotations

import asyncio
import base64

from faker import Faker

from opcp.client import OpcpClient
from opcp.id_faker import PnCIdProvider
from opcp.target import load
from opcp_reference.server import EmbeddedReference
from simulators import csms
from simulators.common import expect
from simulators.csms_security import CsmsConfig, StationCredential
from simulators.mo import MoOwnPki
from simulators.oem import Oem, iso20_v2g_root
from simulators.party_pki import OemPki, SuiteOcspResponder
from simulators.station import StationIdentity, boot, connect, install_contracts20
from v2g.namespaces import ISO20_SPEC_MSG_DEF

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
