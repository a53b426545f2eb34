"""Steps of the Root Certificate Pool feature."""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest
from cryptography import x509
from pytest_bdd import given, parsers, then, when

from features.steps.http_steps import json_body, send
from features.support import certs
from features.support.context import Scenario
from features.support.rules import checks
from opcp.client import OpcpClient

ROOTS = "/v1/root/rootCerts"


def _as_admin(api: OpcpClient, method: str, path: str, **kwargs):
    if api.target.client("ADMIN") is None:
        pytest.skip("not applicable: the target file has no ADMIN client to manage roots")
    return api.call(method, "rcp", path, role="ADMIN", **kwargs)


def _list(api: OpcpClient, query: str = "") -> list[dict]:
    got = api.call("GET", "rcp", ROOTS + query, role=api.target.clients[0].role)
    assert got.status == 200, f"getAllRootCerts failed with {got.status}: {got.response_body}"
    return got.json()["RootCertificateCollection"]["rootCertificates"]


@given(parsers.parse('the pool holds a fresh "{root_type}" root added by the operator'))
def fresh_root(api: OpcpClient, scenario_ctx: Scenario, root_type: str):
    der, _ = certs.certificate(f"Suite {root_type} Root {uuid.uuid4().hex[:8]}", root_type)
    got = _as_admin(api, "PUT", ROOTS, json={"caCertificate": certs.b64(der),
                                             "rootType": root_type})
    assert got.status in (200, 201), (
        f"the operator could not add a {root_type} root: {got.status} {got.response_body}")
    fingerprint = hashlib.sha256(der).hexdigest()
    match = [r for r in _list(api) if base64.b64decode(r["caCertificate"]) == der]
    assert match, "the added root does not appear in getAllRootCerts"
    scenario_ctx.saved.update(root_id=match[0]["rootCertificateId"], root_der=der,
                              root_type=root_type, fingerprint=fingerprint)
    scenario_ctx.cleanups.append(
        lambda: api.call("DELETE", "rcp", f"{ROOTS}/{match[0]['rootCertificateId']}",
                         role="ADMIN"))


@given("I remember how many roots the pool holds")
def remember_count(api: OpcpClient, scenario_ctx: Scenario):
    scenario_ctx.saved["root_count"] = len(_list(api))


@when(parsers.parse('the operator saves the root "{kind}"'))
def save_bad_root(api: OpcpClient, scenario_ctx: Scenario, kind: str):
    scenario_ctx.last = _as_admin(api, "PUT", ROOTS, json={"caCertificate": certs.bad_root(kind),
                                                           "rootType": "V2G"})


@when(parsers.parse('the operator saves a root with rootType "{root_type}"'))
def save_root_type(api: OpcpClient, scenario_ctx: Scenario, root_type: str):
    der, _ = certs.certificate(f"Suite Typed Root {uuid.uuid4().hex[:8]}")
    body = {"caCertificate": certs.b64(der)}
    if root_type != "(missing)":
        body["rootType"] = root_type
    scenario_ctx.last = _as_admin(api, "PUT", ROOTS, json=body)


@when("the operator saves the same root again")
def save_again(api: OpcpClient, scenario_ctx: Scenario):
    scenario_ctx.last = _as_admin(api, "PUT", ROOTS, json={
        "caCertificate": certs.b64(scenario_ctx.saved["root_der"]),
        "rootType": scenario_ctx.saved["root_type"]})


@when("the operator deletes that root")
def delete_root(api: OpcpClient, scenario_ctx: Scenario):
    scenario_ctx.last = _as_admin(api, "DELETE", f"{ROOTS}/{scenario_ctx.saved['root_id']}")


@when("I delete that root")
def i_delete_root(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "DELETE", "rcp", f"{ROOTS}/{scenario_ctx.saved['root_id']}")


@when("I ask for that root")
def get_that_root(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "GET", "rcp", f"{ROOTS}/{scenario_ctx.saved['root_id']}")


@when("I ask for a root with an unknown id")
def get_unknown_root(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "GET", "rcp", f"{ROOTS}/{uuid.uuid4()}")


