"""The suite's shared setup and the steps several features share (a pytest plugin, listed in
the root conftest.py): a fresh root in the pool, the suite's OEM and MO PKIs with their roots
in the pool, a published vehicle, signed contracts, a subscribed webhook endpoint, and the
CCP, EST and RCP steps more than one feature speaks.

The suite acts through the simulated actors (`simulators/`): its OEM is `simulators.oem.Oem`
over a `simulators.party_pki.OemPki` whose leaves name the suite's OCSP responder; its MO is
`simulators.mo.MoOwnPki` (`features.support.contracts`); the vehicle is
`simulators.ev.Vehicle`; the CPO is `simulators.cpo.CpoBackend`. Every request names its
operation from the role table.

Guarantees: whatever a step adds to the target (roots, provisioning certificates, webhook
endpoints) is removed by its owner after the scenario; a step needing a client the target
file lacks skips as not applicable, never passes.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import replace

import pytest
from cryptography.x509.oid import NameOID
from pytest_bdd import given, parsers, then, when

from features.support import certs
from features.support.calls import send
from features.support.context import Scenario
from features.support.contracts import (
    ORDINALS,
    installation_res,
    installs,
    new_emaid,
    sign,
    signer_roots,
)
from features.support.enrollment import (
    CACERTS,
    answered_certs,
    b64_lines,
    enroll,
    make_csr,
    scope_cn,
)
from features.support.rules import checks
from features.support.webhooks import create_endpoint, receiver_url
from opcp.client import OpcpClient
from opcp.target import Target
from simulators.actor_calls import trusted_roots
from simulators.cpo import CpoBackend
from simulators.ev import Vehicle
from simulators.oem import Oem
from simulators.party_pki import OemPki, SuiteOcspResponder
from simulators.webhook_receiver import ReceiverServer
from v2g import ids
from v2g.pki.bundle import load_certs, order_chain
from v2g.pki.ocsp import issuer_key_hashes
from v2g.pki.validate import ChainError, validate_chain

# ----------------------------------------------------------------------------- fixtures

@pytest.fixture
def scenario_ctx(api: OpcpClient):
    ctx = Scenario()
    yield ctx
    for cleanup in reversed(ctx.cleanups):
        cleanup()


@pytest.fixture(scope="session")
def suite_ocsp() -> SuiteOcspResponder:
    responder = SuiteOcspResponder().start()
    yield responder
    responder.stop()


@pytest.fixture(scope="session")
def webhook_receiver(target: Target) -> ReceiverServer:
    host = str(target.webhook.get("receiver_host", "127.0.0.1"))
    port = int(target.webhook.get("receiver_port", 0))
    server = ReceiverServer(host, port).start()
    yield server
    server.stop()


# ----------------------------------------------------------------------------- tokens

def token_client(api: OpcpClient, ctx: Scenario):
    """The target file's client the scenario's caller asks tokens with (a CPO by default)."""
    client = api.target.client(ctx.role or "CPO", ctx.party)
    if client is None:
        pytest.skip(f"not applicable: the target file has no {ctx.role} client")
    return client


@when("I request a token with my credentials form-encoded")
def request_token_form(api: OpcpClient, scenario_ctx: Scenario):
    scenario_ctx.last = api.token_request(api.credentials_body(token_client(api, scenario_ctx)),
                                          form=True)


@when(parsers.parse('I request a token without "{field}"'))
def request_token_without(api: OpcpClient, scenario_ctx: Scenario, field: str):
    body = api.credentials_body(token_client(api, scenario_ctx))
    body.pop(field)
    scenario_ctx.last = api.token_request(body)



# ----------------------------------------------------------------------------- the operator

def need_admin(api: OpcpClient, what: str) -> None:
    if api.target.client("ADMIN") is None:
        pytest.skip(f"not applicable: the target file has no ADMIN client to {what}")


def operator_saves_root(api: OpcpClient, der: bytes, root_type: str, what: str):
    """saveRootCa by the operator, answered as it was."""
    need_admin(api, f"add {what} to the RCP")
    return api.op("saveRootCa", role="ADMIN", json={"caCertificate": certs.b64(der),
                                                    "rootType": root_type})


def delete_root_after(api: OpcpClient, ctx: Scenario, root_id: str) -> None:
    ctx.cleanups.append(lambda: api.op("deleteRootCa", {"rootCertificateId": root_id},
                                       role="ADMIN"))


def operator_adds_root(api: OpcpClient, ctx: Scenario, der: bytes, root_type: str,
                       what: str) -> str:
    """saveRootCa by the operator; the root is deleted after the scenario. Returns its id."""
    got = operator_saves_root(api, der, root_type, what)
    assert got.status in (200, 201), (
        f"the operator could not add {what}: {got.status} {got.response_body[:300]}")
    root_id = got.json()["RootResponse"]["rootCertificateId"]
    delete_root_after(api, ctx, root_id)
    return root_id


def list_roots(api: OpcpClient) -> list[dict]:
    got = api.op("getAllRootCerts", role=api.target.clients[0].role)
    assert got.status == 200, f"getAllRootCerts failed with {got.status}: {got.response_body}"
    return got.json()["RootCertificateCollection"]["rootCertificates"]


@given(parsers.parse('the pool holds a fresh "{root_type}" root added by the operator'))
def fresh_root(api: OpcpClient, scenario_ctx: Scenario, root_type: str):
    der, _ = certs.certificate(f"Suite {root_type} Root {uuid.uuid4().hex[:8]}", root_type)
    got = operator_saves_root(api, der, root_type, f"a {root_type} root")
    assert got.status in (200, 201), (
        f"the operator could not add a {root_type} root: {got.status} {got.response_body}")
    match = [r for r in list_roots(api) if base64.b64decode(r["caCertificate"]) == der]
    assert match, "the added root does not appear in getAllRootCerts"
    scenario_ctx.saved.update(root_id=match[0]["rootCertificateId"], root_der=der,
                              root_type=root_type, fingerprint=hashlib.sha256(der).hexdigest())
    delete_root_after(api, scenario_ctx, match[0]["rootCertificateId"])


@when("the operator deletes that root")
def delete_root(api: OpcpClient, scenario_ctx: Scenario):
    need_admin(api, "manage roots")
    scenario_ctx.last = api.op("deleteRootCa", {"rootCertificateId": scenario_ctx.saved["root_id"]},
                               role="ADMIN")


# ----------------------------------------------------------------------------- the suite's OEM

def wmi_of(api: OpcpClient, role: str, party: int) -> str:
    client = api.target.client(role, party)
    if client is None or not client.wmis:
        pytest.skip(f"not applicable: the target file names no WMI for {role} number {party + 1}")
    return client.wmis[0].upper()


def new_pcid(wmi: str) -> str:
    return (wmi + uuid.uuid4().hex.upper())[:17]


def suite_oem_pki(api: OpcpClient, ctx: Scenario, responder: SuiteOcspResponder, *,
                  in_pool: bool, expired_sub1: bool = False) -> OemPki:
    """The scenario's OEM PKI (its root in the RCP when `in_pool`), and the suite's OEM actor
    issuing from it (`oem_as`)."""
    pki = OemPki.build(responder, uuid.uuid4().hex[:8], expired_sub1=expired_sub1)
    ctx.saved["oem_pki"] = pki
    # The actor's own WMI only names vehicles it makes up; the suite names its PCIDs itself.
    ctx.saved["suite_oem"] = Oem(api, source=pki, sub2=pki.sub2, sub1=pki.sub1, wmi="ZZZ")
    if in_pool:
        operator_adds_root(api, ctx, pki.root.der, "OEM", "the suite's OEM root")
    return pki


def oem_as(ctx: Scenario, role: str | None, party: int) -> Oem:
    """The suite's OEM (its PKI and the chains it certified) acting as `role` number `party + 1`."""
    return replace(ctx.saved["suite_oem"], role=role or "OEM", party=party)


