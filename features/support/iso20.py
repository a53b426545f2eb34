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

from features.support.context import Scenario
from features.support.contracts import new_emaid
from features.support.setup import delete_root_after, need_admin, oem_as, wmi_of
from opcp.client import OpcpClient
from simulators.actor_calls import trusted_roots
from simulators.ev import Vehicle20, installation_answers
from simulators.mo import MoOwnPki
from simulators.oem import Oem, iso20_v2g_root
from simulators.party_pki import OemPki, SuiteOcspResponder
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
    """The ecosystem's -20 V2G root (from EST cacerts), put into the RCP when missing."""
    der = iso20_v2g_root(api)
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


def publish(api: OpcpClient, ctx: Scenario, vehicle: Vehicle20, namespace: str) -> None:
    oem = oem_as(ctx, ctx.role or "OEM", ctx.party)
    body = oem.provisioning_body(vehicle.pcid)
    body["xsdMsgDefNamespace"] = namespace
    ctx.last = oem.put_provisioning(body)
    if ctx.last.status == 200:
        ctx.cleanups.append(lambda: oem_as(ctx, "OEM", 0).withdraw(vehicle.pcid))


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
