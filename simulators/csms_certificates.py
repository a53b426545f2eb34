"""The CSMS's certificate work (OCPP 2.0.1 blocks M and C) as plain functions over the OPCP target.

No websocket here: `CertificateServices` takes what a station sent, in the `ocpp` package's
snake_case form, and returns what the CSMS answers. It is a client of the target (CCP through
`CpoBackend`, RCP roots, the CPO's EST CA) and of OCSP responders; it never reads a store.

- `ev_certificate` (M01 install, M02 update): the exiRequest is decoded with the project's
  ISO 15118-2 codec and must be the body the action names. Install goes to the CCP
  (getSignedContractData); its CertificateInstallationRes, a FAILED one included, goes back.
  Update is checked as an SECC would (signature by the contract key, contract chain to an RCP
  root, eMAID = the leaf's CN, OCSP) and answered with a CertificateUpdateRes built with the
  codec: OPCP 1.0.0 has no update operation (hubject/opcp#13) and the CCP's contract keys are
  encrypted to the provisioning key, not to the old contract key an update uses, so even a
  valid request is answered FAILED_NoCertificateAvailable; the EV then installs anew (M01).
- `certificate_status` (M06): an OCSP request from the hash data, to the request's responder
  (or the ecosystem's), the DER response handed back after its CertID is checked.
- `authorize` (C07): a contract certificate is validated against the RCP's MO and V2G roots
  and each certificate's status asked by OCSP; hash data alone is checked by OCSP against the
  CAs the CSMS knows (RCP roots and the contract sub-CAs it saw pass in installations).
- `sign_v2g_certificate` (A02/A03 for V2GCertificate): the station's CSR to the CPO's EST
  `cpo` CA, the issued certificate and the CA's sub-CAs back as a PEM chain.

Answers name the rule they applied (`RESULT_RULES`, docs/csms.md has the table).
"""

from __future__ import annotations

import base64
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TypeVar, cast

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from opcp.client import OpcpClient
from opcp.ocsp_client import OcspClient
from simulators.actor_calls import ISO2, ActorError, trusted_roots
from simulators.cpo import CcpUnavailable, CpoBackend
from simulators.ev import VehicleRejected, installation_answers
from simulators.provisioning import PKCS7, EnrollmentRefused, certs_only
from v2g import exi, xmldsig
from v2g.contract_data import decode_installation_res
from v2g.contract_data20 import read_installation_req20
from v2g.errors import V2GError
from v2g.messages import (
    CertificateChain,
    CertificateInstallationReq,
    CertificateUpdateReq,
    CertificateUpdateRes,
    MessageHeader,
    V2GMessage,
    from_element,
    to_element,
)
from v2g.namespaces import ACCEPTED_MSG_DEF_NAMESPACES, ISO20_SPEC_MSG_DEF, iso_part, iso_part_of_key
from v2g.pki.bundle import BundleError, order_chain
from v2g.pki.certinfo import read_cert
from v2g.pki.ocsp import OcspError, OcspResult, Revoked, Unknown, issuer_key_hashes, verify_response
from v2g.pki.profiles import Role
from v2g.pki.validate import ChainError, Purpose, TrustAnchor, TrustStore, validate_chain

