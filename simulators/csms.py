"""The CPO's OCPP 2.0.1 CSMS: a real charging station boots, authorizes and gets contracts here.

`start(config, client, ...)` serves stations at `ws://host:port/<identity>` (security profile 1)
and `wss://host:tls_port/<identity>` (profiles 2 and 3, the certificate from the CPO's OCPP PKI,
`simulators.csms_tls`) and returns a `RunningCsms` with the URLs and `stop()`. Who may connect
is decided at the upgrade (`simulators.csms_security`: 401 for unknown stations, wrong
passwords, a missing or foreign station certificate). Each message is validated by the `ocpp`
package against the OCPP 2.0.1 schemas, both ways.

Every message a station sends on its own has a handler that answers per OCPP 2.0.1 and records
it in the station's `StationState` (boot, connector status, heartbeats, events, transactions,
certificates signed); Authorize of a token in the operator's list (`CsmsConfig.id_tokens`, C01)
is answered from the list. Until its BootNotification is Accepted a station gets `SecurityError` for
anything but BootNotification (B02/B03); the registration outlives a connection (a station
boots when it restarts, not when it reconnects), and lasts as long as the process.
Certificate work (Get15118EVCertificate, GetCertificateStatus, Authorize with contract
certificates, SignCertificate for V2G certificates) goes to the OPCP target through
`simulators.csms_certificates`; the target's HTTP client is synchronous, so it runs off the
event loop.

The CSMS's own requests to a connected station are methods of `Csms`: InstallCertificate of
the RCP's V2G and MO roots, GetInstalledCertificateIds, DeleteCertificate, and TriggerMessage
for a new station or V2G certificate (SignCertificate -> EST/CSMS root -> CertificateSigned).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path

import httpx
import websockets
from ocpp.exceptions import SecurityError
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request

from opcp.client import OpcpClient
from simulators.cpo import CpoBackend
from simulators.csms_certificates import CertificateServices, Refused
from simulators.csms_security import (
    Admission,
    CsmsConfig,
    IdTokenRecord,
    StationCredential,
    admit,
    local_id_tokens,
    local_stations,
)
from simulators.csms_tls import CsoPki, StationCsrRefused, peer_certificate

log = logging.getLogger("opcp.csms")
SUBPROTOCOL = "ocpp2.0.1"
ROOT_TYPES = {"v2g": "V2GRootCertificate", "mo": "MORootCertificate"}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _info(reason: str, detail: str) -> dict:
    return {"reason_code": reason[:20], "additional_info": detail[:512]}


@dataclass
class Transaction:
    transaction_id: str
    state: str  # the last eventType: Started, Updated, Ended
    id_token: dict | None = None
    evse: dict | None = None
    seq_nos: list[int] = field(default_factory=list)
    meter_values: list[dict] = field(default_factory=list)
    stopped_reason: str | None = None


@dataclass
class StationState:
    """What the CSMS knows of one station, from what it sent."""

    station_id: str
    known: bool
    profile: int | None
    boot: dict | None = None
    registration: str | None = None  # the last BootNotification answer
    connectors: dict[tuple[int, int], str] = field(default_factory=dict)
    heartbeats: int = 0
    events: list[dict] = field(default_factory=list)  # NotifyEvent eventData
    security_events: list[dict] = field(default_factory=list)
    transactions: dict[str, Transaction] = field(default_factory=dict)
    authorized: dict[str, str] = field(default_factory=dict)  # eMAID -> last Authorize status
    certificates_signed: list[dict] = field(default_factory=list)
    received: list[str] = field(default_factory=list)  # actions, in order

    @property
    def accepted(self) -> bool:
        return self.registration == "Accepted"


class StationSession(ChargePoint):
    """One connected charging station; handlers are the CSMS's answers."""

    def __init__(self, state: StationState, connection, csms: Csms):
        super().__init__(state.station_id, connection)
        self.state, self.csms = state, csms

    def _accepted(self, action: str) -> None:
        self.state.received.append(action)
        if not self.state.accepted:
            raise SecurityError(description=f"{action} before an Accepted BootNotification")

    async def _off_loop(self, func, *args):
        return await asyncio.to_thread(func, *args)

    # -------------------------------------------------------------- B01-B03, G01, G02
    @on(Action.boot_notification)
    async def on_boot(self, charging_station, reason, **_):
        self.state.received.append("BootNotification")
        self.state.boot = {"charging_station": charging_station, "reason": reason}
        config = self.csms.config
        if self.state.known:
            self.state.registration = "Accepted"
            return call_result.BootNotification(current_time=_now(), interval=config.heartbeat_interval,
                                                status="Accepted")
        self.state.registration = "Pending"
        return call_result.BootNotification(
            current_time=_now(), interval=config.pending_interval, status="Pending",
            status_info=_info("UnknownStation", "not in the CSMS's station registry yet"))

    @on(Action.heartbeat)
    async def on_heartbeat(self, **_):
        self._accepted("Heartbeat")
        self.state.heartbeats += 1
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    async def on_status(self, timestamp, connector_status, evse_id, connector_id, **_):
        self._accepted("StatusNotification")
        self.state.connectors[(evse_id, connector_id)] = connector_status
        return call_result.StatusNotification()

    # -------------------------------------------------------------- reports and notifications
    @on(Action.notify_event)
    async def on_notify_event(self, generated_at, seq_no, event_data, **_):
        self._accepted("NotifyEvent")
        self.state.events.extend(event_data)
        return call_result.NotifyEvent()

    @on(Action.security_event_notification)
    async def on_security_event(self, type, timestamp, **kw):  # noqa: A002 - OCPP's field name
        self._accepted("SecurityEventNotification")
        self.state.security_events.append({"type": type, "timestamp": timestamp, **kw})
        return call_result.SecurityEventNotification()

    @on(Action.meter_values)
    async def on_meter_values(self, evse_id, meter_value, **_):
        self._accepted("MeterValues")
        return call_result.MeterValues()

    @on(Action.notify_report)
    async def on_notify_report(self, **_):
        self._accepted("NotifyReport")
        return call_result.NotifyReport()

    @on(Action.notify_monitoring_report)
    async def on_notify_monitoring_report(self, **_):
        self._accepted("NotifyMonitoringReport")
        return call_result.NotifyMonitoringReport()

    @on(Action.firmware_status_notification)
    async def on_firmware_status(self, **_):
        self._accepted("FirmwareStatusNotification")
        return call_result.FirmwareStatusNotification()

    @on(Action.log_status_notification)
    async def on_log_status(self, **_):
        self._accepted("LogStatusNotification")
        return call_result.LogStatusNotification()

    @on(Action.publish_firmware_status_notification)
    async def on_publish_firmware_status(self, **_):
        self._accepted("PublishFirmwareStatusNotification")
        return call_result.PublishFirmwareStatusNotification()

    @on(Action.notify_charging_limit)
    async def on_notify_charging_limit(self, **_):
        self._accepted("NotifyChargingLimit")
        return call_result.NotifyChargingLimit()

    @on(Action.cleared_charging_limit)
    async def on_cleared_charging_limit(self, **_):
        self._accepted("ClearedChargingLimit")
        return call_result.ClearedChargingLimit()

    @on(Action.report_charging_profiles)
    async def on_report_charging_profiles(self, **_):
        self._accepted("ReportChargingProfiles")
        return call_result.ReportChargingProfiles()

    @on(Action.notify_ev_charging_needs)
    async def on_ev_charging_needs(self, **_):
        self._accepted("NotifyEVChargingNeeds")
        # No smart charging here: "Rejected: Service not available" and no schedule follows.
        return call_result.NotifyEVChargingNeeds(
            status="Rejected", status_info=_info("NoSmartCharging", "this CSMS sends no charging schedules"))

    @on(Action.notify_ev_charging_schedule)
    async def on_ev_charging_schedule(self, **_):
        self._accepted("NotifyEVChargingSchedule")
        return call_result.NotifyEVChargingSchedule(status="Accepted")

    @on(Action.notify_customer_information)
    async def on_customer_information(self, **_):
        self._accepted("NotifyCustomerInformation")
        return call_result.NotifyCustomerInformation()

    @on(Action.notify_display_messages)
    async def on_display_messages(self, **_):
        self._accepted("NotifyDisplayMessages")
        return call_result.NotifyDisplayMessages()

    @on(Action.reservation_status_update)
    async def on_reservation_status(self, **_):
        self._accepted("ReservationStatusUpdate")
        return call_result.ReservationStatusUpdate()

    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id, **_):
        self._accepted("DataTransfer")
        return call_result.DataTransfer(status="UnknownVendorId",
                                        status_info=_info("UnknownVendor", f"no extension for {vendor_id}"))

    # -------------------------------------------------------------- block M
    @on(Action.get_15118_ev_certificate)
    async def on_get_15118_ev_certificate(self, iso15118_schema_version, action, exi_request, **_):
        self._accepted("Get15118EVCertificate")
        answer = await self._off_loop(self.csms.services.ev_certificate, iso15118_schema_version,
                                      action, exi_request)
        log.info("station %s: Get15118EVCertificate %s -> %s %s", self.id, action, answer.status,
                 answer.reason or "")
        if answer.exi_response is None:
            return call_result.Get15118EVCertificate(status="Failed", exi_response="",
                                                      status_info=_info("CCPError", answer.reason or ""))
        return call_result.Get15118EVCertificate(status="Accepted",
                                                  exi_response=base64.b64encode(answer.exi_response).decode())

    @on(Action.get_certificate_status)
    async def on_get_certificate_status(self, ocsp_request_data, **_):
        self._accepted("GetCertificateStatus")
        try:
            der = await self._off_loop(self.csms.services.certificate_status, ocsp_request_data)
        except Refused as exc:
            return call_result.GetCertificateStatus(status="Failed", status_info=_info("OCSPError", str(exc)))
        return call_result.GetCertificateStatus(status="Accepted", ocsp_result=base64.b64encode(der).decode())

    @on(Action.sign_certificate)
    async def on_sign_certificate(self, csr, certificate_type="ChargingStationCertificate", **_):
        self._accepted("SignCertificate")
        if certificate_type == "ChargingStationCertificate" and self.csms.pki is None:
            return call_result.SignCertificate(status="Rejected",
                                               status_info=_info("NoPKI", "this CSMS serves no wss"))
        if "BEGIN CERTIFICATE REQUEST" not in csr:
            return call_result.SignCertificate(status="Rejected", status_info=_info("InvalidCSR", "not PEM"))
        return call_result.SignCertificate(status="Accepted")

    @after(Action.sign_certificate)
    async def sign_and_send(self, csr, certificate_type="ChargingStationCertificate", **_):
        """A02/A03: sign (CSMS root, or the CPO's EST CA for V2G), then CertificateSigned."""
        record = {"certificate_type": certificate_type, "status": None, "error": None}
        self.state.certificates_signed.append(record)
        if not self.state.accepted or "BEGIN CERTIFICATE REQUEST" not in csr:
            record["error"] = "request rejected"
            return
        try:
            if certificate_type == "V2GCertificate":
                chain = await self._off_loop(self.csms.services.sign_v2g_certificate, csr)
            else:
                assert self.csms.pki is not None
                chain = self.csms.pki.issue_station_certificate(csr, self.id)
        except (Refused, StationCsrRefused) as exc:
            record["error"] = str(exc)
            log.info("station %s: SignCertificate %s refused: %s", self.id, certificate_type, exc)
            return
        answer = await self.call(call.CertificateSigned(certificate_chain=chain,
                                                        certificate_type=certificate_type))
        record["status"] = answer.status if answer is not None else "CallError"

    # -------------------------------------------------------------- block C, E
    @on(Action.authorize)
    async def on_authorize(self, id_token, certificate=None, iso15118_certificate_hash_data=None, **_):
        self._accepted("Authorize")
        listed = self.csms.config.id_token(id_token)
        if listed is not None and certificate is None and not iso15118_certificate_hash_data:
            # C01: a token of the operator's list (RFID card, central token...).
            log.info("station %s: Authorize %s -> %s (listed)", self.id, listed.id_token, listed.status)
            self.state.authorized[listed.id_token] = listed.status
            return call_result.Authorize(id_token_info=_token_info(listed.status, listed))
        answer = await self._off_loop(self.csms.services.authorize, id_token, certificate,
                                      iso15118_certificate_hash_data)
        log.info("station %s: Authorize %s -> %s/%s %s", self.id, id_token.get("id_token"), answer.status,
                 answer.certificate_status, answer.detail or "")
        self.state.authorized[str(id_token.get("id_token"))] = answer.status
        info = {"status": answer.status}
        if answer.detail and answer.status != "Accepted":
            info["personal_message"] = {"format": "UTF8", "content": answer.detail[:512]}
        if answer.certificate_status is None:
            return call_result.Authorize(id_token_info=info)
        return call_result.Authorize(id_token_info=info, certificate_status=answer.certificate_status)

    @on(Action.transaction_event)
    async def on_transaction_event(self, event_type, timestamp, trigger_reason, seq_no, transaction_info,
                                   id_token=None, evse=None, meter_value=None, **_):
        self._accepted("TransactionEvent")
        tid = transaction_info["transaction_id"]
        tx = self.state.transactions.get(tid)
        if tx is None:
            # An Updated or Ended whose Started was lost (offline) still opens the record.
            tx = self.state.transactions[tid] = Transaction(tid, event_type)
        tx.state, tx.evse = event_type, evse or tx.evse
        tx.seq_nos.append(seq_no)
        tx.meter_values.extend(meter_value or [])
        if event_type == "Ended":
            tx.stopped_reason = transaction_info.get("stopped_reason", "Local")
        if id_token is None:
            return call_result.TransactionEvent()
        tx.id_token = id_token
        listed = self.csms.config.id_token(id_token)
        if listed is not None:  # E: the list's status, whether or not the station asked Authorize
            return call_result.TransactionEvent(id_token_info=_token_info(listed.status, listed))
        return call_result.TransactionEvent(id_token_info={"status": self._token_status(id_token)})

    def _token_status(self, id_token: dict) -> str:
        """A transaction's contract idToken: what this CSMS's Authorize said for it (C07 precedes E)."""
        if id_token.get("type") == "NoAuthorization":
            return "Accepted"
        return self.state.authorized.get(str(id_token.get("id_token")), "Unknown")


