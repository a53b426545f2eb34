"""Steps of the EST feature: CSRs made here, answers read as real clients do (PKCS#7
certs-only in base64, possibly with line breaks, re-ordered leaf first)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pytest_bdd import parsers, then, when

from features.support.calls import send, send_path
from features.support.context import Scenario
from features.support.enrollment import (
    CACERTS,
    ISO2,
    PKCS7,
    answered_certs,
    b64_lines,
    enroll,
    make_csr,
    scope_cn,
)
from opcp import media_types
from opcp.client import OpcpClient, path_of
from v2g.pki.bundle import BundleError, order_chain
from v2g.pki.certinfo import read_cert
from v2g.pki.ocsp import OcspError, build_request, verify_response
from v2g.pki.validate import verify_signed_by


def _spec_path(operation: str, path_params: dict) -> str:
    """est.v1.json's form of an EST path: the role table's without its /.well-known/est
    prefix (erratum: the spec's cacerts path lacks it), with a trailing slash."""
    return "/" + path_of(operation, path_params).split("/", 3)[3] + "/"


@when(parsers.parse('I enroll at the "{ca}" CA sending Accept "{accept}"'))
def enroll_accept(api: OpcpClient, scenario_ctx: Scenario, ca: str, accept: str):
    cn = scope_cn(api, scenario_ctx, ca)
    der, key = make_csr(cn)
    scenario_ctx.saved.update(ca=ca, cn=cn, key=key)
    enroll(api, scenario_ctx, ca, b64_lines(der), accept=accept)


@when(parsers.re(r'I enroll at the "(?P<ca>\w+)" CA with (?P<kind>malformed base64|'
                 r'a body that is not DER|a CSR (?:whose|for|with) .+)$'))
def enroll_bad(api: OpcpClient, scenario_ctx: Scenario, ca: str, kind: str):
    scenario_ctx.saved["ca"] = ca
    if kind == "malformed base64":
        body = "this is *not* base64"
    elif kind == "a body that is not DER":
        body = base64.b64encode(b"\x30\x03\x02\x01\x01" * 10).decode()
    elif kind == "a CSR whose signature does not verify":
        der, _ = make_csr(scope_cn(api, scenario_ctx, ca))
        body = base64.b64encode(der[:-1] + bytes([der[-1] ^ 0x01])).decode()
    elif kind == "a CSR for a CN outside my scope":
        body = base64.b64encode(make_csr(scope_cn(api, scenario_ctx, ca, foreign=True))[0]).decode()
    elif kind == "a CSR whose CN is not an identifier":
        body = base64.b64encode(make_csr("not an identifier")[0]).decode()
    elif kind == "a CSR with a P-384 key":
        body = base64.b64encode(make_csr(scope_cn(api, scenario_ctx, ca),
                                         curve=ec.SECP384R1())[0]).decode()
    else:
        raise AssertionError(f"unknown bad CSR kind {kind!r}")
    enroll(api, scenario_ctx, ca, body)


@when(parsers.re(r'I ask for the "(?P<ca>\w+)" CA certificates (?P<how>by the role table\'s '
                 r'path|by the spec\'s path|with the Content-Transfer-Encoding request header)$'))
def cacerts(api: OpcpClient, scenario_ctx: Scenario, ca: str, how: str):
    how = how.strip()
    operation = f"caCerts-{ca.upper()}"
    if how == "by the spec's path":
        send_path(api, scenario_ctx, "GET", "est", _spec_path(operation, CACERTS), headers={})
    elif how == "with the Content-Transfer-Encoding request header":
        send(api, scenario_ctx, operation, CACERTS,
             headers={"Content-Transfer-Encoding": "application/pkcs10"})
    elif how == "by the role table's path":
        send(api, scenario_ctx, operation, CACERTS, headers={})
    else:
        raise AssertionError(f"unknown variant {how!r}")


@when(parsers.parse('I ask for the "{ca}" CA certificates for algorithm "{algorithm}"'))
def cacerts_algorithm(api: OpcpClient, scenario_ctx: Scenario, ca: str, algorithm: str):
    send(api, scenario_ctx, f"caCerts-{ca.upper()}", {**ISO2, "algorithm": algorithm})


@then("the answer is PKCS#7 certs-only in base64")
def is_pkcs7(scenario_ctx: Scenario):
    headers = {k.lower(): v for k, v in scenario_ctx.response.response_headers.items()}
    ctype = headers.get("content-type", "")
    kind, params = media_types.parse(ctype)
    assert kind == PKCS7 and params.get("smime-type", "").lower() == "certs-only", (
        f"Content-Type is {ctype!r}, expected {PKCS7}; smime-type=certs-only")
    cte = headers.get("content-transfer-encoding", "")
    assert cte.lower() == "base64", f"Content-Transfer-Encoding is {cte!r}, expected base64"
    # RFC 7030 section 4.1.3 and RFC 8951 section 3.2: the body itself is base64, whatever the
    # header says (line breaks allowed, RFC 2045); binary DER is not an EST answer.
    try:
        base64.b64decode(b"".join(scenario_ctx.response.response.content.split()), validate=True)
    except ValueError:
        raise AssertionError("the body is not base64 text (RFC 7030 section 4.1.3, RFC 8951"
                             " section 3.2)") from None
    assert answered_certs(scenario_ctx), "the bundle holds no certificate"


@then(parsers.parse("the bundle is a CA chain ending in a root of the pool"))
def cacerts_chain(api: OpcpClient, scenario_ctx: Scenario):
    try:
        chain = order_chain(answered_certs(scenario_ctx))
    except BundleError as exc:
        raise AssertionError(f"the CA certificates are not one path: {exc}") from None
    roots = api.op("getAllRootCerts", role=scenario_ctx.role, party=scenario_ctx.party)
    anchors = [base64.b64decode(r["caCertificate"])
               for r in roots.json()["RootCertificateCollection"]["rootCertificates"]]
    assert all(read_cert(c).is_ca for c in chain), "the bundle holds a certificate that is no CA"
    for child, parent in zip(chain, chain[1:]):
        assert verify_signed_by(child, parent.public_key()), (
            f"{child.subject.rfc4514_string()} is not signed by the next certificate")
    top = chain[-1].public_bytes(serialization.Encoding.DER)
    assert top in anchors, "the CA chain does not end in a root of the pool"


# ------------------------------------------------------------------ OCSP and revocation

def _ocsp_status(api: OpcpClient, ctx: Scenario) -> str:
    cert, issuer = ctx.saved["issued"], ctx.saved["issuer"]
    urls = read_cert(cert).ocsp_urls
    # The target may say where it answers OCSP (the reference bakes a fixed public URL
    # into its certificates, which an embedded instance on a random port does not serve).
    url = api.target.base_urls.get("ocsp") or (urls[0] if urls else None)
    assert url, "the issued certificate names no OCSP responder"
    got = api.send("POST", url, content=build_request(cert, issuer),
                   headers={"Content-Type": "application/ocsp-request"})
    assert got.status == 200, f"the OCSP responder answered HTTP {got.status}"
    try:
        return verify_response(got.response.content, cert, issuer).name
    except OcspError as exc:
        raise AssertionError(f"the OCSP response does not verify: {exc}") from None


@then(parsers.parse('its OCSP status is "{status}"'))
def ocsp_status_is(api: OpcpClient, scenario_ctx: Scenario, status: str):
    got = _ocsp_status(api, scenario_ctx)
    assert got == status, f"the OCSP responder says {got!r}, expected {status!r}"


@when(parsers.parse("the operator sends a revocation request {problem}"))
def bad_revocation(api: OpcpClient, scenario_ctx: Scenario, problem: str):
    if not api.target.implements("admin") or api.target.client("ADMIN") is None:
        pytest.skip("not applicable: the target declares no admin extension to revoke with")
    body = {"issuerKeyHash": "00" * 32, "serialNumber": "1a2b", "reason": "keyCompromise"}
    if problem == "without a serial number":
        del body["serialNumber"]
    elif problem == "with an unknown reason":
        body["reason"] = "bored"
    elif problem == "naming no issuer":
        del body["issuerKeyHash"]
    else:
        raise AssertionError(f"unknown problem {problem!r}")
    scenario_ctx.last = api.op("revokeCertificate", role="ADMIN",
                                 json=body)
