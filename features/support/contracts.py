"""The suite's contract work, done by the simulated actors (`simulators/`): the suite's MO
(`MoOwnPki` over the scenario's MO PKI, `MoV2gPki`) signs, generates and pools contracts as
the scenario's caller; the vehicle (`simulators.ev.Vehicle`) judges what comes back.

Guarantees: each helper makes one request through an actor's exchange-returning method and
leaves the answer as the scenario's last; the EMAIDs a scenario got signed are kept in order
in `saved["emaids"]` (the first, second, ... contract of its vehicle), the last signed answer
in `saved["signed"]`. A vehicle's refusal is an AssertionError naming the check it failed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
import string

import pytest

from features.support.calls import json_body
from features.support.context import Scenario
from opcp.client import OpcpClient
from simulators.actor_calls import b64, trusted_roots
from simulators.ev import InstalledContract, Vehicle, VehicleRejected
from simulators.mo import MoOwnPki, MoV2gPki
from simulators.party_pki import OemPki
from v2g.namespaces import ISO2_MSG_DEF

ISO2 = ISO2_MSG_DEF
ORDINALS = {"first": 0, "second": 1, "third": 2}
SHA256_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$")


def new_emaid(api: OpcpClient, role: str, party: int) -> str:
    """A fresh EMAID under the first prefix the target file gives the client."""
    client = api.target.client(role, party)
    if client is None or not client.emaid_prefixes:
        pytest.skip(f"not applicable: the target file names no EMAID prefix for {role}"
                    f" number {party + 1}")
    tail = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(9))
    return client.emaid_prefixes[0].replace("-", "").upper() + tail


def plain(emaid: str) -> str:
    """An EMAID in the spec's normal form (upper case, no hyphens)."""
    return emaid.replace("-", "").upper()


def remember_emaid(ctx: Scenario, emaid: str) -> None:
    emaids = ctx.saved.setdefault("emaids", [])
    if emaid not in emaids:
        emaids.append(emaid)


def suite_mo(api: OpcpClient, ctx: Scenario) -> MoOwnPki:
    """The suite's MO with the scenario's MO PKI, acting as the scenario's caller."""
    pki: OemPki = ctx.saved["mo_pki"]
    return MoOwnPki(api, role=ctx.role or "MO", party=ctx.party, sub2=pki.sub2, sub1=pki.sub1)


def sign(api: OpcpClient, ctx: Scenario, emaid: str, *, pcid: str | None = "vehicle",
         signer: str | None = None, change=None, operation: str = "signContractData") -> None:
    """The scenario's caller has contract data for `emaid` and the scenario's vehicle signed:
    `pcid` "vehicle" names the vehicle, None leaves the PCID out, anything else is sent as is;
    `signer` names a CPS signer's V2G root; `change(body)` breaks the request on purpose;
    `operation` may be one of the deprecated signing operations."""
    vehicle: Vehicle = ctx.saved["vehicle"]
    body = suite_mo(api, ctx).sign_body(emaid, vehicle.provisioning_cert,
                                        vehicle.pcid if pcid == "vehicle" else pcid)
    if operation != "signContractData":
        body["emaid"] = emaid
        body["contractData"] = deprecated_contract_data(body["contractData"], emaid)
    if signer is not None:
        body["cpsV2GRootCertificateFingerprint"] = signer
    if change is not None:
        change(body)
    ctx.last = suite_mo(api, ctx).sign_exchange(body, operation)
    signed_status = 201 if operation == "signContractData" else 200
    if ctx.last.status in (200, 201):
        if ctx.last.status == signed_status:
            ctx.saved["signed"] = ctx.last.json()
        if operation == "signContractData" and ctx.last.status != 201:
            return
        remember_emaid(ctx, emaid)


def deprecated_contract_data(data: dict, emaid: str) -> dict:
    """signContractData's ContractData in the shape cps.v1.json gives the deprecated pair
    (createSignedContractData, createAndForwardSignedContractData): `contract-data`, the chain
    under contractSignatureCertChain (Sub-CA 2 before Sub-CA 1) and the EMAID inside (E-CPS-4)."""
    subs = [data[k] for k in ("contractSubCa2Certificate", "contractSubCa1Certificate")
            if k in data]
    return {"contractSignatureCertChain": {
                "contractSignatureCertChainCertificate": data["contractCertificate"],
                "contractSignatureCertChainSubCertificates": subs},
            "contractSignatureEncryptedPrivateKey": data["contractSignatureEncryptedPrivateKey"],
            "dHpublickey": data["dHpublickey"], "emaid": emaid}


