"""Steps of the Certificate Provisioning Service feature, and the contract machinery the CCP
feature shares.

The suite plays the MO with its own PKI (a root the operator adds to the RCP for the
scenario), the OEM (through the PCP steps: a vehicle whose provisioning key the suite
holds), and the vehicle itself (`simulators.ev.Vehicle`): what a CPS signs or a CCP serves is
judged by whether the vehicle would install it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
import string
import uuid

import pytest
from cryptography import x509
from pytest_bdd import given, parsers, then, when

from features.steps.http_steps import json_body, send
from features.steps.pcp_steps import oem_published
from features.support.context import Scenario
from features.support.oem_pki import SuiteOcspResponder
from features.support.rules import checks
from opcp.client import OpcpClient
from simulators.common import trusted_roots
from simulators.ev import InstalledContract, Vehicle, VehicleRejected
from v2g import exi
from v2g.contract_data import encrypt_for_vehicle, read_installation_res
from v2g.namespaces import ISO2_MSG_DEF
from v2g.pki.builder import Issued, issue, new_key
from v2g.pki.validate import Purpose, TrustAnchor, TrustStore, validate_chain

ISO2 = ISO2_MSG_DEF
ROOTS = "/v1/root/rootCerts"
SIGN = "/v1/cps/contractData/signed"
GENERATE = "/v1/cps/generate/signedContractData"
SIGNERS = "/cps/signer"
ORDINALS = {"first": 0, "second": 1, "third": 2}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ----------------------------------------------------------------------------- the suite's MO

def _mo_pki(ctx: Scenario) -> tuple[Issued, Issued, Issued]:
    name = uuid.uuid4().hex[:8]
    root = issue("mo_root", f"Suite MO Root {name}", organization="OPCP Suite")
    sub1 = issue("mo_sub1", f"Suite MO Sub1 {name}", root, organization="OPCP Suite")
    sub2 = issue("mo_sub2", f"Suite MO Sub2 {name}", sub1, organization="OPCP Suite")
    ctx.saved["mo_pki"] = (root, sub1, sub2)
    return root, sub1, sub2


@given("the suite's MO root is in the pool")
def mo_root_in_pool(api: OpcpClient, scenario_ctx: Scenario):
    root, _, _ = _mo_pki(scenario_ctx)
    if api.target.client("ADMIN") is None:
        pytest.skip("not applicable: the target file has no ADMIN client to add the suite's MO"
                    " root to the RCP")
    got = api.call("PUT", "rcp", ROOTS, role="ADMIN",
                   json={"caCertificate": b64(root.der), "rootType": "MO"})
    assert got.status in (200, 201), (
        f"the operator could not add the suite's MO root: {got.status} {got.response_body}")
    root_id = got.json()["RootResponse"]["rootCertificateId"]
    scenario_ctx.cleanups.append(lambda: api.call("DELETE", "rcp", f"{ROOTS}/{root_id}",
                                                  role="ADMIN"))


@given("the suite's MO root is not in the pool")
def mo_root_not_in_pool(scenario_ctx: Scenario):
    _mo_pki(scenario_ctx)


@given(parsers.parse('a vehicle of the first "OEM" is in the pool'))
def vehicle_in_pool(api: OpcpClient, scenario_ctx: Scenario, suite_ocsp: SuiteOcspResponder):
    oem_published(api, scenario_ctx, suite_ocsp, "first")
    pcid = scenario_ctx.saved["pcid"]
    leaf = scenario_ctx.saved["oem_pki"].leaves[pcid]
    roots = trusted_roots(api, "OEM", 0, "v2g")
    scenario_ctx.saved["vehicle"] = Vehicle(pcid, leaf.der, leaf.key, roots)
    scenario_ctx.saved["emaids"] = []


def signer_roots(api: OpcpClient, ctx: Scenario) -> list[str]:
    """The V2G root ids of the target's CPS signers, in the order GET /cps/signer lists them."""
    if "signer_roots" not in ctx.saved:
        role = "MO" if api.target.client("MO") else "CPO"
        got = api.call("GET", "cps", SIGNERS, role=role)
        assert got.status == 200, f"GET {SIGNERS} answered {got.status}: {got.response_body}"
        ids = [s["cpsV2GRootCertificateFingerprint"] for s in got.json()["cpsCertificates"]]
        ctx.saved["signer_roots"] = list(dict.fromkeys(ids))
    return ctx.saved["signer_roots"]


