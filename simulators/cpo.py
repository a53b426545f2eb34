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
from v2g.namespaces import ISO2_MSG_DEF

ISO2_NAMESPACE = ISO2_MSG_DEF


class CcpUnavailable(Exception):
    """The CCP gave no usable contract; `exchange` is the last answer. `failed_res` is the
    CCP's FAILED CertificateInstallationRes when it sent one (alwaysReturnEXI): the answer
    the CPO forwards to the vehicle, so the vehicle learns why."""

    def __init__(self, reason: str, exchange: Exchange | None = None,
                 failed_res: bytes | None = None):
        super().__init__(reason)
        self.exchange = exchange
        self.failed_res = failed_res


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
            last = self.client.op("getSignedContractData", role="CPO", party=self.party, json=body)
            if last.status == 200:
                return self._first_contract(last)
            if last.status < 500:
                break  # the CCP refused this request; asking again will not change that
            time.sleep(self.retry_pause * (attempt + 1))
        raise CcpUnavailable(f"the CCP answered {last.status if last else 'nothing'}", last,
                             self._failed_res(last))

    @staticmethod
    def _failed_res(exchange: Exchange | None) -> bytes | None:
        """The EXI a refusal carries (the spec's 404 example holds a FAILED Res), if any."""
        if exchange is None or exchange.status >= 500:
            return None
        try:
            return CpoBackend._first_contract(exchange)
        except CcpUnavailable:
            return None  # a plain Error body: nothing to forward

    @staticmethod
    def _first_contract(exchange: Exchange) -> bytes:
        try:
            contents = exchange.json()["CCPResponse"]["emaidContent"]
            encoded = contents[0]["messageDef"]["certificateInstallationRes"]
            return base64.b64decode(encoded, validate=True)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise CcpUnavailable(f"the CCP's answer holds no contract ({type(exc).__name__})",
                                 exchange) from None
