"""The simulated electric vehicle: the ISO 15118-2 side of Plug&Charge contract installation.

It builds and signs a CertificateInstallationReq with its provisioning key, listing the V2G
roots it trusts; and it checks a CertificateInstallationRes the way a vehicle must before
it installs the contract: the CPS signature, the CPS chain to one of its trusted roots, the
contract chain, then decrypts the contract key and confirms it belongs to the contract
certificate. Sans-I/O: the CPO or OEM backend carries the bytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from v2g import xmldsig
from v2g.contract_data import ContractDataError, build_installation_req, decode_installation_res, install
from v2g.contract_key import ContractKeyError
from v2g.errors import V2GError
from v2g.pki.profiles import Role
from v2g.pki.validate import ChainError, Purpose, TrustAnchor, TrustStore, validate_chain


class VehicleRejected(Exception):
    """The vehicle refuses the response; `step` says which check failed."""

    def __init__(self, step: str, reason: str):
        super().__init__(f"{step}: {reason}")
        self.step, self.reason = step, reason


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
        try:
            verification = xmldsig.verify(element)
        except V2GError as exc:
            raise VehicleRejected("signature", str(exc)) from None
        if not verification:
            raise VehicleRejected("signature", "; ".join(verification.reasons))
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