SHA256_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$")


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
    got = api.call("GET", "rcp", f"{ROOTS}/{root_ref}", role="OEM")
    assert got.status == 200, f"the RCP does not serve the V2G root {root_ref}: {got.status}"
    return base64.b64decode(got.json()["RootResponse"]["caCertificate"])


@given(parsers.parse("the vehicle trusts only the {ordinal} CPS signer's V2G root"))
def vehicle_trusts_only(api: OpcpClient, scenario_ctx: Scenario, ordinal: str):
    roots = signer_roots(api, scenario_ctx)
    index = ORDINALS[ordinal]
    if len(roots) <= index:
        pytest.skip(f"not applicable: the target has CPS signers under {len(roots)} V2G root(s)")
    scenario_ctx.saved["vehicle"].trusted_v2g_roots = [v2g_root_der(api, roots[index])]
    scenario_ctx.saved["trusted_root_id"] = roots[index]


def new_emaid(api: OpcpClient, role: str, party: int) -> str:
    client = api.target.client(role, party)
    if client is None or not client.emaid_prefixes:
        pytest.skip(f"not applicable: the target file names no EMAID prefix for {role}"
                    f" number {party + 1}")
    tail = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(9))
    return client.emaid_prefixes[0].replace("-", "").upper() + tail


def contract_data(ctx: Scenario, emaid: str, *, mo: tuple[Issued, Issued, Issued] | None = None
                  ) -> dict:
    """ContractData as an MO with its own PKI makes it: a contract certificate for `emaid`, its
    key encrypted to the vehicle's provisioning key."""
    _, sub1, sub2 = mo or ctx.saved["mo_pki"]
    key = new_key()
    leaf = issue("contract_leaf", emaid, sub2, key=key, organization="OPCP Suite")
    vehicle: Vehicle = ctx.saved["vehicle"]
    data = encrypt_for_vehicle(key, vehicle.provisioning_cert, emaid,
                               [leaf.der, sub2.der, sub1.der])
    return {"contractCertificate": b64(leaf.der), "contractSubCa2Certificate": b64(sub2.der),
            "contractSubCa1Certificate": b64(sub1.der),
            "contractSignatureEncryptedPrivateKey": b64(data.encrypted_private_key),
            "dHpublickey": b64(data.dh_public_key)}


def _sign(api: OpcpClient, ctx: Scenario, emaid: str, *, pcid: str | None = "vehicle",
          signer: str | None = None, change=None, mo=None) -> None:
    body: dict = {"contractData": contract_data(ctx, emaid, mo=mo), "xsdMsgDefNamespace": ISO2}
    if pcid == "vehicle":
        body["pcid"] = ctx.saved["vehicle"].pcid
    elif pcid is not None:
        body["pcid"] = pcid
    if signer is not None:
        body["cpsV2GRootCertificateFingerprint"] = signer
    if change is not None:
        change(body)
    send(api, ctx, "PUT", "cps", SIGN, json=body)
    if ctx.response.status == 201:
        ctx.saved["signed"] = ctx.response.json()
        if emaid not in ctx.saved["emaids"]:
            ctx.saved["emaids"].append(emaid)


@when("I sign contract data for a new EMAID of mine for the vehicle")
def sign_new(api: OpcpClient, scenario_ctx: Scenario):
    _sign(api, scenario_ctx, new_emaid(api, scenario_ctx.role, scenario_ctx.party))


@when("I sign contract data for a new EMAID of mine without a PCID")
def sign_without_pcid(api: OpcpClient, scenario_ctx: Scenario):
    _sign(api, scenario_ctx, new_emaid(api, scenario_ctx.role, scenario_ctx.party), pcid=None)


@when(parsers.parse("I sign contract data for the vehicle's {ordinal} contract under the"
                    " {signer} CPS signer"))
