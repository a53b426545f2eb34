"""An OCPP 2.0.1 CSMS that bridges `Get15118EVCertificate` from a charging station to the CCP.

Point a real charging station (or an OCPP test tool) at it: the station forwards the EV's
base64 EXI CertificateInstallationReq, the CSMS asks the CCP through `CpoBackend`, and the
station gets the EXI CertificateInstallationRes back (a FAILED one too, when the CCP sent the
vehicle one), or `Failed` with the reason when there is nothing to forward.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging

import websockets
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.datatypes import StatusInfoType
from ocpp.v201.enums import Action

from simulators.cpo import CcpUnavailable, CpoBackend
from v2g.namespaces import OPCP_MSG_DEF_NAMESPACES

log = logging.getLogger("opcp.csms")
SUBPROTOCOL = "ocpp2.0.1"
NAMESPACES = set(OPCP_MSG_DEF_NAMESPACES)


class StationSession(ChargePoint):
    """One connected charging station."""

    def __init__(self, station_id: str, connection, backend: CpoBackend):
        super().__init__(station_id, connection)
        self.backend = backend

    @on(Action.boot_notification)
    async def on_boot(self, charging_station, reason, **_):
        return call_result.BootNotification(current_time=_now(), interval=300, status="Accepted")

    @on(Action.heartbeat)
    async def on_heartbeat(self, **_):
        return call_result.Heartbeat(current_time=_now())

    @on(Action.get_15118_ev_certificate)
    async def on_get_15118_ev_certificate(self, iso15118_schema_version, action, exi_request, **_):
        if iso15118_schema_version not in NAMESPACES:
            return _failed(f"iso15118SchemaVersion {iso15118_schema_version!r} is not supported")
        try:
            request = base64.b64decode(exi_request, validate=True)
        except (binascii.Error, ValueError):
            return _failed("exiRequest is not base64")
        try:
            # The backend's HTTP client is synchronous: keep it off the event loop.
            response = await asyncio.to_thread(self.backend.certificate_installation, request,
                                               iso15118_schema_version)
        except CcpUnavailable as exc:
            log.info("station %s: certificate %s failed: %s", self.id, action, exc)
            if exc.failed_res is not None:
                # The CCP answered the vehicle (FAILED_NoCertificateAvailable, ...): the
                # message was processed, so it goes to the EV as OCPP's Accepted, which
                # "is no indication whether the update was successful".
                return call_result.Get15118EVCertificate(
                    status="Accepted", exi_response=base64.b64encode(exc.failed_res).decode())
            return _failed(str(exc))
        return call_result.Get15118EVCertificate(status="Accepted",
                                                  exi_response=base64.b64encode(response).decode())


def _failed(reason: str):
    return call_result.Get15118EVCertificate(
        status="Failed", exi_response="",
        status_info=StatusInfoType(reason_code="CCPError", additional_info=reason[:512]))


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")


async def serve(backend: CpoBackend, host: str = "127.0.0.1", port: int = 9000):
    """Accept stations at ws://host:port/<station id>; returns the websockets server."""

    async def handler(connection):
        path = getattr(getattr(connection, "request", None), "path", "/") or "/"
        station = StationSession(path.strip("/") or "station", connection, backend)
        try:
            await station.start()
        except websockets.ConnectionClosed:
            pass

    return await websockets.serve(handler, host, port, subprotocols=[SUBPROTOCOL])
