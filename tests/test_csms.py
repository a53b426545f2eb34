"""The CPO's OCPP 2.0.1 CSMS against an embedded reference, with `ocpp` stations playing the other side.

The ecosystem is real: the reference (CCP, RCP, EST), an OEM and an MO with PKIs of their own
whose roots the operator put in the RCP, and the suite's OCSP responder that answers for
them (revoking there is how a contract becomes revoked). Every station is an `ocpp`
ChargePoint over a real websocket: ws with Basic auth (profile 1), wss with Basic auth
(profile 2) and wss with a station certificate (profile 3).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ssl
from dataclasses import dataclass

import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from faker import Faker
from ocpp.v201 import call

from opcp.client import OpcpClient
from opcp.id_faker import PnCIdProvider
from opcp.target import load
from opcp_reference.server import EmbeddedReference
from simulators import csms
from simulators.actor_calls import b64, expect
from simulators.cpo import CpoBackend
from simulators.csms_security import ConfigError, CsmsConfig, IdTokenRecord, StationCredential, UnknownStations
from simulators.csms_tls import station_context
from simulators.ev import Vehicle
from simulators.oem import Oem
from simulators.party_pki import OemPki, SuiteOcspResponder
from simulators.station import (
    StationIdentity,
    boot,
    connect,
    contract_hash_data,
    contract_pem,
    ev_certificate,
    run_pnc_session,
)
from v2g import exi, xmldsig
from v2g.contract_data import encrypt_for_vehicle, root_id
from v2g.messages import CertificateChain, CertificateUpdateReq, MessageHeader, V2GMessage, parse, to_element
from v2g.pki.builder import new_key
from v2g.pki.profiles import Role
from v2g.pki.validate import Purpose, TrustAnchor, TrustStore, validate_chain

PASSWORD = "correct-horse-battery-staple"  # 28 characters, within OCPP's 16..40
STATIONS = (StationCredential("CS-WS", 1, PASSWORD), StationCredential("CS-WSS", 2, PASSWORD),
            StationCredential("CS-MTLS", 3))


@dataclass
class World:
    reference: EmbeddedReference
    client: OpcpClient
    responder: SuiteOcspResponder
    oem: Oem
    mo_pki: OemPki
    emaid_prefix: str
    faker: Faker
    pki_dir: object

    def contract_vehicle(self, *, contract: bool = True) -> tuple[Vehicle, str]:
        """A published vehicle and (unless told otherwise) a contract for it in the CCP, whose
        certificate names the suite's OCSP responder."""
        vehicle = self.oem.produce_vehicle()
        self.oem.publish(vehicle)
        emaid = self.faker.emaid(prefix=self.emaid_prefix, check_digit=False)
        if contract:
            key = new_key()
            leaf = self.mo_pki.leaf(emaid, key)
            data = encrypt_for_vehicle(key, vehicle.provisioning_cert, emaid,
                                       [leaf.der, self.mo_pki.sub2.der, self.mo_pki.sub1.der])
            expect(self.client.call("PUT", "cps", "/v1/cps/contractData/signed", role="MO", json={
                "pcid": vehicle.pcid, "xsdMsgDefNamespace": "urn:iso:15118:2:2013:MsgDef",
                "contractData": {"contractCertificate": b64(leaf.der),
                                 "contractSubCa2Certificate": b64(self.mo_pki.sub2.der),
                                 "contractSubCa1Certificate": b64(self.mo_pki.sub1.der),
                                 "contractSignatureEncryptedPrivateKey": b64(data.encrypted_private_key),
                                 "dHpublickey": b64(data.dh_public_key)}}), "sign the contract", 200, 201)
        vehicle.trusted_mo_roots.append(self.mo_pki.root.der)
        return vehicle, emaid


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    data = tmp_path_factory.mktemp("csms")
    with EmbeddedReference(data / "data") as reference:
        target = load(data / "data" / "target.toml")
        client = OpcpClient(target)
        responder = SuiteOcspResponder().start()
        oem_pki = OemPki.build(responder, "CSMS OEM")
        mo_pki = OemPki.build(responder, "CSMS MO", role="mo")
        for pki, kind in ((oem_pki, "OEM"), (mo_pki, "MO")):
            expect(client.call("PUT", "rcp", "/v1/root/rootCerts", role="ADMIN", json={
                "caCertificate": b64(pki.root.der), "rootType": kind}), f"register the {kind} root")
        oem = Oem(client, wmi=target.client("OEM").wmis[0], source=oem_pki)
        faker = Faker()
        faker.add_provider(PnCIdProvider)
        try:
            yield World(reference, client, responder, oem, mo_pki, target.client("MO").emaid_prefixes[0],
                        faker, data / "csms-pki")
        finally:
            responder.stop()
            client.close()