def certify(ctx: Scenario, wmi: str) -> str:
    """A provisioning certificate of the suite's OEM for a new PCID of `wmi`: the PCID and the
    addOemProvCert request for it are the scenario's `pcid` and `body`."""
    pcid = new_pcid(wmi)
    oem: Oem = ctx.saved["suite_oem"]
    oem.certify(pcid)
    ctx.saved.update(pcid=pcid, body=oem.provisioning_body(pcid))
    return pcid


def withdraw_after(ctx: Scenario, party: int) -> None:
    pcid = ctx.saved["pcid"]
    ctx.cleanups.append(lambda: oem_as(ctx, "OEM", party).withdraw(pcid))


def publish(ctx: Scenario, body: dict) -> None:
    """addOemProvCert with `body` by the suite's OEM as the scenario's caller."""
    ctx.last = oem_as(ctx, ctx.role, ctx.party).put_provisioning(body)
    if ctx.last.status == 200:
        withdraw_after(ctx, ctx.party)


@given(parsers.re(r'the (?P<ordinal>first|second) "OEM" published a provisioning certificate$'))
def oem_published(api: OpcpClient, scenario_ctx: Scenario, suite_ocsp: SuiteOcspResponder,
                  ordinal: str):
    party = 0 if ordinal == "first" else 1
    if api.target.client("OEM", party) is None:
        pytest.skip(f"not applicable: the target file has no OEM client number {party + 1}")
    if "oem_pki" not in scenario_ctx.saved:
        suite_oem_pki(api, scenario_ctx, suite_ocsp, in_pool=True)
    certify(scenario_ctx, wmi_of(api, "OEM", party))
    got = oem_as(scenario_ctx, "OEM", party).put_provisioning(scenario_ctx.saved["body"])
    assert got.status == 200, (
        f"the {ordinal} OEM could not publish a good chain: {got.status} {got.response_body}")
    scenario_ctx.saved["publisher"] = party
    withdraw_after(scenario_ctx, party)