def _token_info(status: str, record: IdTokenRecord) -> dict:
    """IdTokenInfoType for a listed token: its status and, if it has one, its group."""
    info: dict = {"status": status}
    if record.group_id is not None:
        info["group_id_token"] = {"id_token": record.group_id, "type": "Central"}
    return info


@dataclass
class Csms:
    config: CsmsConfig
    services: CertificateServices
    pki: CsoPki | None = None
    stations: dict[str, StationState] = field(default_factory=dict)
    sessions: dict[str, StationSession] = field(default_factory=dict)

    # -------------------------------------------------------------- the upgrade
    def process_request(self, connection: ServerConnection, request: Request):
        tls = connection.transport.get_extra_info("ssl_object") is not None
        cert = peer_certificate(connection.transport.get_extra_info("ssl_object"))
        verdict = admit(self.config, request.path, request.headers.get("Authorization"), tls, cert)
        if verdict.refusal is not None:
            log.info("refused %s at the upgrade: %s", verdict.station_id, verdict.refusal)
            response = connection.respond(HTTPStatus.UNAUTHORIZED, f"{verdict.refusal}\n")
            response.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
            return response
        connection.admission = verdict  # type: ignore[attr-defined]
        return None

    async def handler(self, connection: ServerConnection) -> None:
        if connection.subprotocol != SUBPROTOCOL:
            # OCPP 2.0.1 Part 4 3.2: no agreed subprotocol -> close right after the handshake.
            await connection.close(1002, f"subprotocol {SUBPROTOCOL} required")
            return
        verdict: Admission = connection.admission  # type: ignore[attr-defined]
        state = self.stations.get(verdict.station_id)
        if state is None:
            state = self.stations[verdict.station_id] = StationState(verdict.station_id, verdict.known,
                                                                     verdict.profile)
        # The registration belongs to the station's boot, not to a connection: a station sends
        # BootNotification when it (re)boots (B01), so one that was Accepted and reconnects
        # after losing its connection carries on without booting again.
        session = StationSession(state, connection, self)
        old = self.sessions.get(verdict.station_id)
        self.sessions[verdict.station_id] = session
        if old is not None:
            await old._connection.close(1000, "replaced by a new connection")  # one connection per identity
        try:
            await session.start()
        except websockets.ConnectionClosed:
            pass
        finally:
            if self.sessions.get(verdict.station_id) is session:
                del self.sessions[verdict.station_id]

    # -------------------------------------------------------------- CSMS-initiated
    def session(self, station_id: str) -> StationSession:
        try:
            return self.sessions[station_id]
        except KeyError:
            raise LookupError(f"station {station_id} is not connected") from None

    async def install_root_certificates(self, station_id: str,
                                        root_types: tuple[str, ...] = ("v2g", "mo")) -> list[tuple[str, str]]:
        """M05: InstallCertificate of every RCP root of `root_types`; (certificateType, status)."""
        session = self.session(station_id)
        results = []
        for root_type in root_types:
            ders = await asyncio.to_thread(self.services.root_certificates, root_type)
            for der in ders:
                pem = "-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der).decode() + \
                      "-----END CERTIFICATE-----\n"
                answer = await session.call(call.InstallCertificate(certificate_type=ROOT_TYPES[root_type],
                                                                    certificate=pem))
                results.append((ROOT_TYPES[root_type], answer.status if answer else "CallError"))
        return results

    async def installed_certificate_ids(self, station_id: str,
                                        certificate_types: list[str] | None = None) -> list[dict]:
        """M03: GetInstalledCertificateIds; the certificateHashDataChain entries (empty if NotFound)."""
        answer = await self.session(station_id).call(
            call.GetInstalledCertificateIds(certificate_type=certificate_types))
        if answer is None:
            raise LookupError(f"station {station_id} answered GetInstalledCertificateIds with a CallError")
        return list(answer.certificate_hash_data_chain or [])

    async def delete_certificate(self, station_id: str, certificate_hash_data: dict) -> str:
        """M04: DeleteCertificate; the station's status (Accepted, Failed, NotFound)."""
        answer = await self.session(station_id).call(
            call.DeleteCertificate(certificate_hash_data=certificate_hash_data))
        return answer.status if answer else "CallError"

    async def request_certificate(self, station_id: str, certificate_type: str = "V2GCertificate") -> str:
        """A02: TriggerMessage so the station sends SignCertificate (signed and sent back as
        CertificateSigned by the handler); the station's TriggerMessage status."""
        requested = {"V2GCertificate": "SignV2GCertificate",
                     "ChargingStationCertificate": "SignChargingStationCertificate"}[certificate_type]
        answer = await self.session(station_id).call(call.TriggerMessage(requested_message=requested))
        return answer.status if answer else "CallError"