def _run(world: World, scenario, config: CsmsConfig | None = None):
    """Start the CSMS (ws and wss) on free ports, run `scenario(running)`, stop it."""

    async def main():
        running = await csms.start(config or CsmsConfig(stations=STATIONS), world.client, port=0, tls_port=0,
                                   pki_dir=world.pki_dir)
        try:
            return await scenario(running)
        finally:
            await running.stop()

    return asyncio.run(main())


def _identity(running, station_id: str, password: str | None = PASSWORD, **kw) -> StationIdentity:
    return StationIdentity(station_id, password, csms_root_pem=running.root_pem, **kw)


def _mtls_identity(running, station_id: str = "CS-MTLS") -> StationIdentity:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, station_id)]))
           .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())
    cert = running.csms.pki.issue_station_certificate(csr, station_id)
    return StationIdentity(station_id, None, running.root_pem, cert, key)


async def _status_of_upgrade(url: str, identity: StationIdentity) -> int | None:
    """The HTTP status the CSMS refused the upgrade with, or None when it accepted it."""
    try:
        async with connect(url, identity):
            return None
    except websockets.InvalidStatus as exc:
        return exc.response.status_code


# ------------------------------------------------------------------ core: A00, B01-B03, G01, G02

def test_a_known_station_boots_reports_status_and_heartbeats(world):
    async def scenario(running):
        async with connect(running.ws_url, _identity(running, "CS-WS")) as station:
            refused = await station.call(call.Heartbeat())  # before boot: a CallError, suppressed -> None
            assert refused is None
            answer = await station.call(call.BootNotification(
                charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp"))
            assert (answer.status, answer.interval) == ("Accepted", 300)
            await station.call(call.StatusNotification(timestamp="2026-01-01T00:00:00Z",
                                                       connector_status="Available", evse_id=1, connector_id=1))
            beat = await station.call(call.Heartbeat())
            assert dt.datetime.fromisoformat(beat.current_time.replace("Z", "+00:00"))
            await station.call(call.NotifyEvent(generated_at="2026-01-01T00:00:00Z", seq_no=0, event_data=[{
                "event_id": 1, "timestamp": "2026-01-01T00:00:00Z", "trigger": "Alerting", "actual_value": "1",
                "event_notification_type": "HardWiredNotification", "component": {"name": "Door"},
                "variable": {"name": "Open"}}]))
            data = await station.call(call.DataTransfer(vendor_id="com.example"))
            assert data.status == "UnknownVendorId"
        return running.csms.stations["CS-WS"]

    state = _run(world, scenario)
    assert state.connectors == {(1, 1): "Available"}
    assert state.heartbeats == 1 and state.events[0]["component"] == {"name": "Door"}
    assert state.received[:2] == ["Heartbeat", "BootNotification"]


def test_messages_before_an_accepted_boot_get_security_error(world):
    async def scenario(running):
        async with connect(running.ws_url, _identity(running, "CS-WS")) as station:
            from ocpp.exceptions import SecurityError

            with pytest.raises(SecurityError):
                await station.call(call.StatusNotification(
                    timestamp="2026-01-01T00:00:00Z", connector_status="Available", evse_id=1, connector_id=1),
                    suppress=False)

    _run(world, scenario)


def test_unknown_stations_and_wrong_passwords_are_refused_at_the_upgrade(world):
    async def scenario(running):
        return [
            await _status_of_upgrade(running.ws_url, _identity(running, "CS-UNKNOWN")),
            await _status_of_upgrade(running.ws_url, _identity(running, "CS-WS", "wrong-password-0123456")),
            await _status_of_upgrade(running.ws_url, _identity(running, "CS-WS", None)),
            # A profile 2 station over plain ws: a downgrade, refused.
            await _status_of_upgrade(running.ws_url, _identity(running, "CS-WSS")),
            await _status_of_upgrade(running.wss_url, _identity(running, "CS-WSS", "wrong-password-0123456")),
            # Profile 3 without a certificate, and with one for another identity.
            await _status_of_upgrade(running.wss_url, _identity(running, "CS-MTLS", None)),
            await _status_of_upgrade(running.wss_url, _foreign_identity(running)),
            await _status_of_upgrade(running.ws_url, _identity(running, "CS-WS")),
        ]

    assert _run(world, scenario) == [401] * 7 + [None]


def _foreign_identity(running) -> StationIdentity:
    """CS-MTLS presenting a valid CSMS-root certificate issued to another identity."""
    other = _mtls_identity(running, "CS-OTHER")
    return StationIdentity("CS-MTLS", None, running.root_pem, other.certificate_pem, other.key)


def test_a_connection_without_the_ocpp201_subprotocol_is_closed(world):
    async def scenario(running):
        token = base64.b64encode(f"CS-WS:{PASSWORD}".encode()).decode()
        async with websockets.connect(f"{running.ws_url}/CS-WS", subprotocols=["ocpp1.6"],
                                      additional_headers={"Authorization": f"Basic {token}"}) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            return closed.value.rcvd.code

    assert _run(world, scenario) == 1002


def test_a_station_certificate_from_another_ca_fails_the_tls_handshake(world, tmp_path):
    from simulators.csms_tls import CsoPki

    foreign = CsoPki.open(tmp_path / "foreign")

    async def scenario(running):
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "CS-MTLS")]))
               .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())
        identity = StationIdentity("CS-MTLS", None, running.root_pem,
                                   foreign.issue_station_certificate(csr, "CS-MTLS"), key)
        with pytest.raises((ssl.SSLError, ConnectionError, websockets.InvalidStatus, websockets.InvalidMessage,
                            EOFError)):
            async with connect(running.wss_url, identity):
                pass

    _run(world, scenario)