@when("I publish the same PCID with a new key pair")
def publish_new_key(scenario_ctx: Scenario):
    pcid = scenario_ctx.saved["pcid"]
    oem: Oem = scenario_ctx.saved["suite_oem"]
    oem.certify(pcid)  # a fresh key under the same CN
    scenario_ctx.saved["body"] = oem.provisioning_body(pcid)
    scenario_ctx.last = oem_as(scenario_ctx, scenario_ctx.role, scenario_ctx.party
                               ).put_provisioning(scenario_ctx.saved["body"])


@given(parsers.parse('a vehicle of the first "OEM" is in the pool'))
def vehicle_in_pool(api: OpcpClient, scenario_ctx: Scenario, suite_ocsp: SuiteOcspResponder):
    oem_published(api, scenario_ctx, suite_ocsp, "first")
    pcid = scenario_ctx.saved["pcid"]
    leaf = scenario_ctx.saved["oem_pki"].leaves[pcid]
    roots = trusted_roots(api, "OEM", 0, "v2g")
    scenario_ctx.saved["vehicle"] = Vehicle(pcid, leaf.der, leaf.key, roots)
    scenario_ctx.saved["emaids"] = []


@when('the first "OEM" deletes the vehicle\'s provisioning certificate')
def oem_deletes(scenario_ctx: Scenario):
    got = oem_as(scenario_ctx, "OEM", 0).withdraw(scenario_ctx.saved["vehicle"].pcid)
    assert got.status == 200, f"the OEM could not delete the vehicle: {got.status}"


# ----------------------------------------------------------------------------- the suite's MO

@given("the suite's MO root is in the pool")
def mo_root_in_pool(api: OpcpClient, scenario_ctx: Scenario):
    need_admin(api, "add the suite's MO root to the RCP")
    pki = mo_root_not_in_pool(scenario_ctx)
    operator_adds_root(api, scenario_ctx, pki.root.der, "MO", "the suite's MO root")


@given("the suite's MO root is not in the pool")
def mo_root_not_in_pool(scenario_ctx: Scenario) -> OemPki:
    # The suite's MO hierarchy names no OCSP responder: the CPS checks it against the RCP only.
    pki = OemPki.build(None, uuid.uuid4().hex[:8], role="mo")
    scenario_ctx.saved["mo_pki"] = pki
    return pki


@given(parsers.parse('the MO signed {count:d} contracts for the vehicle'))
def mo_signed(api: OpcpClient, scenario_ctx: Scenario, count: int):
    for _ in range(count):
        scenario_ctx.role, scenario_ctx.party = "MO", 0
        sign(api, scenario_ctx, new_emaid(api, "MO", 0))
        assert scenario_ctx.response.status == 201, (
            f"the MO could not sign contract data: {scenario_ctx.response.status} "
            f"{scenario_ctx.response.response_body[:300]}")