ISO20 = ISO20_SPEC_MSG_DEF
# What Get15118EVCertificate may name: the -2 namespace and every -20 spelling, the real
# `urn:iso:std:iso:15118:-20:CommonMessages` stations send included (E-NS-1).
NAMESPACES = ACCEPTED_MSG_DEF_NAMESPACES
HASHES = {"SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}
T = TypeVar("T")
ROOTS_TTL = 60.0  # seconds the RCP's roots are kept between requests
# How long the CSMS keeps the -20 answers still to hand out in one V2G session: the vehicle
# asks again at once (the same SessionID) while RemainingContractCertificateChains is above
# zero, and an SECC waits at most its sequence timeout (V2G_SECC_Sequence_Timeout, 60 s) for a
# vehicle's next request before it ends the session. Answers older than that belong to a
# session that is over: they are dropped, and a request naming that SessionID later is asked
# of the CCP anew.
PENDING20_SECONDS = 60.0

RESULT_RULES: dict[str, str] = {
    "exi.namespace": "iso15118SchemaVersion is an ISO 15118-2 or -20 MsgDef namespace",
    "exi.base64": "exiRequest is base64",
    "exi.decode": "exiRequest decodes as an ISO 15118-2 V2G_Message (or, for -20, a CommonMessages"
                  " CertificateInstallationReq)",
    "exi.body": "the body is the request the action names (Install: CertificateInstallationReq, "
                "Update: CertificateUpdateReq; ISO 15118-20 has Install only)",
    "ccp.refused": "the CCP gave no contract and no EXI to forward",
    "rcp.roots": "the RCP's roots can be read (the trust anchors of every contract check)",
    "update.signature": "the CertificateUpdateReq verifies with its contract certificate",
    "update.chain": "the contract chain validates against the RCP's MO and V2G roots",
    "update.emaid": "eMAID is the contract certificate's CN",
    "update.revoked": "the contract certificate is not revoked (OCSP)",
    "update.unsupported": "OPCP 1.0.0 offers no contract update (hubject/opcp#13)",
    "ocsp.hash": "hash data: a known hashAlgorithm, hex issuerNameHash/issuerKeyHash/serialNumber",
    "ocsp.responder": "the responder answers a successful OCSP response for the asked CertID",
    "authorize.token": "an eMAID idToken for a contract certificate",
    "authorize.chain": "the contract chain validates against the RCP's MO and V2G roots",
    "authorize.emaid": "the idToken is the contract certificate's CN",
    "authorize.ocsp": "every certificate's status is good at its OCSP responder",
    "authorize.issuer": "hash data names a CA the CSMS knows (RCP root or a seen contract sub-CA)",
    "sign.type": "certificateType is ChargingStationCertificate or V2GCertificate",
    "sign.est": "the CPO's EST CA issued a certificate for the CSR",
}


class Refused(Exception):
    """What the CSMS answers when it cannot do what was asked; `rule` is a RESULT_RULES key."""

    def __init__(self, rule: str, detail: str):
        super().__init__(f"{detail} [{rule}]")
        self.rule, self.detail = rule, detail


@dataclass(frozen=True)
class EvCertificateAnswer:
    status: str  # Accepted (exi_response for the EV) or Failed
    exi_response: bytes | None = None
    reason: str | None = None


@dataclass(frozen=True)
class AuthorizeAnswer:
    status: str  # AuthorizationStatusEnumType
    certificate_status: str | None  # AuthorizeCertificateStatusEnumType
    rule: str | None = None
    detail: str | None = None


def _pem_chain(text: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(text.encode())
    except ValueError as exc:
        raise Refused("authorize.chain", f"certificate is not a PEM chain ({exc})") from None


def _plain(emaid: str) -> str:
    return emaid.replace("-", "").upper()


def _cn(cert: x509.Certificate) -> str:
    cns = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else ""


def hash_data(cert: x509.Certificate, issuer: x509.Certificate, responder_url: str,
              algorithm: str = "SHA256") -> dict[str, str]:
    """OCPP OCSPRequestDataType / CertificateHashDataType of `cert` (snake_case keys)."""
    alg = HASHES[algorithm]()
    name_hash = hashes.Hash(alg)
    name_hash.update(issuer.subject.public_bytes())
    point = issuer.public_key().public_bytes(serialization.Encoding.X962,
                                             serialization.PublicFormat.UncompressedPoint)
    key_hash = hashes.Hash(HASHES[algorithm]())
    key_hash.update(point)
    return {"hash_algorithm": algorithm, "issuer_name_hash": name_hash.finalize().hex(),
            "issuer_key_hash": key_hash.finalize().hex(),
            "serial_number": format(cert.serial_number, "x"), "responder_url": responder_url}


@dataclass
class CertificateServices:
    client: OpcpClient
    party: int = 0
    ocsp_responder: str | None = None  # the ecosystem's, when a request's own cannot be used
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _roots: tuple[float, list[TrustAnchor]] | None = field(default=None, repr=False)
    _cas: dict[bytes, x509.Certificate] = field(default_factory=dict, repr=False)  # SHA-256 of SPKI
    _contracts: dict[str, x509.Certificate] = field(default_factory=dict, repr=False)  # eMAID -> leaf
    # ISO 15118-20: the CCP answers one CertificateInstallationRes per contract at once; the
    # vehicle takes one per exchange, asking again in the same V2G session (same SessionID)
    # while RemainingContractCertificateChains is above zero. The answers still to hand out,
    # by SessionID, with the monotonic time after which they are dropped (PENDING20_SECONDS).
    _pending20: dict[bytes, tuple[float, list[bytes]]] = field(default_factory=dict, repr=False)
    pending20_seconds: float = PENDING20_SECONDS
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    # ------------------------------------------------------------------ target access
    def _op(self, name: str, path_params: dict[str, str] | None = None, **kwargs):
        with self._lock:  # one OpcpClient (token cache, exchange log) for every station
            return self.client.op(name, path_params, role="CPO", party=self.party, **kwargs)

    def anchors(self) -> list[TrustAnchor]:
        """The RCP's MO and V2G roots, as contract trust anchors (cached ROOTS_TTL seconds)."""
        if self._roots is None or time.monotonic() - self._roots[0] > ROOTS_TTL:
            found = [TrustAnchor.of(r, Role.MO) for r in self.root_certificates("mo")]
            found += [TrustAnchor.of(r, Role.V2G) for r in self.root_certificates("v2g")]
            self._roots = (time.monotonic(), found)
        return self._roots[1]

    def root_certificates(self, root_type: str) -> list[bytes]:
        """The RCP's roots of one type (v2g, mo), DER: what InstallCertificate sends stations."""
        try:
            with self._lock:
                return trusted_roots(self.client, "CPO", self.party, root_type)
        except (ActorError, httpx.HTTPError) as exc:
            raise Refused("rcp.roots", f"the RCP's {root_type} roots: {exc}") from None

    # ------------------------------------------------------------------ M01 / M02
    def ev_certificate(self, namespace: str, action: str, exi_request: str) -> EvCertificateAnswer:
        try:
            return self._ev_certificate(namespace, action, exi_request)
        except Refused as exc:
            return EvCertificateAnswer("Failed", None, str(exc))

    def _ev_certificate(self, namespace: str, action: str, exi_request: str) -> EvCertificateAnswer:
        if namespace not in NAMESPACES:
            raise Refused("exi.namespace", f"iso15118SchemaVersion {namespace!r} is not supported")
        try:
            request = base64.b64decode(exi_request, validate=True)
        except ValueError:
            raise Refused("exi.base64", "exiRequest is not base64") from None
        if iso_part(namespace) == "20":
            if action != "Install":
                raise Refused("exi.body", "ISO 15118-20 has no CertificateUpdate: only Install")
            return self._install20(request, namespace)
        try:
            element = exi.decode(request, "iso2")
            message = from_element(element)
        except V2GError as exc:
            raise Refused("exi.decode", f"exiRequest is no ISO 15118-2 message: {exc}") from None
        wanted = {"Install": CertificateInstallationReq, "Update": CertificateUpdateReq}[action]
        if not isinstance(message.body, wanted):
            raise Refused("exi.body", f"action {action} needs a {wanted.__name__}, got {message.body_name}")
        if isinstance(message.body, CertificateUpdateReq):
            return EvCertificateAnswer("Accepted", self._update(message, element))
        return self._install(request, namespace)

    def _ccp(self, ask: Callable[[CpoBackend], T]) -> T:
        """One call to the CCP through the CPO backend; an unreachable CCP is `ccp.refused`."""
        backend = CpoBackend(self.client, self.party)
        try:
            with self._lock:
                return ask(backend)
        except httpx.HTTPError as exc:
            raise Refused("ccp.refused", f"the CCP cannot be reached ({type(exc).__name__})") from None

    def _install(self, request: bytes, namespace: str) -> EvCertificateAnswer:
        try:
            response = self._ccp(lambda backend: backend.certificate_installation(request, namespace))
        except CcpUnavailable as exc:
            if exc.failed_res is not None:
                # The CCP answered the vehicle (FAILED_NoCertificateAvailable, ...): processed,
                # so Accepted, which OCPP says "is no indication whether the update was successful".
                return EvCertificateAnswer("Accepted", exc.failed_res, str(exc))
            raise Refused("ccp.refused", str(exc)) from None
        if namespace == ISO2:
            self._learn(response)
        return EvCertificateAnswer("Accepted", response)

    def _install20(self, request: bytes, namespace: str) -> EvCertificateAnswer:
        """A -20 CertificateInstallationReq: the next answer of this V2G session when the CCP
        gave several, else the CCP's answers, the first now and the others kept."""
        try:
            req, _ = read_installation_req20(request)
        except V2GError as exc:
            raise Refused("exi.decode", f"exiRequest is no ISO 15118-20 CertificateInstallationReq:"
                          f" {exc}") from None
        with self._lock:
            self._drop_expired20()
            kept = self._pending20.get(req.session_id)
            if kept:
                answer = kept[1].pop(0)
                if not kept[1]:
                    del self._pending20[req.session_id]
                return EvCertificateAnswer("Accepted", answer)
        got = self._ccp(lambda backend: backend.request_exchange(request, namespace))
        try:
            answers = installation_answers(got.json())
        except (VehicleRejected, ValueError):
            raise Refused("ccp.refused", f"the CCP answered {got.status} without a"
                          " CertificateInstallationRes") from None
        if not answers:
            raise Refused("ccp.refused", "the CCP answered no CertificateInstallationRes")
        if got.status != 200:
            # The CCP's own -20 answer to the vehicle (WARNING_NoCertificateAvailable, ...).
            return EvCertificateAnswer("Accepted", answers[0], f"the CCP answered {got.status}")
        if len(answers) > 1:
            with self._lock:
                self._pending20[req.session_id] = (self.clock() + self.pending20_seconds,
                                                   answers[1:])
        return EvCertificateAnswer("Accepted", answers[0])

    def _drop_expired20(self) -> None:
        """Forget the -20 answers of V2G sessions that are over (caller holds the lock)."""
        now = self.clock()
        for session in [s for s, (until, _) in self._pending20.items() if until <= now]:
            del self._pending20[session]

    def pending20_sessions(self) -> int:
        """How many V2G sessions have -20 answers kept for them (expired ones not counted)."""
        with self._lock:
            self._drop_expired20()
            return len(self._pending20)

    def _learn(self, response: bytes) -> None:
        """Remember the contract chain of an installation that passed: its sub-CAs answer
        for hash-only authorizations later. Only chains that validate are kept."""
        try:
            res, _ = decode_installation_res(response)
        except V2GError:
            return
        if res.response_code != "OK":
            return
        chain = [res.contract_signature_cert_chain.certificate, *res.contract_signature_cert_chain.sub_certificates]
        try:
            result = validate_chain(chain, TrustStore(self.anchors()), purpose=Purpose.CONTRACT)
        except (ChainError, Refused):
            return  # nothing learnt; the EV still gets its answer
        for info in result.chain[1:]:
            self._cas[issuer_key_hashes(info.cert)["sha256"]] = info.cert
        self._contracts[_plain(res.emaid)] = result.leaf.cert

    def _update(self, message: V2GMessage, element: ET.Element) -> bytes:
        req = message.body
        assert isinstance(req, CertificateUpdateReq)
        try:
            code = self._update_code(req, element)
        except Refused:
            code = "FAILED"  # the RCP or every OCSP responder out of reach: nothing can be said
        empty = CertificateChain(b"\x00")
        body = CertificateUpdateRes(
            response_code=code, sa_provisioning_certificate_chain=empty,
            contract_signature_cert_chain=CertificateChain(b"\x00"), encrypted_private_key=b"\x00",
            encrypted_private_key_id="ID2", dh_public_key=b"\x00", dh_public_key_id="ID3",
            emaid=req.emaid or "0", emaid_id="ID4")
        return exi.encode(to_element(V2GMessage(MessageHeader(message.header.session_id), body)), "iso2")

    def _update_code(self, req: CertificateUpdateReq, element: ET.Element) -> str:
        try:
            verification = xmldsig.verify(element)
        except V2GError:
            return "FAILED_SignatureError"
        if not verification:
            return "FAILED_SignatureError"
        chain = [req.contract_signature_cert_chain.certificate, *req.contract_signature_cert_chain.sub_certificates]
        try:
            result = validate_chain(chain, TrustStore(self.anchors()), purpose=Purpose.CONTRACT)
        except ChainError as exc:
            return "FAILED_CertificateExpired" if exc.rule.startswith("validity.") else "FAILED_CertChainError"
        if _plain(_cn(result.leaf.cert)) != _plain(req.emaid):
            return "FAILED_CertChainError"
        statuses = self._chain_status([c.cert for c in result.chain], result.anchor.cert)
        if any(isinstance(s, Revoked) for s in statuses):
            return "FAILED_CertificateRevoked"
        return "FAILED_NoCertificateAvailable"

    # ------------------------------------------------------------------ OCSP
    def _ocsp_urls(self, named: str | None) -> list[str]:
        urls = [u for u in (named, self.ocsp_responder) if u]
        return list(dict.fromkeys(urls))

    def _post_ocsp(self, urls: list[str], request_der: bytes) -> bytes:
        last = "no OCSP responder named and none configured"
        for url in urls:
            try:
                got = self.http.post(url, content=request_der,
                                     headers={"Content-Type": "application/ocsp-request"})
            except httpx.HTTPError as exc:
                last = f"{url}: {type(exc).__name__}"
                continue
            if got.status_code == 200:
                return got.content
            last = f"{url} answered HTTP {got.status_code}"
        raise Refused("ocsp.responder", last)

    def ocsp_by_hash(self, data: dict) -> tuple[bytes, ocsp.OCSPResponse]:
        """Ask the status named by OCPP hash data; the DER response and its parsed form."""
        try:
            algorithm = HASHES[data["hash_algorithm"]]()
            name_hash = bytes.fromhex(data["issuer_name_hash"])
            key_hash = bytes.fromhex(data["issuer_key_hash"])
            serial = int(data["serial_number"], 16)
            request = (ocsp.OCSPRequestBuilder()
                       .add_certificate_by_hash(name_hash, key_hash, serial, algorithm).build()
                       .public_bytes(serialization.Encoding.DER))
        except (KeyError, ValueError, TypeError) as exc:
            raise Refused("ocsp.hash", f"unusable hash data ({type(exc).__name__}: {exc})") from None
        der = self._post_ocsp(self._ocsp_urls(data.get("responder_url")), request)
        try:
            parsed = ocsp.load_der_ocsp_response(der)
        except ValueError as exc:
            raise Refused("ocsp.responder", f"the responder's answer is no OCSPResponse ({exc})") from None
        if parsed.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise Refused("ocsp.responder", f"the responder answered {parsed.response_status.name}")
        if (parsed.serial_number, parsed.issuer_key_hash, parsed.issuer_name_hash) != (serial, key_hash, name_hash):
            raise Refused("ocsp.responder", "the response is about another certificate")
        return der, parsed

    def certificate_status(self, data: dict) -> bytes:
        """M06: the DER OCSP response for the hash data (the station checks its signature;
        the CSMS checks it too when it knows the issuer)."""
        der, parsed = self.ocsp_by_hash(data)
        try:
            issuer = self._known_issuer(data)
        except Refused:
            issuer = None  # the RCP is out of reach: the station verifies the response itself
        if issuer is not None:
            try:
                verify_response(der, _serial_only(parsed.serial_number), issuer)
            except OcspError as exc:
                raise Refused("ocsp.responder", f"the response does not verify: {exc}") from None
        return der

    def _known_issuer(self, data: dict) -> x509.Certificate | None:
        algorithm = data.get("hash_algorithm")
        if algorithm not in HASHES:
            return None
        wanted = str(data.get("issuer_key_hash", "")).lower()
        for cert in [a.cert for a in self.anchors()] + list(self._cas.values()):
            if hash_data(cert, cert, "", algorithm)["issuer_key_hash"] == wanted:
                return cert
        return None

    def _status(self, cert: x509.Certificate, issuer: x509.Certificate) -> OcspResult:
        named = next(iter(read_cert(cert).ocsp_urls), None)
        last: Exception | None = None
        for url in self._ocsp_urls(named):
            try:
                return OcspClient(self.http, url=url).status(cert, issuer)
            except OcspError as exc:
                last = exc
        raise Refused("authorize.ocsp", f"no usable OCSP answer for {_cn(cert)}: {last or 'no responder'}")

    def _chain_status(self, chain: list[x509.Certificate], anchor: x509.Certificate) -> list[object]:
        issuers = [*chain[1:], anchor]
        return [self._status(c, i).status for c, i in zip(chain, issuers)]

    # ------------------------------------------------------------------ C07
    def authorize(self, id_token: dict, certificate: str | None,
                  hash_data: list[dict] | None) -> AuthorizeAnswer:
        kind = id_token.get("type")
        if kind == "NoAuthorization":
            return AuthorizeAnswer("Accepted", None)
        if kind != "eMAID":
            return AuthorizeAnswer("Unknown", None, "authorize.token",
                                   f"idToken type {kind} is not in this CSMS's authorization list")
        emaid = str(id_token.get("id_token", ""))
        try:
            if certificate:
                return self._authorize_certificate(emaid, certificate)
            if hash_data:
                return self._authorize_hashes(emaid, hash_data)
        except Refused as exc:
            if exc.rule in ("authorize.ocsp", "ocsp.responder", "authorize.issuer", "rcp.roots"):
                return AuthorizeAnswer("Unknown", "NoCertificateAvailable", exc.rule, exc.detail)
            return AuthorizeAnswer("Invalid", "CertChainError", exc.rule, exc.detail)
        return AuthorizeAnswer("Invalid", "NoCertificateAvailable", "authorize.token",
                               "an eMAID needs a certificate or iso15118CertificateHashData")

    def _authorize_certificate(self, emaid: str, certificate: str) -> AuthorizeAnswer:
        chain = _pem_chain(certificate)
        # An ISO 15118-20 contract (secp521r1) is validated as a -20 chain (docs/iso20.md).
        iso = "20" if chain and iso_part_of_key(chain[0].public_key()) == "20" else "2"
        for attempt in range(2):
            try:
                result = validate_chain(chain, TrustStore(self.anchors()), purpose=Purpose.CONTRACT,
                                        iso=iso)
                break
            except ChainError as exc:
                if exc.rule.startswith("validity."):
                    return AuthorizeAnswer("Expired", "CertificateExpired", "authorize.chain", str(exc))
                if attempt == 0 and self._roots is not None:
                    self._roots = None  # a root added to the RCP since: ask it once more
                    continue
                return AuthorizeAnswer("Invalid", "CertChainError", "authorize.chain", str(exc))
        leaf = result.leaf.cert
        if _plain(_cn(leaf)) != _plain(emaid):
            return AuthorizeAnswer("Invalid", "CertChainError", "authorize.emaid",
                                   f"idToken {emaid} is not the certificate's CN {_cn(leaf)}")
        statuses = self._chain_status([c.cert for c in result.chain], result.anchor.cert)
        return self._verdict(statuses)

    def _authorize_hashes(self, emaid: str, hash_data: list[dict]) -> AuthorizeAnswer:
        known = self._contracts.get(_plain(emaid))
        if known is not None and format(known.serial_number, "x") != str(
                hash_data[0].get("serial_number", "")).lower().lstrip("0"):
            return AuthorizeAnswer("Invalid", "CertChainError", "authorize.emaid",
                                   f"the hash data is not about {emaid}'s contract certificate")
        statuses = []
        for entry in hash_data:
            issuer = self._known_issuer(entry)
            if issuer is None:
                raise Refused("authorize.issuer", "the hash data names an issuer the CSMS does not know")
            der, parsed = self.ocsp_by_hash(entry)
            try:
                statuses.append(verify_response(der, _serial_only(parsed.serial_number), issuer).status)
            except OcspError as exc:
                raise Refused("authorize.ocsp", f"the OCSP response does not verify: {exc}") from None
        return self._verdict(statuses)

    @staticmethod
    def _verdict(statuses: list[object]) -> AuthorizeAnswer:
        if any(isinstance(s, Revoked) for s in statuses):
            # C07.FR.16: a revoked chain is certificateStatus CertificateRevoked, status Invalid.
            return AuthorizeAnswer("Invalid", "CertificateRevoked", "authorize.ocsp", "revoked")
        if any(isinstance(s, Unknown) for s in statuses):
            return AuthorizeAnswer("Invalid", "CertChainError", "authorize.ocsp",
                                   "a responder does not know a certificate of the chain")
        return AuthorizeAnswer("Accepted", "Accepted")

    # ------------------------------------------------------------------ A02/A03 V2G
    def sign_v2g_certificate(self, csr_pem: str) -> str:
        """The SECC certificate for the station's CSR from the CPO's EST CA, with its sub-CAs
        (leaf first, no root), as the PEM chain CertificateSigned carries."""
        try:
            csr = x509.load_pem_x509_csr(csr_pem.encode())
        except ValueError as exc:
            raise Refused("sign.est", f"csr is not a PEM certificate request ({exc})") from None
        body = base64.encodebytes(csr.public_bytes(serialization.Encoding.DER))
        got = self._op("simpleEnroll-CPO", {"isoVersion": "ISO15118-2"}, content=body,
                       headers={"Content-Type": "application/pkcs10", "Accept": PKCS7})
        if got.status != 200:
            raise Refused("sign.est", f"simpleenroll answered {got.status} {got.response_body[:200]}")
        cacerts = self._op("caCerts-CPO", {"isoVersion": "ISO15118-2", "algorithm": "secp256r1"})
        try:
            issued = certs_only(got, "simpleenroll")
            path = order_chain([*issued[:1], *certs_only(cacerts, "cacerts")])
        except (EnrollmentRefused, BundleError) as exc:
            raise Refused("sign.est", str(exc)) from None
        pem = serialization.Encoding.PEM
        return "".join(c.public_bytes(pem).decode() for c in path if c.subject != c.issuer)


def _serial_only(serial: int) -> x509.Certificate:
    # verify_response reads only the asked certificate's serial number; with hash data the
    # CSMS has the serial, not the certificate.
    return cast(x509.Certificate, SimpleNamespace(serial_number=serial))
