"""ISO 15118-20 setup and checks the @iso20 scenarios share (features/iso20.feature).

Guarantees: a target file without `iso20 = true` makes every @iso20 scenario *not applicable*
(`need_iso20`), never passed; whatever a step adds to the target (the -20 V2G root when the
pool lacked it, the suite's -20 OEM and MO roots, vehicles) is removed after the scenario.
The suite's -20 parties are the simulated actors on ISO 15118-20 profiles: `simulators.oem.Oem`
over an `OemPki` of secp521r1 (`simulators.ev.Vehicle20`), `simulators.mo.MoOwnPki` over an MO
`OemPki` of secp521r1, and the CPO's `CpoBackend` sending the real -20 namespace.
"""

from __future__ import annotations

import base64
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed448

from features.support.context import Scenario
from features.support.contracts import new_emaid
from features.support.enrollment import b64_lines
from features.support.setup import delete_root_after, need_admin, new_pcid, oem_as, wmi_of
from opcp.client import OpcpClient
from opcp.models.errata import read_field
from simulators.actor_calls import trusted_roots
from simulators.ev import Vehicle20, installation_answers
from simulators.mo import MoOwnPki
from simulators.oem import Oem, iso20_v2g_root
from simulators.party_pki import OemPki, SuiteOcspResponder
from simulators.provisioning import EnrollmentRefused, EstEnrollment, certs_only
from v2g.contract_data20 import decode_installation_res20
from v2g.errors import V2GError
from v2g.namespaces import ISO20_COMMON_MESSAGES, ISO20_SPEC_MSG_DEF, iso_part

P521 = "secp521r1"


def need_iso20(api: OpcpClient) -> None:
    if not api.target.iso20:
        pytest.skip("not applicable: the target file does not declare ISO 15118-20 support"
                    " (iso20 = true)")
    if not api.target.implements("est"):
        pytest.skip("not applicable: the -20 V2G root is read from EST cacerts, and the target"
                    " declares no EST service")


def save_root20(api: OpcpClient, ctx: Scenario, der: bytes, root_type: str,
                namespace: str = ISO20_SPEC_MSG_DEF):
    """saveRootCa of a -20 root tagged `namespace`, by the operator; answered as it was. A
    stored root is deleted after the scenario."""
    need_admin(api, "add ISO 15118-20 roots to the RCP")
    got = api.op("saveRootCa", role="ADMIN", json={
        "caCertificate": base64.b64encode(der).decode(), "rootType": root_type,
        "xsdMsgDefNamespace": namespace})
    if got.status in (200, 201):
        delete_root_after(api, ctx, got.json()["RootResponse"]["rootCertificateId"])
    return got


def ensure_v2g_root(api: OpcpClient, ctx: Scenario) -> bytes:
    """The ecosystem's -20 V2G root (from EST cacerts), put into the RCP when missing. A
    cacerts answer the OEM cannot read (not certs-only) fails the scenario, naming it."""
    try:
        der = iso20_v2g_root(api)
    except EnrollmentRefused as exc:
        raise AssertionError(f"the ISO 15118-20 V2G root cannot be read from EST: {exc}") from None
    if der not in trusted_roots(api, "OEM", 0, "v2g"):
        got = save_root20(api, ctx, der, "V2G")
        assert got.status in (200, 201), (
            f"the operator could not add the ISO 15118-20 V2G root: {got.status}"
            f" {got.response_body[:300]}")
    return der


def suite_pkis(api: OpcpClient, ctx: Scenario, responder: SuiteOcspResponder) -> None:
    """The suite's -20 OEM and MO PKIs, their roots in the RCP tagged -20."""
    name = uuid.uuid4().hex[:8]
    oem_pki = OemPki.build(responder, f"20-{name}", algorithm=P521)
    mo_pki = OemPki.build(responder, f"20-{name}", role="mo", algorithm=P521)
    for pki, root_type in ((oem_pki, "OEM"), (mo_pki, "MO")):
        got = save_root20(api, ctx, pki.root.der, root_type)
        assert got.status in (200, 201), (
            f"the operator could not add the suite's -20 {root_type} root: {got.status}"
            f" {got.response_body[:300]}")
    ctx.saved.update(oem20_pki=oem_pki, mo20_pki=mo_pki)
    ctx.saved["suite_oem"] = Oem(api, source=oem_pki, sub2=oem_pki.sub2, sub1=oem_pki.sub1,
                                 wmi="ZZZ")