@when("I sign contract data for a new EMAID of mine without a PCID")
def sign_without_pcid(api: OpcpClient, scenario_ctx: Scenario):
    sign(api, scenario_ctx, new_emaid(api, scenario_ctx.role, scenario_ctx.party), pcid=None)


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
    sign(api, scenario_ctx, emaid, signer=roots[ORDINALS[signer]])


# ----------------------------------------------------------------------------- the CCP

def emaid_of(ctx: Scenario, ordinal: str) -> str:
    return ctx.saved["emaids"][ORDINALS[ordinal]]


def cpo_of(api: OpcpClient, ctx: Scenario) -> CpoBackend:
    """The simulated CPO backend as the scenario's caller, asking once."""
    return CpoBackend(api, party=ctx.party, attempts=1, role=ctx.role or "CPO")


@when("the vehicle's CertificateInstallationReq is sent")
def vehicle_request(api: OpcpClient, scenario_ctx: Scenario):
    scenario_ctx.last = cpo_of(api, scenario_ctx).request_exchange(
        scenario_ctx.saved["vehicle"].installation_req())


@when("I list the vehicle's contracts")
def list_contracts(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "getContracts", {"pcid": scenario_ctx.saved["vehicle"].pcid})


@when(parsers.parse("I pull the {ordinal} contract"))
def pull(api: OpcpClient, scenario_ctx: Scenario, ordinal: str):
    send(api, scenario_ctx, "provideSignedContractData",
         {"emaid": emaid_of(scenario_ctx, ordinal), "pcid": scenario_ctx.saved["vehicle"].pcid})


@when(parsers.parse("I delete the {ordinal} contract"))
def delete(api: OpcpClient, scenario_ctx: Scenario, ordinal: str):
    send(api, scenario_ctx, "deleteSignedContractData", {"emaid": emaid_of(scenario_ctx, ordinal)})


@then(parsers.parse("the vehicle installs the {ordinal} contract"))
@checks("CCP-VEHICLE-INSTALLS")
def vehicle_installs(scenario_ctx: Scenario, ordinal: str):
    data, _ = installation_res(scenario_ctx)
    installed = installs(scenario_ctx.saved["vehicle"], data)
    wanted = scenario_ctx.saved["emaids"][ORDINALS[ordinal]]
    assert installed.emaid.replace("-", "").upper() == wanted, (
        f"the vehicle got the contract {installed.emaid}, expected the {ordinal} one {wanted}")


@then("the pool holds no contract for the vehicle")
@checks("NO-PARTIAL-WRITE")
def pool_empty(api: OpcpClient, scenario_ctx: Scenario):
    got = api.op("getContracts", {"pcid": scenario_ctx.saved["vehicle"].pcid}, role="OEM")
    assert got.status == 200, f"getContracts answered {got.status}"
    listed = got.json().get("XMLContracts", [])
    assert listed == [], f"a refused request left contracts in the pool: {listed}"


@then(parsers.parse("the MO finds the {ordinal} contract no more"))
@checks("CCP-LIFECYCLE")
def gone(api: OpcpClient, scenario_ctx: Scenario, ordinal: str):
    got = api.op("lookupContract", {"emaid": emaid_of(scenario_ctx, ordinal)}, role="MO")
    assert got.status == 404, f"lookupContract answered {got.status}, expected 404"


# ----------------------------------------------------------------------------- EST

@when(parsers.parse('I enroll at the "{ca}" CA with a CSR in my scope'))
def enroll_ok(api: OpcpClient, scenario_ctx: Scenario, ca: str):
    if not api.target.implements("est"):
        # Other features (pcp) use enrolment as a source of certificates of the target's PKI.
        pytest.skip("not applicable: the target declares no EST service")
    cn = scope_cn(api, scenario_ctx, ca)
    der, key = make_csr(cn)
    scenario_ctx.saved.update(ca=ca, cn=cn, key=key)
    enroll(api, scenario_ctx, ca, b64_lines(der))


