"""A charging station's part in Plug&Charge (OCPP 2.0.1), played against any CSMS at a URL.

`SimulatedStation` is an `ocpp` ChargePoint that answers what a CSMS asks of a station
(InstallCertificate, GetInstalledCertificateIds, DeleteCertificate, CertificateSigned and
TriggerMessage for a new certificate: it then makes a key and sends SignCertificate), keeping
its certificate store in memory. `connect` opens its websocket with the credentials of its
security profile (Basic auth; the CSMS root and, for profile 3, a station certificate for wss).

`run_pnc_session` is a whole Plug&Charge session from the station's side: boot, status, the
EV's CertificateInstallationReq carried as Get15118EVCertificate and the vehicle's check of
the answer, the installed contract's status (GetCertificateStatus), Authorize with the contract
certificate and its hash data, a transaction Started/Updated/Ended, and the connector free
again. `through_csms` runs the project's CSMS on a loopback port around one exchange, for
scenarios that play the CPO with a real station-to-CSMS hop in the middle.
`install_contracts20` is the ISO 15118-20 installation through the CSMS: one exchange per
contract in one V2G session, with the real -20 iso15118SchemaVersion; `run_pnc_session` with
a `Vehicle20` is the whole -20 session (several contracts installed, the first authorized and
charged with), and `run_station(..., iso="20")` is `opcp station --iso 20`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from faker import Faker
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action

from opcp.client import OpcpClient
from opcp.id_faker import PnCIdProvider
from simulators import csms
from simulators.actor_calls import ISO2, expect, trusted_roots
from simulators.cpo import CpoBackend
from simulators.csms_certificates import hash_data
from simulators.csms_security import StationCredential, local_stations
from simulators.csms_tls import CsoPki, station_context
from simulators.ev import InstalledContract, InstalledContract20, Vehicle, Vehicle20, VehicleRejected
from simulators.mo import MoV2gPki
from simulators.oem import Oem, iso20_v2g_root
from simulators.provisioning import EstEnrollment
from v2g.namespaces import ISO20_CANONICAL, ISO20_COMMON_MESSAGES
from v2g.pki.certinfo import read_cert

PEM = serialization.Encoding.PEM


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class CertificateAnswer:
    status: str  # OCPP Iso15118EVCertificateStatusEnumType: Accepted or Failed
    exi_response: bytes | None  # the CertificateInstallationRes for the EV, when there is one
    reason: str | None = None  # statusInfo.additionalInfo, when the CSMS gave one


@dataclass
class StationIdentity:
    """How a station connects: its identity, Basic-auth password (profiles 1, 2), the CSMS
    root it trusts (wss) and its own certificate and key (profile 3)."""

    station_id: str
    password: str | None = field(default=None, repr=False)
    csms_root_pem: str | None = None
    certificate_pem: str | None = None
    key: ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)
    secc_id: str = "DE-ABC-S-SIM01-1"  # the CN of its V2G (SECC) certificate


def _hash_of(pem: str) -> dict:
    cert = x509.load_pem_x509_certificate(pem.encode())
    # A root is its own issuer: OCPP's CertificateHashDataType for installed roots.
    data = hash_data(cert, cert, "")
    data.pop("responder_url")
    return data


def _csr(key: ec.EllipticCurvePrivateKey, cn: str, organization: str) -> str:
    names = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)] if organization else []
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([*names, x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(PEM).decode()


class SimulatedStation(ChargePoint):
    """A station that also answers the CSMS's certificate management requests."""

    def __init__(self, identity: StationIdentity, connection):
        super().__init__(identity.station_id, connection)
        self.identity = identity
        self.roots: dict[str, list[str]] = {}  # certificateType -> PEMs (InstallCertificate)
        self.signed: dict[str, str] = {}  # certificateType -> PEM chain (CertificateSigned)
        self.pending_keys: dict[str, ec.EllipticCurvePrivateKey] = {}
        self.keys: dict[str, ec.EllipticCurvePrivateKey] = {}

    @on(Action.install_certificate)
    async def on_install_certificate(self, certificate_type, certificate, **_):
        try:
            x509.load_pem_x509_certificate(certificate.encode())
        except ValueError:
            return call_result.InstallCertificate(status="Rejected")
        self.roots.setdefault(certificate_type, []).append(certificate)
        return call_result.InstallCertificate(status="Accepted")

    @on(Action.get_installed_certificate_ids)
    async def on_get_installed_ids(self, certificate_type=None, **_):
        chains = [{"certificate_type": kind, "certificate_hash_data": _hash_of(pem)}
                  for kind, pems in self.roots.items() for pem in pems
                  if certificate_type is None or kind in certificate_type]
        if not chains:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(status="Accepted", certificate_hash_data_chain=chains)

    @on(Action.delete_certificate)
    async def on_delete_certificate(self, certificate_hash_data, **_):
        wanted = {k: str(v).lower() for k, v in certificate_hash_data.items()}
        for pems in self.roots.values():
            for pem in pems:
                if {k: str(v).lower() for k, v in _hash_of(pem).items()} == wanted:
                    pems.remove(pem)
                    return call_result.DeleteCertificate(status="Accepted")
        return call_result.DeleteCertificate(status="NotFound")

    @on(Action.trigger_message)
    async def on_trigger(self, requested_message, **_):
        if requested_message in ("SignV2GCertificate", "SignChargingStationCertificate"):
            return call_result.TriggerMessage(status="Accepted")
        return call_result.TriggerMessage(status="NotImplemented")

    @after(Action.trigger_message)
    async def after_trigger(self, requested_message, **_):
        if requested_message == "SignV2GCertificate":
            await self.sign_certificate("V2GCertificate")
        elif requested_message == "SignChargingStationCertificate":
            await self.sign_certificate("ChargingStationCertificate")

    async def sign_certificate(self, certificate_type: str) -> str | None:
        """A03: a fresh key and CSR (CN: the SECC ID for V2G, the identity otherwise)."""
        key = ec.generate_private_key(ec.SECP256R1())
        cn = self.identity.secc_id if certificate_type == "V2GCertificate" else self.identity.station_id
        self.pending_keys[certificate_type] = key
        answer = await self.call(call.SignCertificate(csr=_csr(key, cn, "OPCP Simulated Station"),
                                                      certificate_type=certificate_type))
        return answer.status if answer else None

    @on(Action.certificate_signed)
    async def on_certificate_signed(self, certificate_chain, certificate_type="ChargingStationCertificate", **_):
        key = self.pending_keys.get(certificate_type)
        try:
            leaf = x509.load_pem_x509_certificates(certificate_chain.encode())[0]
        except (ValueError, IndexError):
            return call_result.CertificateSigned(status="Rejected")
        fmt = (serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        if key is None or leaf.public_key().public_bytes(*fmt) != key.public_key().public_bytes(*fmt):
            return call_result.CertificateSigned(status="Rejected")
        self.signed[certificate_type] = certificate_chain
        self.keys[certificate_type] = self.pending_keys.pop(certificate_type)
        return call_result.CertificateSigned(status="Accepted")


@contextlib.asynccontextmanager
async def connect(url: str, identity: StationIdentity) -> AsyncIterator[SimulatedStation]:
    """The station's OCPP connection to `<url>/<identity>`; its listener runs while open."""
    kwargs: dict = {"subprotocols": [csms.SUBPROTOCOL]}
    if identity.password is not None:
        token = base64.b64encode(f"{identity.station_id}:{identity.password}".encode()).decode()
        kwargs["additional_headers"] = {"Authorization": f"Basic {token}"}
    if url.startswith("wss:"):
        if identity.csms_root_pem is None:
            raise ValueError("csms_root_pem: wss needs the CSMS root the station trusts")
        kwargs["ssl"] = station_context(identity.csms_root_pem, identity.certificate_pem, identity.key)
    async with websockets.connect(f"{url.rstrip('/')}/{identity.station_id}", **kwargs) as connection:
        station = SimulatedStation(identity, connection)
        listener = asyncio.create_task(station.start())
        try:
            yield station
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await listener


async def boot(station: SimulatedStation, evse_id: int = 1, connector_id: int = 1) -> str:
    """BootNotification (PowerUp) and the connector Available; the registration status."""
    answer = await station.call(call.BootNotification(
        charging_station={"model": "OPCP-SIM", "vendor_name": "OPCP", "serial_number": station.id},
        reason="PowerUp"))
    if answer.status == "Accepted":
        await station.call(call.StatusNotification(timestamp=_now(), connector_status="Available",
                                                   evse_id=evse_id, connector_id=connector_id))
    return answer.status


async def ev_certificate(station: SimulatedStation, exi_request: bytes, action: str = "Install",
                         namespace: str = ISO2) -> CertificateAnswer:
    answer = await station.call(call.Get15118EVCertificate(
        iso15118_schema_version=namespace, action=action,
        exi_request=base64.b64encode(exi_request).decode()))
    info = answer.status_info or {}
    return CertificateAnswer(answer.status,
                             base64.b64decode(answer.exi_response) if answer.exi_response else None,
                             info.get("additional_info"))


def contract_hash_data(contract: InstalledContract) -> list[dict]:
    """OCPP iso15118CertificateHashData of an installed contract chain, leaf first (the topmost
    sub-CA's issuer is the root, which the station does not hold: it is left out)."""
    certs = [x509.load_der_x509_certificate(d) for d in contract.contract_chain]
    return [hash_data(c, i, next(iter(read_cert(c).ocsp_urls), ""))
            for c, i in zip(certs, certs[1:])]


def contract_pem(contract: InstalledContract) -> str:
    return "".join(x509.load_der_x509_certificate(d).public_bytes(PEM).decode() for d in contract.contract_chain)


@dataclass
class SessionReport:
    """What each step of `run_pnc_session` got back."""

    registration: str
    installation: CertificateAnswer  # for -20: the last exchange's
    contract: InstalledContract | InstalledContract20 | None = None  # the one authorized with
    contracts20: list[InstalledContract20] = field(default_factory=list)  # -20: every one installed
    certificate_status: str | None = None
    ocsp_result: bytes | None = None
    authorization: dict = field(default_factory=dict)
    certificate_status_at_authorize: str | None = None
    transaction_id: str | None = None
    transaction_status: str | None = None
    ended: bool = False  # the transaction was started with an accepted token and ended
    steps: list[str] = field(default_factory=list)


async def run_pnc_session(url: str, identity: StationIdentity, vehicle: Vehicle | Vehicle20, *,
                          evse_id: int = 1, meter_wh: tuple[int, int] = (0, 7400),
                          session_id: bytes | None = None) -> SessionReport:
    """A whole Plug&Charge session at `url`; stops at the first step that fails and says so in
    the report (`steps` lists what happened, for a transcript). A `Vehicle20` speaks ISO
    15118-20: its contracts are installed over several exchanges of one V2G session
    (`install_contracts20`, `session_id` or a random one), and the first is the one it
    authorizes and charges with."""
    async with connect(url, identity) as station:
        report = SessionReport(await boot(station, evse_id), CertificateAnswer("", None))
        report.steps.append(f"BootNotification: {report.registration}")
        if report.registration != "Accepted":
            return report
        await station.call(call.StatusNotification(timestamp=_now(), connector_status="Occupied",
                                                   evse_id=evse_id, connector_id=1))
        if isinstance(vehicle, Vehicle20):
            answers: list[CertificateAnswer] = []
            try:
                report.contracts20 = await install_contracts20(
                    station, vehicle, session_id or secrets.token_bytes(8), answers=answers,
                    steps=report.steps)
            except VehicleRejected as exc:
                report.steps.append(f"EV refused the contract: {exc}")
                return report
            finally:
                report.installation = answers[-1] if answers else report.installation
            report.contract = report.contracts20[0]
        else:
            report.installation = await ev_certificate(station, vehicle.installation_req())
            report.steps.append(f"Get15118EVCertificate Install: {report.installation.status}"
                                + (f" ({report.installation.reason})" if report.installation.reason else ""))
            if report.installation.exi_response is None:
                return report
            try:
                report.contract = vehicle.accept(report.installation.exi_response)
            except VehicleRejected as exc:
                report.steps.append(f"EV refused the contract: {exc}")
                return report
            report.steps.append(f"EV installed contract {report.contract.emaid}")
        hashes_ = contract_hash_data(report.contract)
        status = await station.call(call.GetCertificateStatus(ocsp_request_data=hashes_[0]))
        report.certificate_status = status.status
        report.ocsp_result = base64.b64decode(status.ocsp_result) if status.ocsp_result else None
        report.steps.append(f"GetCertificateStatus: {status.status}")
        token = {"id_token": report.contract.emaid, "type": "eMAID"}
        authorized = await station.call(call.Authorize(id_token=token, certificate=contract_pem(report.contract),
                                                       iso15118_certificate_hash_data=hashes_))
        report.authorization = authorized.id_token_info
        report.certificate_status_at_authorize = authorized.certificate_status
        report.steps.append(f"Authorize {report.contract.emaid}: {authorized.id_token_info['status']}"
                            f" (certificate {authorized.certificate_status})")
        if authorized.id_token_info["status"] != "Accepted":
            return report
        report.transaction_id = tid = str(uuid.uuid4())
        evse = {"id": evse_id, "connector_id": 1}
        started = await station.call(call.TransactionEvent(
            event_type="Started", timestamp=_now(), trigger_reason="Authorized", seq_no=0,
            transaction_info={"transaction_id": tid, "charging_state": "Charging"}, id_token=token, evse=evse,
            meter_value=[_meter(meter_wh[0])]))
        report.transaction_status = started.id_token_info["status"]
        await station.call(call.TransactionEvent(
            event_type="Updated", timestamp=_now(), trigger_reason="MeterValuePeriodic", seq_no=1,
            transaction_info={"transaction_id": tid, "charging_state": "Charging"},
            meter_value=[_meter((meter_wh[0] + meter_wh[1]) // 2)]))
        await station.call(call.TransactionEvent(
            event_type="Ended", timestamp=_now(), trigger_reason="EVCommunicationLost", seq_no=2,
            transaction_info={"transaction_id": tid, "charging_state": "Idle", "stopped_reason": "EVDisconnected"},
            meter_value=[_meter(meter_wh[1])]))
        await station.call(call.StatusNotification(timestamp=_now(), connector_status="Available",
                                                   evse_id=evse_id, connector_id=1))
        report.ended = report.transaction_status == "Accepted"
        report.steps.append(f"transaction {tid}: Started ({report.transaction_status}), Updated, Ended")
        return report


async def install_contracts20(station: SimulatedStation, vehicle: Vehicle20,
                              session_id: bytes = b"\x20" * 8, *,
                              answers: list[CertificateAnswer] | None = None,
                              steps: list[str] | None = None) -> list[InstalledContract20]:
    """ISO 15118-20 contract installation through the CSMS: in one V2G session (one SessionID)
    the vehicle sends its signed CertificateInstallationReq with iso15118SchemaVersion
    `urn:iso:std:iso:15118:-20:CommonMessages`, installs the answer, and asks again while
    RemainingContractCertificateChains is above zero (at most MaximumContractCertificateChains
    exchanges). Each answer must count down by one: a count that does not (or more answers
    than the vehicle takes) is refused (`remaining`). `answers` and `steps`, when given,
    collect each exchange's answer and a transcript line."""
    installed: list[InstalledContract20] = []
    expected: int | None = None
    while len(installed) < vehicle.maximum_chains:
        answer = await ev_certificate(station, vehicle.installation_req(session_id),
                                      namespace=ISO20_COMMON_MESSAGES)
        if answers is not None:
            answers.append(answer)
        if steps is not None:
            steps.append(f"Get15118EVCertificate Install (-20) exchange {len(installed) + 1}:"
                         f" {answer.status}" + (f" ({answer.reason})" if answer.reason else ""))
        if answer.status != "Accepted" or answer.exi_response is None:
            raise VehicleRejected("csms", f"Get15118EVCertificate answered {answer.status}:"
                                  f" {answer.reason}")
        got = vehicle.accept(answer.exi_response)
        if expected is not None and got.remaining != expected:
            raise VehicleRejected("remaining", f"exchange {len(installed) + 1} says"
                                  f" RemainingContractCertificateChains={got.remaining},"
                                  f" expected {expected}")
        installed.append(got)
        if steps is not None:
            steps.append(f"EV installed contract {got.emaid} (RemainingContractCertificateChains"
                         f" {got.remaining})")
        if got.remaining == 0:
            break
        expected = got.remaining - 1
    return installed


def _meter(wh: int) -> dict:
    return {"timestamp": _now(), "sampled_value": [
        {"value": wh, "measurand": "Energy.Active.Import.Register", "unit_of_measure": {"unit": "Wh"}}]}


def through_csms(backend: CpoBackend, exi_request: bytes, station_id: str = "CS-SIM-1",
                 namespace: str = ISO2) -> CertificateAnswer:
    """One Get15118EVCertificate from a station to the project's CSMS on a free loopback port
    (security profile 1, a fresh password)."""
    password = secrets.token_urlsafe(24)

    async def exchange() -> CertificateAnswer:
        running = await csms.serve_backend(backend, StationCredential(station_id, 1, password))
        try:
            async with connect(running.ws_url, StationIdentity(station_id, password)) as station:
                if await boot(station) != "Accepted":
                    raise RuntimeError(f"the CSMS did not accept {station_id}")
                return await ev_certificate(station, exi_request, namespace=namespace)
        finally:
            await running.stop()

    return asyncio.run(exchange())


def ecosystem_vehicle(client: OpcpClient) -> tuple[Vehicle, str]:
    """A vehicle with a contract in the CCP, made with the ecosystem's own services only: the
    OEM enrolls the provisioning certificate over EST, the MO of the V2G PKI has the CPS
    generate the contract. Returns the vehicle and the contract's eMAID."""
    target = client.target
    oem_client, mo_client = target.client("OEM"), target.client("MO_V2G")
    if oem_client is None or mo_client is None or not mo_client.emaid_prefixes:
        raise ValueError("the target needs an OEM client and an MO_V2G client with an EMAID prefix")
    oem = Oem(client, source=EstEnrollment(client))
    vehicle = oem.produce_vehicle()
    oem.publish(vehicle)
    faker = Faker()
    faker.add_provider(PnCIdProvider)
    emaid = faker.emaid(prefix=mo_client.emaid_prefixes[0], check_digit=False)
    MoV2gPki(client).generate_contract(vehicle.pcid, emaid)
    return vehicle, emaid


def ecosystem_vehicle20(client: OpcpClient, contracts: int = 2) -> tuple[Vehicle20, list[str]]:
    """An ISO 15118-20 vehicle with `contracts` contracts in the CCP, from the ecosystem's own
    services: the OEM enrolls a secp521r1 provisioning certificate over EST (ISO15118-20), the
    MO of the V2G PKI has the CPS generate each -20 contract. The ecosystem's -20 V2G root
    must be in the RCP (`iso20_v2g_root_in_rcp`). Returns the vehicle and the eMAIDs."""
    target = client.target
    oem_client, mo_client = target.client("OEM"), target.client("MO_V2G")
    if oem_client is None or mo_client is None or not mo_client.emaid_prefixes:
        raise ValueError("the target needs an OEM client and an MO_V2G client with an EMAID prefix")
    oem = Oem(client, source=EstEnrollment(client, iso_version="ISO15118-20", algorithm="secp521r1"))
    vehicle = oem.produce_vehicle20(maximum_chains=contracts)
    if not vehicle.trusted_v2g_roots:
        raise ValueError("the RCP holds no ISO 15118-20 V2G root for the vehicle to trust")
    oem.publish(vehicle)
    faker = Faker()
    faker.add_provider(PnCIdProvider)
    mo = MoV2gPki(client)
    emaids = []
    for _ in range(contracts):
        emaid = faker.emaid(prefix=mo_client.emaid_prefixes[0], check_digit=False)
        expect(mo.generate_exchange(mo.generate_body(vehicle.pcid, emaid,
                                                     namespace=ISO20_CANONICAL)),
               f"generate -20 contract {emaid}", 200, 201)
        emaids.append(emaid)
    return vehicle, emaids


@contextlib.contextmanager
def iso20_v2g_root_in_rcp(client: OpcpClient):
    """The ecosystem's -20 V2G root (as its EST `oem` CA publishes it) in the RCP for the
    duration: the operator (ADMIN) adds it, tagged -20, when it is not there, and removes what
    it added afterwards (a fresh reference keeps only -2 roots in the RCP, docs/iso20.md)."""
    root = iso20_v2g_root(client)
    added = None
    if root not in trusted_roots(client, "OEM", 0, "v2g"):
        got = expect(client.op("saveRootCa", role="ADMIN", json={
            "caCertificate": base64.b64encode(root).decode(), "rootType": "V2G",
            "xsdMsgDefNamespace": ISO20_CANONICAL}), "register the -20 V2G root")
        added = got.json()["RootResponse"]["rootCertificateId"]
    try:
        yield root
    finally:
        if added is not None:
            client.op("deleteRootCa", {"rootCertificateId": added}, role="ADMIN")


def local_identity(data_dir: Path | str, station_id: str, csms_root: Path | str | None = None) -> StationIdentity:
    """A station of the local ecosystem (`csms.start_local`): its password from the stations
    file; for profile 3 a fresh key and a station certificate from the local CSMS root, as
    the operator provisions a station before it is installed."""
    directory = Path(data_dir) / "csms"
    found = next((s for s in local_stations(directory / "stations.json") if s.station_id == station_id), None)
    if found is None:
        raise ValueError(f"station_id: {station_id} is not in {directory / 'stations.json'}")
    pki = CsoPki.open(directory)
    root_pem = Path(csms_root).read_text() if csms_root else pki.root_pem
    if found.security_profile < 3:
        return StationIdentity(station_id, found.password, root_pem)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = pki.issue_station_certificate(_csr(key, station_id, ""), station_id)
    return StationIdentity(station_id, None, root_pem, certificate, key)


def run_station(client: OpcpClient, url: str, identity: StationIdentity, iso: str = "2"
                ) -> SessionReport:
    """`opcp station`: a fresh vehicle with a contract (`ecosystem_vehicle`) and a whole
    Plug&Charge session at the CSMS `url` (ws or wss). `iso="20"`: an ISO 15118-20 vehicle
    with two contracts (`ecosystem_vehicle20`), installed over two exchanges of one V2G
    session, the -20 V2G root in the RCP for the session's duration."""
    if iso == "2":
        vehicle, _ = ecosystem_vehicle(client)
        return asyncio.run(run_pnc_session(url, identity, vehicle))
    if iso != "20":
        raise ValueError(f"iso: 2 or 20, not {iso!r}")
    with iso20_v2g_root_in_rcp(client):
        vehicle20, _ = ecosystem_vehicle20(client)
        return asyncio.run(run_pnc_session(url, identity, vehicle20))