def new_vehicle(api: OpcpClient, ctx: Scenario, maximum: int) -> Vehicle20:
    """A -20 vehicle of the target's first OEM (18-character PCID), not yet published."""
    oem: Oem = oem_as(ctx, "OEM", 0)
    oem.wmi = wmi_of(api, "OEM", 0)
    vehicle = oem.produce_vehicle20(maximum_chains=maximum)
    ctx.saved["vehicle20"] = vehicle
    return vehicle


def publish(api: OpcpClient, ctx: Scenario, vehicle: Vehicle20, namespace: str,
            oem: Oem | None = None) -> None:
    """addOemProvCert of the vehicle's chain by `oem` (default: the suite's OEM)."""
    oem = oem or oem_as(ctx, ctx.role or "OEM", ctx.party)
    body = oem.provisioning_body(vehicle.pcid)
    body["xsdMsgDefNamespace"] = namespace
    ctx.last = oem.put_provisioning(body)
    if ctx.last.status == 200:
        ctx.cleanups.append(lambda: oem.withdraw(vehicle.pcid))


def served_provisioning(api: OpcpClient, vehicle: Vehicle20) -> tuple[bytes, dict]:
    """getOEMProvCert of the vehicle's PCID: the provisioning certificate the pool serves (DER)
    and the OEMMessage it came in."""
    got = api.op("getOEMProvCert", {"pcid": vehicle.pcid}, role="OEM")
    assert got.status == 200, f"getOEMProvCert answered {got.status}: {got.response_body[:300]}"
    data = got.json()["OEMMessage"]
    # Read under either name (erratum E-PCP-2: provisioningCertificate is announced).
    served = str(read_field("ProvisioningCertificateData", data, "vehicleCertificate", ""))
    return base64.b64decode(served), data


def sign_contracts(api: OpcpClient, ctx: Scenario, count: int) -> list[str]:
    pki: OemPki = ctx.saved["mo20_pki"]
    mo = MoOwnPki(api, role="MO", sub2=pki.sub2, sub1=pki.sub1)
    vehicle: Vehicle20 = ctx.saved["vehicle20"]
    emaids = []
    for _ in range(count):
        emaid = new_emaid(api, "MO", 0)
        got = mo.sign_exchange(mo.sign_body(emaid, vehicle.provisioning_cert, vehicle.pcid))
        assert got.status == 201, (f"signContractData of a -20 contract answered {got.status}:"
                                   f" {got.response_body[:300]}")
        emaids.append(emaid)
        # Withdrawing the vehicle takes its contracts along; a contract still there goes now.
        ctx.cleanups.append(lambda e=emaid: api.op("deleteSignedContractData", {"emaid": e},
                                                   role="MO"))
    ctx.saved.setdefault("emaids20", []).extend(emaids)
    return emaids


def answers(ctx: Scenario) -> list[bytes]:
    return installation_answers(ctx.response.json())


def is_iso20_namespace(value: object) -> bool:
    return iso_part(value) == "20"


def pcid_of(der: bytes) -> str:
    cn = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(cn[0].value) if cn else ""


REAL_NAMESPACE = ISO20_COMMON_MESSAGES


# ----------------------------------------------------------------------------- Ed448 vehicles

ED448 = "ed448"