@dataclass
class RunningCsms:
    csms: Csms
    ws_url: str
    wss_url: str | None
    _servers: list = field(repr=False)

    @property
    def root_pem(self) -> str | None:
        """The CSMS root stations must trust for wss (CSMSRootCertificate)."""
        return self.csms.pki.root_pem if self.csms.pki else None

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        self.csms.services.http.close()


async def start(config: CsmsConfig, client: OpcpClient, *, party: int = 0, host: str = "127.0.0.1",
                port: int = 9000, tls_port: int | None = None, pki_dir: Path | str | None = None,
                tls_hosts: tuple[str, ...] | None = None) -> RunningCsms:
    """Serve stations on `ws://host:port` and, with `pki_dir` (the CPO's OCPP PKI, made there on
    first use), `wss://host:tls_port`. Port 0 picks free ports; the URLs name the real ones.
    Stations connect to `<url>/<identity>`. `tls_hosts` are the names and addresses the CSMS
    certificate is made for (default: `host` and localhost; give the LAN address stations use
    when `host` is 0.0.0.0); an existing certificate in `pki_dir` is kept."""
    hosts = tls_hosts or (host, "localhost")
    pki = CsoPki.open(pki_dir, config.organization, hosts=hosts) if pki_dir else None
    # The CSMS asks responders with the target's TLS settings (a local CA under `opcp up --tls`).
    tls = client.target.tls
    services = CertificateServices(client, party, config.ocsp_responder,
                                   http=httpx.Client(timeout=10, verify=tls.httpx_verify()))
    csms = Csms(config, services, pki)
    common = {"subprotocols": [SUBPROTOCOL], "process_request": csms.process_request,
              "select_subprotocol": _select_subprotocol}
    servers = [await websockets.serve(csms.handler, host, port, **common)]
    ws_url = f"ws://{host}:{servers[0].sockets[0].getsockname()[1]}"
    wss_url = None
    if pki is not None:
        servers.append(await websockets.serve(csms.handler, host, tls_port if tls_port is not None else 0,
                                              ssl=pki.server_context(), **common))
        wss_url = f"wss://{host}:{servers[1].sockets[0].getsockname()[1]}"
    log.info("CSMS on %s%s", ws_url, f" and {wss_url}" if wss_url else "")
    return RunningCsms(csms, ws_url, wss_url, servers)


