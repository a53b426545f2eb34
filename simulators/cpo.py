"""The simulated CPO backend: forwards an EV's CertificateInstallationReq to the CCP.

It behaves as deployed CPO backends do (INTEROP.md, MaEVe): POST to the CCP's
getSignedContractData with the base64 EXI request and the MsgDef namespace, take the
*first* entry of `CCPResponse.emaidContent`, and retry a failed call up to 3 times.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

from opcp.client import Exchange, OpcpClient

ISO2_NAMESPACE = "urn:iso:15118:2:2013:MsgDef"
CCP_PATH = "/v1/ccp/signedContractData"


class CcpUnavailable(Exception):
    """The CCP gave no usable contract; `exchange` is the last answer."""

    def __init__(self, reason: str, exchange: Exchange | None = None):
        super().__init__(reason)
        self.exchange = exchange


@dataclass
class CpoBackend:
    client: OpcpClient
    party: int = 0
    attempts: int = 3
    retry_pause: float = 0.2

    def certificate_installation(self, exi_request: bytes,
                                 namespace: str = ISO2_NAMESPACE) -> bytes:
        """The EXI CertificateInstallationRes for `exi_request`, or CcpUnavailable."""
        body = {"certificateInstallationReq": base64.b64encode(exi_request).decode(),
                "xsdMsgDefNamespace": namespace}
        last: Exchange | None = None
        for attempt in range(self.attempts):
            last = self.client.call("POST", "ccp", CCP_PATH, role="CPO", party=self.party, json=body)
            if last.status == 200:
                return self._first_contract(last)
            if last.status < 500:
                break  # the CCP refused this request; asking again will not change that
            time.sleep(self.retry_pause * (attempt + 1))
        raise CcpUnavailable(f"the CCP answered {last.status if last else 'nothing'}", last)

    @staticmethod
    def _first_contract(exchange: Exchange) -> bytes:
        try:
            contents = exchange.json()["CCPResponse"]["emaidContent"]
            encoded = contents[0]["messageDef"]["certificateInstallationRes"]
            return base64.b64decode(encoded, validate=True)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise CcpUnavailable(f"the CCP's answer holds no contract ({type(exc).__name__})",
                                 exchange) from None