@pytest.mark.parametrize("suite", ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                                   "AES128-GCM-SHA256", "AES256-GCM-SHA384"])
def test_the_csms_serves_the_four_tls12_suites_of_ocpp_with_its_name_in_the_cn(world, suite):
    """A00.FR.318: a station offering only one of the four suites over TLS 1.2 connects (the RSA
    ones need the CSMS's RSA certificate); A00.FR.510: the certificate's CN is the endpoint's
    name, not an IP address."""

    async def scenario(running):
        ctx = station_context(running.root_pem)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(suite)
        token = base64.b64encode(f"CS-WSS:{PASSWORD}".encode()).decode()
        url = running.wss_url.replace("127.0.0.1", "localhost") + "/CS-WSS"
        async with websockets.connect(url, ssl=ctx, subprotocols=[csms.SUBPROTOCOL],
                                      additional_headers={"Authorization": f"Basic {token}"}) as ws:
            tls = ws.transport.get_extra_info("ssl_object")
            return tls.version(), tls.cipher()[0], x509.load_der_x509_certificate(tls.getpeercert(True))

    version, negotiated, cert = _run(world, scenario)
    assert (version, negotiated) == ("TLSv1.2", suite)
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "localhost"
    key = cert.public_key()
    assert key.key_size >= (2048 if suite.startswith("AES") else 256)


