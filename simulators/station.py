"""A charging station's part in Plug&Charge contract installation (OCPP 2.0.1).

The station carries the EV's EXI CertificateInstallationReq to its CSMS as
`Get15118EVCertificate` over an OCPP websocket and hands the `exiResponse` back to the EV.
`ask_csms` is one such exchange with a CSMS at a URL; `through_csms` runs the project's CSMS
(`simulators.csms`) on a loopback port around it, for tests and scenarios that play the CPO
with a real station-to-CSMS hop in the middle.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass

import websockets
from ocpp.v201 import ChargePoint, call

from simulators import csms
from simulators.common import ISO2
from simulators.cpo import CpoBackend


@dataclass(frozen=True)
class CertificateAnswer:
    status: str  # OCPP Iso15118EVCertificateStatusEnumType: Accepted or Failed
    exi_response: bytes | None  # the CertificateInstallationRes for the EV, when there is one
    reason: str | None = None  # statusInfo.additionalInfo, when the CSMS gave one


class _Station(ChargePoint):
    """Only calls the CSMS; it answers no CSMS-initiated messages here."""


async def ask_csms(url: str, station_id: str, exi_request: bytes, namespace: str = ISO2,
                   action: str = "Install") -> CertificateAnswer:
    async with websockets.connect(f"{url.rstrip('/')}/{station_id}",
                                  subprotocols=[csms.SUBPROTOCOL]) as connection:
        station = _Station(station_id, connection)
        listener = asyncio.create_task(station.start())
        try:
            answer = await station.call(call.Get15118EVCertificate(
                iso15118_schema_version=namespace, action=action,
                exi_request=base64.b64encode(exi_request).decode()))
        finally:
            listener.cancel()
    info = answer.status_info or {}
    return CertificateAnswer(answer.status,
                             base64.b64decode(answer.exi_response) if answer.exi_response else None,
                             info.get("additional_info"))


def through_csms(backend: CpoBackend, exi_request: bytes, station_id: str = "CS-SIM-1",
                 namespace: str = ISO2) -> CertificateAnswer:
    """One Get15118EVCertificate from a station to a CSMS on a free loopback port."""

    async def exchange() -> CertificateAnswer:
        server = await csms.serve(backend, port=0)
        port = server.sockets[0].getsockname()[1]
        try:
            return await ask_csms(f"ws://127.0.0.1:{port}", station_id, exi_request, namespace)
        finally:
            server.close()
            await server.wait_closed()

    return asyncio.run(exchange())
