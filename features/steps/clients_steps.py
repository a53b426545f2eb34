"""Steps of the compatibility feature: requests shaped as deployed CSMSs send them
(CitrineOS, MaEVe), and what those clients then need from the answer."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from pytest_bdd import parsers, then, when

from features.support.client_habits import SPEC_CACERTS, der_set, listed_certificates, secc_csr
from features.support.context import Scenario
from features.support.rules import checks
from opcp.client import OpcpClient, path_of


def _call(api: OpcpClient, ctx: Scenario, method: str, service: str, path: str, **kwargs):
    ctx.last = api.call(method, service, path, role=ctx.role, party=ctx.party, **kwargs)
    return ctx.last


@when("I request a token with the base URL I call as audience")
def token_base_url(api: OpcpClient, scenario_ctx: Scenario):
    client = api.target.client(scenario_ctx.role, scenario_ctx.party)
    body = api.credentials_body(client, audience=api.target.base_url)
    scenario_ctx.last = api.token_request(body)


@then("the token opens the root certificate pool")
def token_opens_rcp(api: OpcpClient, scenario_ctx: Scenario):
    token = scenario_ctx.response.json()["access_token"]
    got = api.op("getAllRootCerts", token=token)
    assert got.status == 200, (
        f"the token issued was refused by the root certificate pool ({got.status}): "
        f"{got.response_body[:300]}")


@when(parsers.parse('I ask for the "{ca}" CA certificates at "{path}"'))
def cacerts_at(api: OpcpClient, scenario_ctx: Scenario, ca: str, path: str):
    scenario_ctx.saved["ca"] = ca
    _call(api, scenario_ctx, "GET", "est", path.format(ca=ca), headers={
        "Accept": "application/pkcs10, application/pkcs7",
        "Content-Transfer-Encoding": "application/pkcs10"})


@when(parsers.parse('I enroll a CSR of my station at "{path}"'))
def enroll_at(api: OpcpClient, scenario_ctx: Scenario, path: str):
    body, key = secc_csr()
    scenario_ctx.saved.update(ca="cpo", key=key)
    _call(api, scenario_ctx, "POST", "est", path.format(ca="cpo"), content=body.encode(),
          headers={"Content-Type": "application/pkcs10", "Accept": "application/pkcs7"})


@then(parsers.parse("the answer holds the CA certificates the role table's path gives"))
def same_as_spec_path(api: OpcpClient, scenario_ctx: Scenario):
    got = listed_certificates(scenario_ctx.response.response.content)
    ca = scenario_ctx.saved["ca"]
    spec = api.op(f"caCerts-{ca.upper()}", SPEC_CACERTS, role=scenario_ctx.role,
                  party=scenario_ctx.party)
    assert spec.status == 200, f"the role table's cacerts path answered {spec.status}"
    want = listed_certificates(spec.response.content)
    assert der_set(got) == der_set(want), (
        f"the alias answered {len(got)} certificates that are not the {len(want)} of "
        f"{path_of(f'caCerts-{ca.upper()}', SPEC_CACERTS)}")


@then("the answer is one certificate for my CSR")
def one_cert_for_csr(scenario_ctx: Scenario):
    certs = listed_certificates(scenario_ctx.response.response.content)
    assert len(certs) == 1, f"simpleenroll answered {len(certs)} certificates, expected one"
    mine = scenario_ctx.saved["key"].public_key().public_numbers()
    assert certs[0].public_key().public_numbers() == mine, "the certificate is not for my key"


@then("the certificates are listed as Sub-CA 2, Sub-CA 1, root")
@checks("EST-CHAIN-ORDER")
def listed_leaf_first(api: OpcpClient, scenario_ctx: Scenario):
    certs = listed_certificates(scenario_ctx.response.response.content)
    names = [c.subject.rfc4514_string() for c in certs]
    assert len(certs) == 3, f"expected Sub-CA 2, Sub-CA 1 and the root, got {names}"
    for position, (child, parent) in enumerate(zip(certs, certs[1:])):
        assert child.issuer == parent.subject and child.issuer != child.subject, (
            f"certificate {position + 1} ({names[position]}) is not issued by the next one "
            f"({names[position + 1]}): a client reading by position builds a wrong chain; "
            f"listed: {names}")
    root = certs[-1]
    assert root.issuer == root.subject, (
        f"the last certificate ({names[-1]}) is not a root: a client taking the last one for "
        f"the V2G root installs the wrong trust anchor")
    pool = api.op("getAllRootCerts", role=scenario_ctx.role, party=scenario_ctx.party).json()
    anchors = {base64.b64decode(r["caCertificate"])
               for r in pool["RootCertificateCollection"]["rootCertificates"]}
    assert root.public_bytes(serialization.Encoding.DER) in anchors, (
        f"the last certificate ({names[-1]}) is not a root of the pool")