def test_a_station_that_reconnects_carries_on_without_booting_again(world):
    """B01: a station boots when it starts, not when its connection drops; an Accepted station
    that reconnects sends StatusNotification and Authorize at once."""

    async def scenario(running):
        async with connect(running.ws_url, _identity(running, "CS-WS")) as station:
            assert await boot(station) == "Accepted"
        async with connect(running.ws_url, _identity(running, "CS-WS")) as station:
            await station.call(call.StatusNotification(timestamp="2026-01-01T00:00:00Z", connector_status="Occupied",
                                                       evse_id=1, connector_id=1), suppress=False)
            answer = await station.call(call.Authorize(id_token={"id_token": "", "type": "NoAuthorization"}),
                                        suppress=False)
        return answer, running.csms.stations["CS-WS"]

    answer, state = _run(world, scenario)
    assert answer.id_token_info["status"] == "Accepted"
    assert state.connectors[(1, 1)] == "Occupied"


def test_the_operators_id_tokens_are_authorized_with_their_status_and_group(world):
    """C01: an idToken in the operator's list gets its status (and group) from Authorize and in
    the TransactionEvent; a token nobody listed stays Unknown."""
    config = CsmsConfig(stations=STATIONS, id_tokens=(
        IdTokenRecord("TAG-001", "ISO14443", "Accepted", "GROUP001"), IdTokenRecord("100000C06", "Central", "Blocked")))

    async def scenario(running):
        async with connect(running.ws_url, _identity(running, "CS-WS")) as station:
            assert await boot(station) == "Accepted"
            answers = [await station.call(call.Authorize(id_token=token), suppress=False) for token in (
                {"id_token": "TAG-001", "type": "ISO14443"}, {"id_token": "100000C06", "type": "Central"},
                {"id_token": "TAG-001", "type": "Central"}, {"id_token": "100000C02", "type": "ISO14443"})]
            started = await station.call(call.TransactionEvent(
                event_type="Started", timestamp="2026-01-01T00:00:00Z", trigger_reason="Authorized", seq_no=0,
                transaction_info={"transaction_id": "tx-c01"}, id_token={"id_token": "TAG-001", "type": "ISO14443"},
                evse={"id": 1, "connector_id": 1}), suppress=False)
        return [a.id_token_info for a in answers], started.id_token_info

    infos, started = _run(world, scenario, config)
    assert infos[0] == {"status": "Accepted", "group_id_token": {"id_token": "GROUP001", "type": "Central"}}
    assert [i["status"] for i in infos[1:]] == ["Blocked", "Unknown", "Unknown"]
    assert started["status"] == "Accepted"
    with pytest.raises(ConfigError, match=r"id_token.status"):
        IdTokenRecord("TAG-002", "ISO14443", "Allowed")
    with pytest.raises(ConfigError, match=r"id_tokens.unique"):
        CsmsConfig(id_tokens=(IdTokenRecord("T", "Local"), IdTokenRecord("T", "Local", "Blocked")))


def test_the_local_station_and_id_token_files_are_read_and_checked(tmp_path):
    """`opcp up`'s files: stations.json is made on first use, id_tokens.json is optional; an
    unreadable entry names the file, a wrong value the field."""
    from simulators.csms_security import local_id_tokens, local_stations

    made = local_stations(tmp_path / "stations.json")
    assert [(s.station_id, s.security_profile) for s in made] == [("CS-001", 1), ("CS-002", 2), ("CS-003", 3)]
    tokens = tmp_path / "id_tokens.json"
    assert local_id_tokens(tokens) == ()
    tokens.write_text('[{"id_token": "TAG-001", "type": "ISO14443", "group_id": "G1"}]')
    assert local_id_tokens(tokens) == (IdTokenRecord("TAG-001", "ISO14443", "Accepted", "G1"),)
    tokens.write_text('[{"id_token": "TAG-001"}]')
    with pytest.raises(ConfigError, match=r"id_tokens\.json: unreadable entry \(KeyError"):
        local_id_tokens(tokens)
    tokens.write_text('{"id_token": "TAG-001"}')
    with pytest.raises(ConfigError, match=r"a list of \{id_token"):
        local_id_tokens(tokens)
    tokens.write_text('[{"id_token": "TAG-001", "type": "RFID"}]')
    with pytest.raises(ConfigError, match=r"^type: .*\[id_token.type\]"):
        local_id_tokens(tokens)
    (tmp_path / "stations.json").write_text('[{"station_id": "CS-1", "security_profile": "two"}]')
    with pytest.raises(ConfigError, match=r"stations\.json: unreadable entry \(ValueError"):
        local_stations(tmp_path / "stations.json")