@then("the certificate is for my CSR")
def cert_for_csr(scenario_ctx: Scenario):
    certs = answered_certs(scenario_ctx)
    assert len(certs) == 1, f"simpleenroll answered {len(certs)} certificates, expected one"
    cert = certs[0]
    mine = scenario_ctx.saved["key"].public_key().public_numbers()
    assert cert.public_key().public_numbers() == mine, "the certificate is not for the CSR's key"
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    got = str(attrs[0].value) if attrs else None
    wanted = scenario_ctx.saved["cn"]
    if scenario_ctx.saved["ca"] == "mo" and got:
        # An EMAID may be normalised (upper case, no hyphens) by the CA.
        got, wanted = ids.normalise_emaid(got, check=False), ids.normalise_emaid(wanted)
    assert got == wanted, f"the certificate's CN is {got!r}, the CSR asked for {wanted!r}"
    scenario_ctx.saved["issued"] = cert


@then(parsers.parse('it chains to the "{ca}" CA certificates and a root of the pool'))
def chains_to_cacerts(api: OpcpClient, scenario_ctx: Scenario, ca: str):
    issued = scenario_ctx.saved["issued"]
    role = scenario_ctx.role
    got = api.op(f"caCerts-{ca.upper()}", CACERTS, role=role, party=scenario_ctx.party)
    assert got.status == 200, f"cacerts answered {got.status}: {got.response_body[:300]}"
    chain = order_chain([issued, *load_certs(got.response.content)])
    roots = api.op("getAllRootCerts", role=role, party=scenario_ctx.party)
    anchors = [base64.b64decode(r["caCertificate"])
               for r in roots.json()["RootCertificateCollection"]["rootCertificates"]]
    try:
        validate_chain(chain, anchors)
    except ChainError as exc:
        raise AssertionError(f"the issued certificate does not chain to a root of the pool "
                             f"through the {ca} CA certificates: {exc}") from None
    scenario_ctx.saved["issuer"] = chain[1]
    scenario_ctx.saved["chain"] = chain


@when("the operator revokes it")
def operator_revokes(api: OpcpClient, scenario_ctx: Scenario):
    if not api.target.implements("admin") or api.target.client("ADMIN") is None:
        pytest.skip("not applicable: the target declares no admin extension to revoke with")
    cert, issuer = scenario_ctx.saved["issued"], scenario_ctx.saved["issuer"]
    scenario_ctx.last = api.op("revokeCertificate", role="ADMIN", json={
        "issuerKeyHash": issuer_key_hashes(issuer)["sha256"].hex(),
        "serialNumber": format(cert.serial_number, "x"), "reason": "keyCompromise"})


# ----------------------------------------------------------------------------- webhooks

def events_of(text: str) -> list[str]:
    return [e.strip() for e in text.split(",") if e.strip()]


@given(parsers.re(r'(?:the (?P<ordinal>first |second ))?"(?P<role>[A-Z_0-9]+)" has a'
                  r'(?P<disabled> disabled)? webhook endpoint "(?P<label>[^"]+)" for '
                  r'"(?P<events>[^"]+)"$'))
def endpoint_on_receiver(api: OpcpClient, scenario_ctx: Scenario, webhook_receiver: ReceiverServer,
                         ordinal: str | None, role: str, disabled: str | None, label: str,
                         events: str):
    party = 1 if (ordinal or "").strip() == "second" else 0
    if api.target.client(role, party) is None:
        pytest.skip(f"not applicable: the target file has no client number {party + 1} "
                    f"for role {role}")
    hook = f"{label}-{uuid.uuid4().hex[:12]}"
    body = {"url": receiver_url(api.target, webhook_receiver, hook),
            "enabledEvents": events_of(events), "description": f"OPCP suite: {label}",
            "status": "disabled" if disabled else "enabled"}
    got = create_endpoint(api, scenario_ctx, body, role, party)
    assert got.status == 201, f"{role} could not create a webhook endpoint: {got.status} " \
                              f"{got.response_body[:300]}"
    created = got.json()
    webhook_receiver.receiver.register(hook, created["secret"])
    # The secret stays with the receiver: what the scenario keeps shows up in reports.
    scenario_ctx.saved.setdefault("hooks", {})[label] = {
        "id": created["id"], "hook": hook, "role": role, "party": party}
