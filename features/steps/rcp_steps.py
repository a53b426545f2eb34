"""Steps of the Root Certificate Pool feature."""

from __future__ import annotations

import base64
import hashlib
import uuid

from cryptography import x509
from pytest_bdd import given, parsers, then, when

from features.support import certs
from features.support.calls import json_body, send
from features.support.context import Scenario
from features.support.rules import checks
from features.support.setup import list_roots, need_admin
from opcp.client import OpcpClient


def _as_admin(api: OpcpClient, operation: str, path_params: dict | None = None, **kwargs):
    need_admin(api, "manage roots")
    return api.op(operation, path_params, role="ADMIN", **kwargs)


@given("I remember how many roots the pool holds")
def remember_count(api: OpcpClient, scenario_ctx: Scenario):
    scenario_ctx.saved["root_count"] = len(list_roots(api))


@when(parsers.parse('the operator saves the root "{kind}"'))
def save_bad_root(api: OpcpClient, scenario_ctx: Scenario, kind: str):
    scenario_ctx.last = _as_admin(api, "saveRootCa", json={"caCertificate": certs.bad_root(kind),
                                                           "rootType": "V2G"})


@when(parsers.parse('the operator saves a root with rootType "{root_type}"'))
def save_root_type(api: OpcpClient, scenario_ctx: Scenario, root_type: str):
    der, _ = certs.certificate(f"Suite Typed Root {uuid.uuid4().hex[:8]}")
    body = {"caCertificate": certs.b64(der)}
    if root_type != "(missing)":
        body["rootType"] = root_type
    scenario_ctx.last = _as_admin(api, "saveRootCa", json=body)


@when("the operator saves the same root again")
def save_again(api: OpcpClient, scenario_ctx: Scenario):
    scenario_ctx.last = _as_admin(api, "saveRootCa", json={
        "caCertificate": certs.b64(scenario_ctx.saved["root_der"]),
        "rootType": scenario_ctx.saved["root_type"]})


@when("I delete that root")
def i_delete_root(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "deleteRootCa", {"rootCertificateId": scenario_ctx.saved["root_id"]})


@when("I ask for that root")
def get_that_root(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "getRootCert", {"rootCertificateId": scenario_ctx.saved["root_id"]})


@when("I ask for a root with an unknown id")
def get_unknown_root(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "getRootCert", {"rootCertificateId": str(uuid.uuid4())})


@when(parsers.parse('I list the roots of type "{root_type}"'))
def list_type(api: OpcpClient, scenario_ctx: Scenario, root_type: str):
    send(api, scenario_ctx, "getAllRootCerts", params={"rootType": root_type})


@when("I list all roots")
def list_all(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "getAllRootCerts")


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


@then("the fresh root is no longer listed")
@checks("RCP-LIFECYCLE")
def fresh_gone_from_list(scenario_ctx: Scenario):
    ids = [r["rootCertificateId"] for r in _roots_in_body(scenario_ctx)]
    assert scenario_ctx.saved["root_id"] not in ids, (
        "the list still holds the root the operator deleted")


@then("every listed root is served by its id with the same certificate")
@checks("RCP-LISTED-READABLE")
def listed_roots_readable(api: OpcpClient, scenario_ctx: Scenario):
    listed = _roots_in_body(scenario_ctx)
    assert listed, "the pool lists no root certificate at all"
    wrong = []
    for root in listed:
        root_id = root["rootCertificateId"]
        got = api.op("getRootCert", {"rootCertificateId": root_id}, role=scenario_ctx.role)
        if got.status == 404 and root_id not in {r["rootCertificateId"] for r in list_roots(api)}:
            continue  # deleted since the listing (another scenario's root): nothing to serve
        if got.status != 200:
            wrong.append(f"{root_id}: getRootCert answered {got.status}")
            scenario_ctx.last = got
            continue
        try:
            body = got.json()
        except ValueError:
            body = None
        served = body.get("RootResponse") if isinstance(body, dict) else None
        if not isinstance(served, dict):
            wrong.append(f"{root_id}: getRootCert answered 200 without a RootResponse object")
            scenario_ctx.last = got
            continue
        if served.get("caCertificate") != root["caCertificate"] or \
                served.get("rootType") != root["rootType"]:
            wrong.append(f"{root_id}: served as {served.get('rootType')} with another"
                         " certificate than listed" if served.get("caCertificate")
                         != root["caCertificate"] else f"{root_id}: listed as"
                         f" {root['rootType']}, served as {served.get('rootType')}")
    assert not wrong, "roots listed but not served alike by id: " + "; ".join(wrong)


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
    now = len(list_roots(api))
    assert now == scenario_ctx.saved["root_count"], (
        f"the pool held {scenario_ctx.saved['root_count']} roots and now holds {now}: "
        f"a refused request changed it")


@then("the fresh root is still in the pool")
@checks("RCP-OPERATOR-ONLY")
def still_there(api: OpcpClient, scenario_ctx: Scenario):
    ids = [r["rootCertificateId"] for r in list_roots(api)]
    assert scenario_ctx.saved["root_id"] in ids, "the root was deleted by a refused request"