def _select_subprotocol(connection: ServerConnection, offered) -> str | None:
    # OCPP 2.0.1 Part 4 3.2: without ocpp2.0.1 on offer the handshake completes without a
    # subprotocol and the CSMS closes at once (the handler does), rather than answering 400.
    return SUBPROTOCOL if SUBPROTOCOL in offered else None


LOCAL_PORT, LOCAL_TLS_PORT = 9000, 9443


async def start_local(data_dir: Path | str, client: OpcpClient, *, host: str = "127.0.0.1",
                      port: int = LOCAL_PORT, tls_port: int = LOCAL_TLS_PORT,
                      ocsp_responder: str | None = None, tls_hosts: tuple[str, ...] | None = None) -> RunningCsms:
    """The CSMS of a local ecosystem (`opcp up`): stations from `<data_dir>/csms/stations.json`,
    the operator's idTokens from `<data_dir>/csms/id_tokens.json` if there is one, and the
    OCPP PKI in `<data_dir>/csms/`, stations and PKI made on first use; `ocsp_responder` is
    the ecosystem's (the reference's `<base>/ocsp`)."""
    directory = Path(data_dir) / "csms"
    config = CsmsConfig(stations=local_stations(directory / "stations.json"), ocsp_responder=ocsp_responder,
                        id_tokens=local_id_tokens(directory / "id_tokens.json"))
    return await start(config, client, host=host, port=port, tls_port=tls_port, pki_dir=directory,
                       tls_hosts=tls_hosts)


def connection_help(running: RunningCsms) -> list[str]:
    """How a station connects, one line each, for `opcp up` to print (no passwords: they are
    in the stations file, whose path is given)."""
    lines = [f"CSMS (OCPP 2.0.1): {running.ws_url}/<identity>  (profile 1: Basic auth)"]
    pki = running.csms.pki
    if running.wss_url and pki is not None:
        lines.append(f"                   {running.wss_url}/<identity>  (profile 2: Basic auth; "
                     f"profile 3: station certificate)")
        lines.append(f"CSMS root:         {pki.root_path}   (CSMSRootCertificate for wss)")
        lines.append(f"stations:          {pki.directory / 'stations.json'}   ("
                     + ", ".join(f"{s.station_id} profile {s.security_profile}" for s in running.csms.config.stations)
                     + "; Basic auth user = identity)")
    return lines


async def serve_backend(backend: CpoBackend, station: StationCredential, host: str = "127.0.0.1",
                        port: int = 0) -> RunningCsms:
    """A ws-only CSMS for one station over a CPO backend's client (tests, the story's step)."""
    return await start(CsmsConfig(stations=(station,)), backend.client, party=backend.party,
                       host=host, port=port)