def sign_under(api: OpcpClient, scenario_ctx: Scenario, ordinal: str, signer: str):
    emaids = scenario_ctx.saved["emaids"]
    index = ORDINALS[ordinal]
    emaid = emaids[index] if index < len(emaids) else new_emaid(api, scenario_ctx.role,
                                                                scenario_ctx.party)
    roots = signer_roots(api, scenario_ctx)
    if len(roots) <= ORDINALS[signer]:
        pytest.skip(f"not applicable: the target has CPS signers under {len(roots)} V2G root(s)")
    _sign(api, scenario_ctx, emaid, signer=roots[ORDINALS[signer]])


@when(parsers.parse('I sign contract data for an EMAID of the second "MO" for the vehicle'))
def sign_foreign(api: OpcpClient, scenario_ctx: Scenario):
    _sign(api, scenario_ctx, new_emaid(api, "MO", 1))


@when("I sign contract data of the suite's MO for a PCID not in the pool")
def sign_unknown_pcid(api: OpcpClient, scenario_ctx: Scenario):
    pcid = ("ZZZ" + uuid.uuid4().hex.upper())[:17]
    _sign(api, scenario_ctx, new_emaid(api, scenario_ctx.role, scenario_ctx.party), pcid=pcid)


def _broken(field: str, kind: str):
    values = {"not a P-256 point": b64(b"\x04" + b"\x01" * 64),
              "47 bytes long": b64(b"\x00" * 47),
              "not base64": "*not*base64*"}

    def change(body: dict) -> None:
        body["contractData"][field] = values[kind]
    return change


@when(parsers.parse('I sign contract data for the vehicle whose {field} is "{kind}"'))
def sign_broken(api: OpcpClient, scenario_ctx: Scenario, field: str, kind: str):
    _sign(api, scenario_ctx, new_emaid(api, scenario_ctx.role, scenario_ctx.party),
          change=_broken(field, kind))


def generate_for(api: OpcpClient, ctx: Scenario, emaid: str) -> None:
    """generateSignedContractData for `emaid` and the vehicle, as the scenario's caller."""
    begins = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    ends = begins + dt.timedelta(days=30)
    ctx.saved["validity"] = (begins, ends)
    body = {"emaid": emaid, "pcid": ctx.saved["vehicle"].pcid, "xsdMsgDefNamespace": ISO2,
            "contractBegins": begins.isoformat().replace("+00:00", "Z"),
            "contractEnds": ends.isoformat().replace("+00:00", "Z")}
    send(api, ctx, "PUT", "cps", GENERATE, json=body)
    if ctx.response.status == 201 and emaid not in ctx.saved["emaids"]:
        ctx.saved["emaids"].append(emaid)


@when(parsers.parse("I generate signed contract data for a new EMAID of mine for the vehicle"))
def generate(api: OpcpClient, scenario_ctx: Scenario):
    generate_for(api, scenario_ctx, new_emaid(api, scenario_ctx.role, scenario_ctx.party))


DEPRECATED = {"createSignedContractData": "/v1/cps/signedContractData",
              "createAndForwardSignedContractData": "/v1/cps/forward/signedContractData"}


def deprecated_for(api: OpcpClient, ctx: Scenario, operation: str, emaid: str) -> None:
    """A deprecated signing call for `emaid` and the vehicle, as the scenario's caller."""
    body = {"contractData": contract_data(ctx, emaid), "xsdMsgDefNamespace": ISO2,
            "pcid": ctx.saved["vehicle"].pcid, "emaid": emaid}
    send(api, ctx, "PUT", "cps", DEPRECATED[operation], json=body)
    if ctx.response.status in (200, 201):
        if emaid not in ctx.saved["emaids"]:
            ctx.saved["emaids"].append(emaid)
        if ctx.response.status == 200:
            ctx.saved["signed"] = ctx.response.json()


@when(parsers.parse("I call the deprecated {operation} for a new EMAID of mine for the vehicle"))
def deprecated_call(api: OpcpClient, scenario_ctx: Scenario, operation: str):
    deprecated_for(api, scenario_ctx, operation,
                   new_emaid(api, scenario_ctx.role, scenario_ctx.party))


@then("the answer says the operation is deprecated")
@checks("CPS-DEPRECATED")
def says_deprecated(scenario_ctx: Scenario):
    headers = {k.lower(): v for k, v in scenario_ctx.response.response_headers.items()}
    assert "deprecation" in headers, (
        f"no Deprecation header on {scenario_ctx.response.method} {scenario_ctx.response.url}")