def ed448_est_chain(api: OpcpClient) -> list[x509.Certificate]:
    """The target's EST `oem` CA chain for ISO15118-20/ed448 (Sub-CA 2, Sub-CA 1, root).
    A target whose EST answers 404 there offers no Ed448 provisioning certificates: the
    scenario is not applicable (est.v1.json lists ed448, but an ecosystem need not offer it)."""
    got = api.op("caCerts-OEM", {"isoVersion": "ISO15118-20", "algorithm": ED448}, role="OEM")
    if got.status == 404:
        pytest.skip("not applicable: the target's EST has no ISO15118-20 ed448 oem CA"
                    " (cacerts answered 404)")
    try:
        return certs_only(got, "cacerts ISO15118-20/ed448")
    except EnrollmentRefused as exc:
        raise AssertionError(f"{exc}: {got.status} {got.response_body[:300]}") from None


def ensure_ed448_v2g_root(api: OpcpClient, ctx: Scenario) -> None:
    """The root of the target's Ed448 EST chain in the RCP (added, tagged -20, when missing):
    the PCP validates an EST-enrolled Ed448 provisioning chain up to it."""
    roots = [c for c in ed448_est_chain(api) if c.subject == c.issuer]
    assert len(roots) == 1, f"cacerts ISO15118-20/ed448 holds {len(roots)} roots, not one"
    der = roots[0].public_bytes(serialization.Encoding.DER)
    if der not in trusted_roots(api, "OEM", 0, "v2g"):
        got = save_root20(api, ctx, der, "V2G")
        assert got.status in (200, 201), (
            f"the operator could not add the ISO 15118-20 Ed448 V2G root: {got.status}"
            f" {got.response_body[:300]}")


def ed448_oem(api: OpcpClient, ctx: Scenario, responder: SuiteOcspResponder,
              over_est: bool) -> Oem:
    """The target's first OEM making Ed448 vehicles: over the target's EST (`oem` CA,
    ISO15118-20, the CSR asking for the X448 key), or from an Ed448 PKI of the suite's own
    whose root the operator adds to the RCP, tagged -20."""
    wmi = wmi_of(api, "OEM", 0)
    if over_est:
        ensure_ed448_v2g_root(api, ctx)
        return Oem(api, wmi=wmi, source=EstEnrollment(api, iso_version="ISO15118-20",
                                                      algorithm=ED448))
    pki = OemPki.build(responder, f"20-ed448-{uuid.uuid4().hex[:8]}", algorithm=ED448)
    got = save_root20(api, ctx, pki.root.der, "OEM")
    assert got.status in (200, 201), (
        f"the operator could not add the suite's Ed448 OEM root: {got.status}"
        f" {got.response_body[:300]}")
    return Oem(api, wmi=wmi, source=pki)


def ed448_provisioning_csr(api: OpcpClient) -> str:
    """A base64 PKCS#10 request of a fresh Ed448 key for a PCID of the target's first OEM,
    without the vehicle's X448 key ([V2G20-2534] requires one)."""
    pcid = new_pcid(wmi_of(api, "OEM", 0)) + "0"
    key = ed448.Ed448PrivateKey.generate()
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, pcid)]))
           .sign(key, None))
    return b64_lines(csr.public_bytes(serialization.Encoding.DER))


def x448_answers(res_list: list[bytes]) -> list[str]:
    """What is wrong with each -20 answer as one for an Ed448 vehicle: its key must be
    agreed on X448 (ECDHCurve X448, a 57-byte DHPublicKey; docs/iso20.md, [V2G20-2534],
    [V2G20-2489], [V2G20-2495])."""
    problems = []
    for n, data in enumerate(res_list, 1):
        try:
            res, _ = decode_installation_res20(data)
        except V2GError as exc:
            problems.append(f"answer {n}: not a -20 CertificateInstallationRes: {exc}")
            continue
        if res.key.ecdh_curve.value != "X448":
            problems.append(f"answer {n}: ECDHCurve {res.key.ecdh_curve.value}, not X448")
        if len(res.key.dh_public_key) not in (56, 57):
            problems.append(f"answer {n}: DHPublicKey of {len(res.key.dh_public_key)} bytes,"
                            " not an X448 one (57: 04 || u)")
    return problems