def test_unknown_stations_boot_pending_when_so_configured(world):
    config = CsmsConfig(stations=STATIONS, unknown_stations=UnknownStations.PENDING, pending_interval=30)

    async def scenario(running):
        async with connect(running.ws_url, _identity(running, "CS-NEW", None)) as station:
            answer = await station.call(call.BootNotification(
                charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp"))
            refused = await station.call(call.Heartbeat())
            return answer, refused

    answer, refused = _run(world, scenario, config)
    assert (answer.status, answer.interval) == ("Pending", 30)
    assert refused is None  # a CallError: not accepted yet


def test_configurations_that_cannot_work_are_refused_naming_the_field():
    with pytest.raises(ConfigError, match="password.*password.length"):
        StationCredential("CS-1", 1, "short")
    with pytest.raises(ConfigError, match="password.required"):
        StationCredential("CS-1", 2)
    with pytest.raises(ConfigError, match="identity.chars"):
        StationCredential("CS:1", 3)
    with pytest.raises(ConfigError, match="stations.unique"):
        CsmsConfig(stations=(StationCredential("CS-1", 3), StationCredential("CS-1", 3)))


# ------------------------------------------------------------------ the whole session, both transports

@pytest.mark.parametrize("profile", [2, 3], ids=["wss-basic-auth", "mtls"])
def test_a_plug_and_charge_session_end_to_end(world, profile):
    vehicle, emaid = world.contract_vehicle()

    async def scenario(running):
        identity = (_identity(running, "CS-WSS") if profile == 2 else _mtls_identity(running))
        return await run_pnc_session(running.wss_url, identity, vehicle), running.csms.stations[identity.station_id]

    report, state = _run(world, scenario)
    assert report.registration == "Accepted", report.steps
    assert report.installation.status == "Accepted", report.steps
    assert report.contract is not None and report.contract.emaid == emaid, report.steps
    assert report.certificate_status == "Accepted"
    assert ocsp.load_der_ocsp_response(report.ocsp_result).certificate_status is ocsp.OCSPCertStatus.GOOD
    assert report.authorization["status"] == "Accepted"
    assert report.certificate_status_at_authorize == "Accepted"
    assert report.transaction_status == "Accepted"
    tx = state.transactions[report.transaction_id]
    assert (tx.state, tx.seq_nos, tx.stopped_reason) == ("Ended", [0, 1, 2], "EVDisconnected")
    assert tx.id_token == {"id_token": emaid, "type": "eMAID"}
    assert state.connectors[(1, 1)] == "Available"
    assert state.profile == profile


# ------------------------------------------------------------------ block M

def test_a_vehicle_without_a_contract_gets_the_ccps_failed_answer(world):
    vehicle, _ = world.contract_vehicle(contract=False)

    async def scenario(running):
        async with connect(running.ws_url, _identity(running, "CS-WS")) as station:
            await boot(station)
            return (await ev_certificate(station, vehicle.installation_req()),
                    await ev_certificate(station, b"\x80\x98not exi"),
                    await ev_certificate(station, vehicle.installation_req(), action="Update"),
                    await ev_certificate(station, vehicle.installation_req(), namespace="urn:iso:15118:9:MsgDef"),
                    await ev_certificate(station, b"\x80-20 request", action="Update",
                                         namespace="urn:iso:15118:20:2022:MsgDef"))

    failed_res, garbage, wrong_body, wrong_ns, update_20 = _run(world, scenario)
    # Processed: Accepted, and the EV reads FAILED_... in the Res itself (OCPP M01).
    assert failed_res.status == "Accepted"
    assert parse(failed_res.exi_response).body.response_code == "FAILED_NoCertificateAvailable"
    for answer, rule in ((garbage, "exi.decode"), (wrong_body, "exi.body"), (wrong_ns, "exi.namespace"),
                         (update_20, "exi.body")):
        assert answer.status == "Failed" and answer.exi_response is None
        assert rule in answer.reason


def _update_req(contract, roots: list[bytes], key=None, session_id: bytes = b"\x01" * 8) -> bytes:
    """The EV's signed CertificateUpdateReq for its installed contract."""
    chain = CertificateChain(contract.contract_chain[0], list(contract.contract_chain[1:]), id="ID2")
    body = CertificateUpdateReq("ID1", chain, contract.emaid, [root_id(r) for r in roots])
    element = to_element(V2GMessage(MessageHeader(session_id), body))
    xmldsig.sign(element, ["ID1"], key or contract.contract_key)
    return exi.encode(element, "iso2")


def test_contract_update_is_checked_and_answered_with_a_certificate_update_res(world):
    vehicle, _ = world.contract_vehicle()
    stranger = new_key()

    async def scenario(running):
        async with connect(running.ws_url, _identity(running, "CS-WS")) as station:
            await boot(station)
            installed = vehicle.accept((await ev_certificate(station, vehicle.installation_req())).exi_response)
            roots = vehicle.trusted_v2g_roots
            valid = await ev_certificate(station, _update_req(installed, roots), action="Update")
            forged = await ev_certificate(station, _update_req(installed, roots, stranger), action="Update")
            wrong_action = await ev_certificate(station, _update_req(installed, roots), action="Install")
            leaf = x509.load_der_x509_certificate(installed.contract_chain[0])
            world.responder.revoke(leaf, world.mo_pki.sub2.cert)
            revoked = await ev_certificate(station, _update_req(installed, roots), action="Update")
            return valid, forged, wrong_action, revoked

    valid, forged, wrong_action, revoked = _run(world, scenario)
    res = parse(valid.exi_response)
    assert valid.status == "Accepted" and type(res.body).__name__ == "CertificateUpdateRes"
    assert res.header.session_id == b"\x01" * 8
    # OPCP has no update operation: a valid request is answered NoCertificateAvailable.
    assert res.body.response_code == "FAILED_NoCertificateAvailable"
    assert parse(forged.exi_response).body.response_code == "FAILED_SignatureError"
    assert wrong_action.status == "Failed" and "exi.body" in wrong_action.reason
    assert parse(revoked.exi_response).body.response_code == "FAILED_CertificateRevoked"


def test_certificate_status_and_authorization_of_a_revoked_contract(world):
    vehicle, emaid = world.contract_vehicle()

    async def scenario(running):
        async with connect(running.ws_url, _identity(running, "CS-WS")) as station:
            await boot(station)
            contract = vehicle.accept((await ev_certificate(station, vehicle.installation_req())).exi_response)
            leaf = x509.load_der_x509_certificate(contract.contract_chain[0])
            world.responder.revoke(leaf, world.mo_pki.sub2.cert)
            hashes_ = contract_hash_data(contract)
            status = await station.call(call.GetCertificateStatus(ocsp_request_data=hashes_[0]))
            token = {"id_token": emaid, "type": "eMAID"}
            by_cert = await station.call(call.Authorize(id_token=token, certificate=contract_pem(contract)))
            by_hash = await station.call(call.Authorize(id_token=token, iso15118_certificate_hash_data=hashes_))
            tx = await station.call(call.TransactionEvent(
                event_type="Started", timestamp="2026-01-01T00:00:00Z", trigger_reason="Authorized", seq_no=0,
                transaction_info={"transaction_id": "T-1"}, id_token=token))
            return status, by_cert, by_hash, tx

    status, by_cert, by_hash, tx = _run(world, scenario)
    assert status.status == "Accepted"
    assert ocsp.load_der_ocsp_response(base64.b64decode(status.ocsp_result)).certificate_status \
        is ocsp.OCSPCertStatus.REVOKED
    assert (by_cert.id_token_info["status"], by_cert.certificate_status) == ("Invalid", "CertificateRevoked")
    assert (by_hash.id_token_info["status"], by_hash.certificate_status) == ("Invalid", "CertificateRevoked")
    assert tx.id_token_info["status"] == "Invalid"


def test_authorization_needs_the_right_emaid_and_a_known_issuer(world):
    vehicle, emaid = world.contract_vehicle()
    other_vehicle, _ = world.contract_vehicle()
    # Installed through the CPO backend directly: this CSMS never sees that contract's chain.
    other = other_vehicle.accept(CpoBackend(world.client).certificate_installation(other_vehicle.installation_req()))

    async def scenario(running):
        async with connect(running.ws_url, _identity(running, "CS-WS")) as station:
            await boot(station)
            token = {"id_token": emaid, "type": "eMAID"}
            # Hash data alone, before this CSMS saw the contract's sub-CAs: it cannot check them.
            unknown_issuer = await station.call(call.Authorize(
                id_token={"id_token": other.emaid, "type": "eMAID"},
                iso15118_certificate_hash_data=contract_hash_data(other)))
            contract = vehicle.accept((await ev_certificate(station, vehicle.installation_req())).exi_response)
            by_hash = await station.call(call.Authorize(id_token=token,
                                                        iso15118_certificate_hash_data=contract_hash_data(contract)))
            wrong_owner = await station.call(call.Authorize(id_token=token, certificate=contract_pem(other)))
            rfid = await station.call(call.Authorize(id_token={"id_token": "04A1B2C3", "type": "ISO14443"}))
            unauthorized_tx = await station.call(call.TransactionEvent(
                event_type="Started", timestamp="2026-01-01T00:00:00Z", trigger_reason="Authorized", seq_no=0,
                transaction_info={"transaction_id": "T-2"}, id_token={"id_token": other.emaid, "type": "eMAID"}))
            return unknown_issuer, by_hash, wrong_owner, rfid, unauthorized_tx

    unknown_issuer, by_hash, wrong_owner, rfid, unauthorized_tx = _run(world, scenario)
    assert (unknown_issuer.id_token_info["status"], unknown_issuer.certificate_status) == \
        ("Unknown", "NoCertificateAvailable")
    assert (by_hash.id_token_info["status"], by_hash.certificate_status) == ("Accepted", "Accepted")
    assert (wrong_owner.id_token_info["status"], wrong_owner.certificate_status) == ("Invalid", "CertChainError")
    assert rfid.id_token_info["status"] == "Unknown"
    assert unauthorized_tx.id_token_info["status"] == "Unknown"


def test_station_certificate_management_driven_from_the_csms(world):
    async def scenario(running):
        async with connect(running.wss_url, _identity(running, "CS-WSS")) as station:
            await boot(station)
            installed = await running.csms.install_root_certificates("CS-WSS")
            ids = await running.csms.installed_certificate_ids("CS-WSS")
            mo_only = await running.csms.installed_certificate_ids("CS-WSS", ["MORootCertificate"])
            deleted = await running.csms.delete_certificate("CS-WSS", mo_only[0]["certificate_hash_data"])
            again = await running.csms.delete_certificate("CS-WSS", mo_only[0]["certificate_hash_data"])
            triggered = [await running.csms.request_certificate("CS-WSS", kind)
                         for kind in ("V2GCertificate", "ChargingStationCertificate")]
            for _ in range(100):
                if len(station.signed) == 2:
                    break
                await asyncio.sleep(0.05)
            return installed, ids, mo_only, deleted, again, triggered, station.signed, station.roots

    installed, ids, mo_only, deleted, again, triggered, signed, roots = _run(world, scenario)
    assert {kind for kind, _ in installed} == {"V2GRootCertificate", "MORootCertificate"}
    assert all(status == "Accepted" for _, status in installed)
    assert len(ids) == len(installed) and len(mo_only) >= 1
    assert all(entry["certificate_type"] == "MORootCertificate" for entry in mo_only)
    assert (deleted, again) == ("Accepted", "NotFound")
    assert len(roots["MORootCertificate"]) == len(mo_only) - 1
    assert triggered == ["Accepted", "Accepted"]
    # The V2G certificate came from the CPO's EST CA and chains to an RCP V2G root.
    chain = x509.load_pem_x509_certificates(signed["V2GCertificate"].encode())
    v2g_roots = [x509.load_pem_x509_certificate(p.encode()) for p in roots["V2GRootCertificate"]]
    result = validate_chain(chain, TrustStore(TrustAnchor.of(r, Role.V2G) for r in v2g_roots), purpose=Purpose.SECC)
    assert result.leaf.cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "DE-ABC-S-SIM01-1"
    # The station certificate is the CSMS root's, for this identity.
    station_cert = x509.load_pem_x509_certificates(signed["ChargingStationCertificate"].encode())[0]
    assert station_cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "CS-WSS"


def test_the_story_hop_through_the_csms_installs_a_contract(world):
    from simulators.station import through_csms

    vehicle, emaid = world.contract_vehicle()
    answer = through_csms(CpoBackend(world.client), vehicle.installation_req())
    assert answer.status == "Accepted"
    assert vehicle.accept(answer.exi_response).emaid == emaid


def test_the_local_ecosystem_as_opcp_up_and_opcp_station_run_it(served):
    """`opcp serve` as a process (its certificates name its own OCSP responder), the CSMS as
    `opcp up` starts it, and a station session per security profile as `opcp station` runs it,
    with a vehicle and contract made by the ecosystem's own services (EST, CPS)."""
    import threading

    from simulators.station import local_identity, run_station

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    csms_client = OpcpClient(load(served.data_dir / "target.toml"))
    station_client = OpcpClient(load(served.data_dir / "target.toml"))
    running = asyncio.run_coroutine_threadsafe(csms.start_local(
        served.data_dir, csms_client, port=0, tls_port=0, ocsp_responder=f"{served.base_url}/ocsp"), loop).result(30)
    try:
        help_text = "\n".join(csms.connection_help(running))
        assert running.ws_url in help_text and running.wss_url in help_text and "stations.json" in help_text
        reports = {}
        for station_id, url in (("CS-001", running.ws_url), ("CS-002", running.wss_url), ("CS-003", running.wss_url)):
            reports[station_id] = run_station(station_client, url, local_identity(served.data_dir, station_id))
    finally:
        asyncio.run_coroutine_threadsafe(running.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        csms_client.close()
        station_client.close()
    for station_id, report in reports.items():
        assert report.transaction_status == "Accepted", (station_id, report.steps)
        assert report.certificate_status == "Accepted", (station_id, report.steps)
    assert {s.station_id: s.profile for s in running.csms.stations.values()} == {
        "CS-001": 1, "CS-002": 2, "CS-003": 3}


def test_a_target_out_of_reach_is_an_answer_not_a_crash(world):
    """The CCP and RCP unreachable: the station still gets OCPP answers saying so."""
    from dataclasses import replace

    from tests.conftest import free_port

    down = f"http://127.0.0.1:{free_port()}"
    target = replace(world.client.target, base_url=down, token_url=f"{down}/oauth/token", base_urls={})
    vehicle, emaid = world.contract_vehicle()
    contract = vehicle.accept(CpoBackend(world.client).certificate_installation(vehicle.installation_req()))

    async def main():
        client = OpcpClient(target)
        running = await csms.start(CsmsConfig(stations=STATIONS), client, port=0)
        try:
            async with connect(running.ws_url, _identity(running, "CS-WS")) as station:
                await boot(station)
                install = await ev_certificate(station, vehicle.installation_req())
                update_req = _update_req(contract, vehicle.trusted_v2g_roots)
                update = await ev_certificate(station, update_req, action="Update")
                authorized = await station.call(call.Authorize(id_token={"id_token": emaid, "type": "eMAID"},
                                                               certificate=contract_pem(contract)))
                return install, update, authorized
        finally:
            await running.stop()
            client.close()

    install, update, authorized = asyncio.run(main())
    assert install.status == "Failed" and "ccp.refused" in install.reason
    assert parse(update.exi_response).body.response_code == "FAILED"
    assert (authorized.id_token_info["status"], authorized.certificate_status) == ("Unknown", "NoCertificateAvailable")