def generate(api: OpcpClient, ctx: Scenario, emaid: str, days: int = 30,
             signer: str | None = None) -> None:
    """generateSignedContractData for `emaid` and the vehicle, as the scenario's caller, valid
    from an hour ago for `days` days (kept in `saved["validity"]`); `signer` names a CPS
    signer's V2G root (cpsV2GRootCertificateFingerprint), else the CPS decides."""
    begins = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    ends = begins + dt.timedelta(days=days)
    ctx.saved["validity"] = (begins, ends)
    mo = MoV2gPki(api, role=ctx.role or "MO_V2G", party=ctx.party)
    body = mo.generate_body(ctx.saved["vehicle"].pcid, emaid, begins, ends)
    if signer is not None:
        body["cpsV2GRootCertificateFingerprint"] = signer
    ctx.last = mo.generate_exchange(body)
    if ctx.last.status == 201:
        remember_emaid(ctx, emaid)


def _signers(api: OpcpClient, ctx: Scenario) -> list[dict]:
    if "signers" not in ctx.saved:
        role = "MO" if api.target.client("MO") else "CPO"
        got = api.op("getAllCpsSigners", role=role)
        assert got.status == 200, f"getAllCpsSigners answered {got.status}: {got.response_body}"
        ctx.saved["signers"] = got.json()["cpsCertificates"]
    return ctx.saved["signers"]


def signer_roots(api: OpcpClient, ctx: Scenario) -> list[str]:
    """The V2G root ids of the target's CPS signers, in the order getAllCpsSigners lists them."""
    ids = [s["cpsV2GRootCertificateFingerprint"] for s in _signers(api, ctx)]
    return list(dict.fromkeys(ids))


def iso2_signer_roots(api: OpcpClient, ctx: Scenario) -> list[str]:
    """The V2G roots of the CPS signers listed for ISO 15118-2 (an `xsdMsgDefNamespace` of -2,
    or none): a signer listed with a -20 namespace signs -20 contract data only."""
    ids = [s["cpsV2GRootCertificateFingerprint"] for s in _signers(api, ctx)
           if s.get("xsdMsgDefNamespace", ISO2) == ISO2]
    return list(dict.fromkeys(ids))


def v2g_root_der(api: OpcpClient, root_ref: str) -> bytes:
    """The V2G root a CPS signer names: by its RCP id, or (erratum E-CPS-1, the lenient
    profile's alternative) by the SHA-256 fingerprint the field's description promises, found
    among the RCP's V2G roots. The response model check reports which form the target used;
    this only lets the scenario go on to check what matters next."""
    if SHA256_HEX.match(root_ref):
        wanted = root_ref.replace(":", "").lower()
        for der in trusted_roots(api, "OEM", 0, "v2g"):
            if hashlib.sha256(der).hexdigest() == wanted:
                return der
        raise AssertionError(f"no V2G root of the RCP has the SHA-256 fingerprint {root_ref}")
    got = api.op("getRootCert", {"rootCertificateId": root_ref}, role="OEM")
    assert got.status == 200, f"the RCP does not serve the V2G root {root_ref}: {got.status}"
    return base64.b64decode(got.json()["RootResponse"]["caCertificate"])


def pool_signed(api: OpcpClient, ctx: Scenario, signed_xml: str) -> None:
    """addSignedContractData of the scenario's last signed data (as `signed_xml`), as the
    scenario's caller."""
    signed = ctx.saved["signed"]
    ctx.last = api.op("addSignedContractData", role=ctx.role, party=ctx.party, json={
        "xsdMsgDefNamespace": ISO2, "emaid": signed["emaid"], "pcid": ctx.saved["vehicle"].pcid,
        "signedContractDataXML": b64(signed_xml.encode())})


def installation_res(ctx: Scenario) -> tuple[bytes, dict]:
    """The EXI the response carries (CCP getSignedContractData or provideSignedContractData)."""
    body = json_body(ctx)
    try:
        item = body["CCPResponse"]["emaidContent"][0]["messageDef"] if "CCPResponse" in body else body
        return base64.b64decode(item["certificateInstallationRes"]), item
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise AssertionError(f"the answer holds no certificateInstallationRes ({type(exc).__name__}"
                             f" {exc}): {ctx.response.response_body[:300]}") from None


def installs(vehicle: Vehicle, data: bytes) -> InstalledContract:
    """The vehicle's verdict on contract data: installed, or the check it failed as the
    scenario's failure (what the target sent is wrong; the suite did not crash)."""
    try:
        return vehicle.accept(data)  # signature, chains, decrypts and matches the key
    except VehicleRejected as exc:
        raise AssertionError(f"the vehicle refuses the contract data at its {exc.step} check:"
                             f" {exc.reason}") from None