@when(parsers.parse('I list the roots of type "{root_type}"'))
def list_type(api: OpcpClient, scenario_ctx: Scenario, root_type: str):
    send(api, scenario_ctx, "GET", "rcp", f"{ROOTS}?rootType={root_type}")


@when("I list all roots")
def list_all(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "GET", "rcp", ROOTS)


def _roots_in_body(scenario_ctx: Scenario) -> list[dict]:
    return json_body(scenario_ctx)["RootCertificateCollection"]["rootCertificates"]


@then(parsers.parse('every listed root is of type "{root_type}"'))
@checks("RCP-FILTER")
def every_of_type(scenario_ctx: Scenario, root_type: str):
    others = [(r.get("commonName"), r["rootType"]) for r in _roots_in_body(scenario_ctx)
              if r["rootType"] != root_type.upper()]
    assert not others, f"the rootType={root_type} filter let other roots through: {others}"


@then("the fresh root is listed")
@checks("RCP-LIFECYCLE")
def fresh_listed(scenario_ctx: Scenario):
    ids = [r["rootCertificateId"] for r in _roots_in_body(scenario_ctx)]
    assert scenario_ctx.saved["root_id"] in ids, "the fresh root is missing from the list"


@then("the fresh root is not listed")
@checks("RCP-FILTER")
def fresh_not_listed(scenario_ctx: Scenario):
    ids = [r["rootCertificateId"] for r in _roots_in_body(scenario_ctx)]
    assert scenario_ctx.saved["root_id"] not in ids, "the list holds a root it should not"


@then("every listed root is a self-signed CA certificate whose informative fields match it")
@checks("RCP-ROOT-FIELDS")
def roots_match_certificates(scenario_ctx: Scenario):
    roots = _roots_in_body(scenario_ctx)
    assert roots, "the pool lists no root certificate at all"
    for root in roots:
        _check_root_fields(root)


@then("the body describes the fresh root")
@checks("RCP-ROOT-FIELDS")
def describes_fresh(scenario_ctx: Scenario):
    root = json_body(scenario_ctx)["RootResponse"]
    assert root["rootCertificateId"] == scenario_ctx.saved["root_id"]
    assert base64.b64decode(root["caCertificate"]) == scenario_ctx.saved["root_der"], (
        "caCertificate is not the certificate that was saved")
    assert root["rootType"] == scenario_ctx.saved["root_type"]
    _check_root_fields(root)


def _check_root_fields(root: dict) -> None:
    name = root.get("commonName") or root["rootCertificateId"]
    der = base64.b64decode(root["caCertificate"])
    cert = x509.load_der_x509_certificate(der)
    assert cert.issuer == cert.subject, f"{name}: caCertificate is not self-issued"
    if "fingerprint" in root:
        assert root["fingerprint"].lower().replace(":", "") == hashlib.sha256(der).hexdigest(), (
            f"{name}: fingerprint is not the SHA-256 of the certificate")
    if "rootIssuerSerialNumber" in root:
        assert int(root["rootIssuerSerialNumber"], 16) == cert.serial_number, (
            f"{name}: rootIssuerSerialNumber differs from the certificate's serial")
    cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    if "commonName" in root and cn:
        assert root["commonName"] == cn[0].value, f"{name}: commonName differs from the subject"


@then("the pool holds as many roots as before")
@checks("NO-PARTIAL-WRITE")
def same_count(api: OpcpClient, scenario_ctx: Scenario):
    now = len(_list(api))
    assert now == scenario_ctx.saved["root_count"], (
        f"the pool held {scenario_ctx.saved['root_count']} roots and now holds {now}: "
        f"a refused request changed it")


@then("the fresh root is still in the pool")
@checks("RCP-OPERATOR-ONLY")
def still_there(api: OpcpClient, scenario_ctx: Scenario):
    ids = [r["rootCertificateId"] for r in _list(api)]
    assert scenario_ctx.saved["root_id"] in ids, "the root was deleted by a refused request"
