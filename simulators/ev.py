"""The simulated electric vehicle: the ISO 15118-2 side of Plug&Charge contract installation.

It builds and signs a CertificateInstallationReq with its provisioning key, listing the V2G
roots it trusts; and it checks a CertificateInstallationRes the way a vehicle must before
it installs the contract: the CPS signature, the CPS chain to one of its trusted roots, the
contract chain, then decrypts the contract key and confirms it belongs to the contract
certificate. Sans-I/O: the CPO or OEM backend carries the bytes.

`Vehicle20` is the ISO 15118-20 vehicle (v2g/contract_data20.py): its signed
CertificateInstallationReq says how many contracts it takes (MaximumContractCertificateChains)
and which first (PrioritizedEMAIDs); it accepts one CertificateInstallationRes per exchange,
checks it as -20 requires (CPS signature, -20 CPS chain to a trusted V2G root, -20 contract
chain, the key decrypted under the AAD of its PCID and the contract SKI) and installs every
contract it is given, reading RemainingContractCertificateChains to know whether to ask again.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, x448

from v2g import xmldsig
from v2g.contract_data import ContractDataError, build_installation_req, decode_installation_res, install
from v2g.contract_data20 import build_installation_req20, decode_installation_res20, install20
from v2g.contract_key import ContractKeyError
from v2g.errors import V2GError
from v2g.pki.certinfo import alt_public_key
from v2g.pki.profiles import Role
from v2g.pki.validate import ChainError, Purpose, TrustAnchor, TrustStore, validate_chain


class VehicleRejected(Exception):
    """The vehicle refuses the response; `step` says which check failed."""

    def __init__(self, step: str, reason: str):
        super().__init__(f"{step}: {reason}")
        self.step, self.reason = step, reason


def _check_signature(element) -> None:
    """The CPS signature of a CertificateInstallationRes (-2 or -20) verifies, or the vehicle
    refuses the answer at the "signature" step."""
    try:
        verification = xmldsig.verify(element)
    except V2GError as exc:
        raise VehicleRejected("signature", str(exc)) from None
    if not verification:
        raise VehicleRejected("signature", "; ".join(verification.reasons))


@dataclass(frozen=True)
class InstalledContract:
    emaid: str
    contract_key: ec.EllipticCurvePrivateKey
    contract_chain: tuple[bytes, ...]
    cps_subject: str


@dataclass
class Vehicle:
    pcid: str
    provisioning_cert: bytes
    provisioning_key: ec.EllipticCurvePrivateKey
    trusted_v2g_roots: list[bytes]
    # Roots the vehicle can check contract chains against (MO roots it knows, V2G roots);
    # a contract under an unknown MO root is still installed if its chain is consistent.
    trusted_mo_roots: list[bytes] = field(default_factory=list)
    installed: list[InstalledContract] = field(default_factory=list)
    # Cross-certificates between V2G roots the ecosystem publishes (the RCP's
    # crossCertificatePair): a chain through one of them is accepted, through any other not.
    cross_certificates: list[bytes] = field(default_factory=list)

    def installation_req(self, session_id: bytes = b"\x00" * 8) -> bytes:
        return build_installation_req(self.provisioning_cert, self.provisioning_key,
                                      self.trusted_v2g_roots, session_id)

    def accept(self, data: bytes, at: dt.datetime | None = None) -> InstalledContract:
        try:
            res, element = decode_installation_res(data)
        except V2GError as exc:
            raise VehicleRejected("decode", str(exc)) from None
        # A FAILED answer carries no signature (nothing in it to protect): read the code first.
        if res.response_code != "OK":
            raise VehicleRejected("responseCode", res.response_code)
        _check_signature(element)
        sa = res.sa_provisioning_certificate_chain
        v2g_roots = TrustStore((TrustAnchor.of(r, Role.V2G) for r in self.trusted_v2g_roots),
                               cross=self.cross_certificates)
        try:
            cps = validate_chain([sa.certificate, *sa.sub_certificates], v2g_roots,
                                 purpose=Purpose.CPS, at=at)
        except ChainError as exc:
            raise VehicleRejected("cps-chain", str(exc)) from None
        contract = res.contract_signature_cert_chain
        chain = [contract.certificate, *contract.sub_certificates]
        self._check_contract_chain(chain, res.emaid, at)
        try:
            key = install(res, self.provisioning_key)
        except (ContractDataError, ContractKeyError) as exc:
            raise VehicleRejected("contract-key", str(exc)) from None
        installed = InstalledContract(res.emaid, key, tuple(chain), cps.leaf.cert.subject.rfc4514_string())
        self.installed.append(installed)
        return installed

    def _check_contract_chain(self, chain: list[bytes], emaid: str, at: dt.datetime | None) -> None:
        leaf = x509.load_der_x509_certificate(chain[0])
        cn = leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        if not cn or str(cn[0].value).replace("-", "").upper() != emaid.replace("-", "").upper():
            raise VehicleRejected("contract-chain", f"the contract certificate's CN is not the eMAID {emaid}")
        anchors = [TrustAnchor.of(r, Role.MO) for r in self.trusted_mo_roots]
        anchors += [TrustAnchor.of(r, Role.V2G) for r in self.trusted_v2g_roots]
        top = x509.load_der_x509_certificate(chain[-1])
        store = TrustStore(anchors, cross=self.cross_certificates)
        if any(a.cert.subject == top.issuer for a in anchors) or store.cross_for(top):
            try:
                validate_chain(chain, store, purpose=Purpose.CONTRACT, at=at)
            except ChainError as exc:
                raise VehicleRejected("contract-chain", str(exc)) from None
            return
        # Unknown MO root: the chain must at least hang together, each certificate signed
        # by the next, the topmost sub-CA taken as the anchor.
        try:
            validate_chain(chain[:-1], TrustStore([TrustAnchor.of(chain[-1], Role.MO)]), at=at)
        except ChainError as exc:
            raise VehicleRejected("contract-chain", str(exc)) from None


@dataclass(frozen=True)
class InstalledContract20:
    emaid: str
    contract_key: object  # secp521r1 or X448 private key
    contract_chain: tuple[bytes, ...]
    remaining: int  # RemainingContractCertificateChains of the answer that brought it


@dataclass
class Vehicle20:
    """An ISO 15118-20 vehicle: a provisioning chain (leaf, Sub-CA 2, Sub-CA 1) of secp521r1 or
    Ed448. It signs its request with the provisioning key; the contract key reaches it by
    ECDHE on that key (secp521r1, [V2G20-2533]) or on `ecdhe_key`, the X448 key whose public
    half an Ed448 provisioning certificate carries ([V2G20-2534])."""

    pcid: str
    provisioning_chain: list[bytes]
    provisioning_key: ec.EllipticCurvePrivateKey | ed448.Ed448PrivateKey
    trusted_v2g_roots: list[bytes]
    trusted_mo_roots: list[bytes] = field(default_factory=list)
    maximum_chains: int = 8
    prioritized_emaids: list[str] = field(default_factory=list)
    installed: list[InstalledContract20] = field(default_factory=list)
    ecdhe_key: x448.X448PrivateKey | None = None  # required with an Ed448 provisioning key

    def __post_init__(self) -> None:
        if isinstance(self.provisioning_key, ed448.Ed448PrivateKey):
            if self.ecdhe_key is None:
                raise ValueError("ecdhe_key: an Ed448 vehicle needs the X448 key its provisioning"
                                 " certificate carries as alternate key ([V2G20-2534])")
            carried = alt_public_key(x509.load_der_x509_certificate(self.provisioning_chain[0]))
            if carried is None or carried.public_bytes_raw() != \
                    self.ecdhe_key.public_key().public_bytes_raw():
                raise ValueError("ecdhe_key: not the X448 key of the provisioning certificate's"
                                 " subjectAltPublicKeyInfo")

    @property
    def provisioning_cert(self) -> bytes:
        return self.provisioning_chain[0]

    @property
    def algorithm(self) -> str:
        """secp521r1 or ed448: the provisioning key's algorithm."""
        return "ed448" if isinstance(self.provisioning_key, ed448.Ed448PrivateKey) else "secp521r1"

    def installation_req(self, session_id: bytes = b"\x00" * 8) -> bytes:
        return build_installation_req20(self.provisioning_chain, self.provisioning_key,
                                        self.trusted_v2g_roots, maximum_chains=self.maximum_chains,
                                        prioritized_emaids=self.prioritized_emaids,
                                        session_id=session_id)

    def accept(self, data: bytes, at: dt.datetime | None = None) -> InstalledContract20:
        try:
            res, element = decode_installation_res20(data)
        except V2GError as exc:
            raise VehicleRejected("decode", f"not a -20 CertificateInstallationRes: {exc}") from None
        if res.response_code not in ("OK", "OK_CertificateExpiresSoon"):
            raise VehicleRejected("responseCode", res.response_code)
        _check_signature(element)
        v2g_roots = TrustStore(TrustAnchor.of(r, Role.V2G) for r in self.trusted_v2g_roots)
        try:
            validate_chain(list(res.cps_chain), v2g_roots, purpose=Purpose.CPS, at=at, iso="20")
        except ChainError as exc:
            raise VehicleRejected("cps-chain", str(exc)) from None
        anchors = [TrustAnchor.of(r, Role.MO) for r in self.trusted_mo_roots]
        anchors += [TrustAnchor.of(r, Role.V2G) for r in self.trusted_v2g_roots]
        chain = list(res.contract_chain)
        top = x509.load_der_x509_certificate(chain[-1])
        if not any(a.cert.subject == top.issuer for a in anchors):
            # An MO root the vehicle does not know: the chain must hang together, each
            # certificate signed by the next, the topmost sub-CA taken as the anchor (as -2).
            chain, anchors = chain[:-1], [TrustAnchor.of(chain[-1], Role.MO)]
        try:
            validate_chain(chain, TrustStore(anchors), at=at, iso="20",
                           purpose=Purpose.CONTRACT if len(chain) == len(res.contract_chain) else None)
        except ChainError as exc:
            raise VehicleRejected("contract-chain", str(exc)) from None
        try:
            ecdhe = self.ecdhe_key if self.ecdhe_key is not None else self.provisioning_key
            key = install20(res, ecdhe, self.pcid)  # type: ignore[arg-type]
        except (ContractDataError, ContractKeyError) as exc:
            raise VehicleRejected("contract-key", str(exc)) from None
        installed = InstalledContract20(res.emaid, key, res.contract_chain, res.remaining)
        self.installed.append(installed)
        return installed

    def accept_all(self, answers: list[bytes], at: dt.datetime | None = None
                   ) -> list[InstalledContract20]:
        """One exchange per answer, in order: each answer's RemainingContractCertificateChains
        must count the answers still to come (the EVCC asks again while it is above zero), and
        none may come after it reached zero."""
        out = []
        for i, data in enumerate(answers):
            got = self.accept(data, at)
            if got.remaining != len(answers) - 1 - i:
                raise VehicleRejected("remaining", f"answer {i + 1} of {len(answers)} says"
                                      f" RemainingContractCertificateChains={got.remaining},"
                                      f" expected {len(answers) - 1 - i}")
            out.append(got)
        return out


def installation_answers(body: object) -> list[bytes]:
    """Every certificateInstallationRes of a CCPResponse (getSignedContractData), in order:
    for -20 one per contract, each for one exchange with the vehicle."""
    try:
        items = body["CCPResponse"]["emaidContent"]  # type: ignore[index]
        return [base64.b64decode(i["messageDef"]["certificateInstallationRes"], validate=True)
                for i in items]
    except (KeyError, TypeError, ValueError) as exc:
        raise VehicleRejected("decode", f"no certificateInstallationRes list in the answer: {exc}"
                              ) from None