@when("I ask for the CPS signers")
def ask_signers(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "GET", "cps", SIGNERS)


# ----------------------------------------------------------------------------- checks

def _v2g_trust(api: OpcpClient, root_id: str) -> TrustStore:
    return TrustStore([TrustAnchor.of(v2g_root_der(api, root_id), "v2g")])


@then("the signed data verifies with a CPS signer under the V2G root it names")
@checks("CPS-SIGNED-DATA")
def signed_data_verifies(api: OpcpClient, scenario_ctx: Scenario):
    body = json_body(scenario_ctx)
    xml = base64.b64decode(body["signedData"]).decode("utf-8")
    res, verification = read_installation_res(exi.xml_to_exi(xml))
    assert verification, f"the CPS signature does not verify: {verification.reasons}"
    sa = res.sa_provisioning_certificate_chain
    validate_chain([sa.certificate, *sa.sub_certificates],
                   _v2g_trust(api, body["cpsV2GRootCertificateFingerprint"]), purpose=Purpose.CPS)
    assert res.emaid.replace("-", "").upper() == body["emaid"].replace("-", "").upper(), (
        f"the signed eMAID {res.emaid} is not the response's emaid {body['emaid']}")


@then("every CPS signer chains to the V2G root it names")
@checks("CPS-SIGNERS")
def signers_chain(api: OpcpClient, scenario_ctx: Scenario):
    listed = json_body(scenario_ctx)["cpsCertificates"]
    assert listed, "the CPS lists no signer"
    for signer in listed:
        chain = [base64.b64decode(signer["cpsCertificate"])]
        if signer.get("cpsSubCa2Certificate"):
            chain.append(base64.b64decode(signer["cpsSubCa2Certificate"]))
        chain.append(base64.b64decode(signer["cpsSubCa1Certificate"]))
        validate_chain(chain, _v2g_trust(api, signer["cpsV2GRootCertificateFingerprint"]),
                       purpose=Purpose.CPS)


def installation_res(scenario_ctx: Scenario) -> tuple[bytes, dict]:
    """The EXI the response carries (CCP getSignedContractData or provideSignedContractData)."""
    body = json_body(scenario_ctx)
    try:
        item = body["CCPResponse"]["emaidContent"][0]["messageDef"] if "CCPResponse" in body else body
        return base64.b64decode(item["certificateInstallationRes"]), item
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise AssertionError(f"the answer holds no certificateInstallationRes ({type(exc).__name__}"
                             f" {exc}): {scenario_ctx.response.response_body[:300]}") from None


def installs(vehicle: Vehicle, data: bytes) -> InstalledContract:
    """The vehicle's verdict on contract data: installed, or the check it failed as the
    scenario's failure (what the target sent is wrong; the suite did not crash)."""
    try:
        return vehicle.accept(data)  # signature, chains, decrypts and matches the key
    except VehicleRejected as exc:
        raise AssertionError(f"the vehicle refuses the contract data at its {exc.step} check:"
                             f" {exc.reason}") from None


@then(parsers.parse("the vehicle installs the {ordinal} contract"))
@checks("CCP-VEHICLE-INSTALLS")
def vehicle_installs(scenario_ctx: Scenario, ordinal: str):
    data, _ = installation_res(scenario_ctx)
    installed = installs(scenario_ctx.saved["vehicle"], data)
    wanted = scenario_ctx.saved["emaids"][ORDINALS[ordinal]]
    assert installed.emaid.replace("-", "").upper() == wanted, (
        f"the vehicle got the contract {installed.emaid}, expected the {ordinal} one {wanted}")


@then("the contract certificate is valid from contractBegins to contractEnds")
@checks("CPS-GENERATE-VALIDITY")
def generated_validity(scenario_ctx: Scenario):
    data, _ = installation_res(scenario_ctx)
    res, _ = read_installation_res(data)
    leaf = x509.load_der_x509_certificate(res.contract_signature_cert_chain.certificate)
    begins, ends = scenario_ctx.saved["validity"]
    assert (leaf.not_valid_before_utc, leaf.not_valid_after_utc) == (begins, ends), (
        f"the contract certificate is valid {leaf.not_valid_before_utc} .. "
        f"{leaf.not_valid_after_utc}, asked {begins} .. {ends}")
