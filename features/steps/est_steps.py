"""Steps of the EST feature: CSRs made here, answers read as real clients do (PKCS#7
certs-only in base64, possibly with line breaks, re-ordered leaf first)."""

from __future__ import annotations

import base64
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_bdd import parsers, then, when

from features.steps.http_steps import send
from features.support.context import Scenario
from opcp.client import OpcpClient
from v2g import ids
from v2g.pki.bundle import BundleError, load_certs, order_chain
from v2g.pki.certinfo import read_cert
from v2g.pki.ocsp import OcspError, build_request, issuer_key_hashes, verify_response
from v2g.pki.validate import ChainError, validate_chain, verify_signed_by

PREFIX = "/.well-known/est"
PKCS7 = "application/pkcs7-mime"


def _scope_cn(api: OpcpClient, ctx: Scenario, ca: str, *, foreign: bool = False) -> str:
    """A CN of the CA's identifier kind, in the caller's scope (or outside it)."""
    client = api.target.client(ctx.role, ctx.party)
    serial = uuid.uuid4().hex.upper()
    if ca == "cpo":
        return f"DE*SUI*E{serial[:10]}"
    if ca == "cps":
        return f"OPCP Suite CPS {serial[:6]}"
    if ca == "mo":
        prefix = ("ZZ999" if foreign or not (client and client.emaid_prefixes)
                  else client.emaid_prefixes[0].upper())
        return ids.emaid_with_check_digit(prefix + serial[:9])
    wmi = "ZZZ" if foreign or not (client and client.wmis) else client.wmis[0].upper()
    return (wmi + serial)[:17]


def make_csr(cn: str, *, curve: ec.EllipticCurve | None = None
             ) -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(curve or ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OPCP Suite"),
                                    x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.DER), key


def _b64_lines(der: bytes) -> str:
    text = base64.b64encode(der).decode()
    return "\n".join(text[i:i + 64] for i in range(0, len(text), 64)) + "\n"


def _enroll(api: OpcpClient, ctx: Scenario, ca: str, body: str, *, prefix: str = PREFIX,
            content_type: str = "application/pkcs10", accept: str = "application/pkcs7-mime"):
    return send(api, ctx, "POST", "est", f"{prefix}/{ca}/simpleenroll/ISO15118-2",
                content=body.encode(), headers={"Content-Type": content_type, "Accept": accept})


@when(parsers.parse('I enroll at the "{ca}" CA sending Accept "{accept}"'))
def enroll_accept(api: OpcpClient, scenario_ctx: Scenario, ca: str, accept: str):
    cn = _scope_cn(api, scenario_ctx, ca)
    der, key = make_csr(cn)
    scenario_ctx.saved.update(ca=ca, cn=cn, key=key)
    _enroll(api, scenario_ctx, ca, _b64_lines(der), accept=accept)


@when(parsers.parse('I enroll at the "{ca}" CA with a CSR in my scope'))
def enroll_ok(api: OpcpClient, scenario_ctx: Scenario, ca: str):
    if not api.target.implements("est"):
        # Other features (pcp) use enrolment as a source of certificates of the target's PKI.
        pytest.skip("not applicable: the target declares no EST service")
    cn = _scope_cn(api, scenario_ctx, ca)
    der, key = make_csr(cn)
    scenario_ctx.saved.update(ca=ca, cn=cn, key=key)
    _enroll(api, scenario_ctx, ca, _b64_lines(der))


@when(parsers.re(r'I enroll at the "(?P<ca>\w+)" CA with (?P<kind>malformed base64|'
                 r'a body that is not DER|a CSR (?:whose|for|with) .+)$'))
def enroll_bad(api: OpcpClient, scenario_ctx: Scenario, ca: str, kind: str):
    scenario_ctx.saved["ca"] = ca
    if kind == "malformed base64":
        body = "this is *not* base64"
    elif kind == "a body that is not DER":
        body = base64.b64encode(b"\x30\x03\x02\x01\x01" * 10).decode()
    elif kind == "a CSR whose signature does not verify":
        der, _ = make_csr(_scope_cn(api, scenario_ctx, ca))
        body = base64.b64encode(der[:-1] + bytes([der[-1] ^ 0x01])).decode()
    elif kind == "a CSR for a CN outside my scope":
        body = base64.b64encode(make_csr(_scope_cn(api, scenario_ctx, ca, foreign=True))[0]).decode()
    elif kind == "a CSR whose CN is not an identifier":
        body = base64.b64encode(make_csr("not an identifier")[0]).decode()
    elif kind == "a CSR with a P-384 key":
        body = base64.b64encode(make_csr(_scope_cn(api, scenario_ctx, ca),
                                         curve=ec.SECP384R1())[0]).decode()
    else:
        raise AssertionError(f"unknown bad CSR kind {kind!r}")
    _enroll(api, scenario_ctx, ca, body)


@when(parsers.re(r'I ask for the "(?P<ca>\w+)" CA certificates (?P<how>by the role table\'s '
                 r'path|by the spec\'s path|with the Content-Transfer-Encoding request header)$'))
def cacerts(api: OpcpClient, scenario_ctx: Scenario, ca: str, how: str):
    how = how.strip()
    prefix, slash, headers = PREFIX, "", {}
    if how == "by the spec's path":
        prefix, slash = "", "/"
    elif how == "with the Content-Transfer-Encoding request header":
        headers["Content-Transfer-Encoding"] = "application/pkcs10"
    elif how != "by the role table's path":
        raise AssertionError(f"unknown variant {how!r}")
    send(api, scenario_ctx, "GET", "est", f"{prefix}/{ca}/cacerts/ISO15118-2/secp256r1{slash}",
         headers=headers)


@when(parsers.parse('I ask for the "{ca}" CA certificates for algorithm "{algorithm}"'))
def cacerts_algorithm(api: OpcpClient, scenario_ctx: Scenario, ca: str, algorithm: str):
    send(api, scenario_ctx, "GET", "est", f"{PREFIX}/{ca}/cacerts/ISO15118-2/{algorithm}")


def _certs(scenario_ctx: Scenario) -> list[x509.Certificate]:
    got = scenario_ctx.response
    try:
        return load_certs(got.response.content)
    except BundleError as exc:
        raise AssertionError(f"the body is not a base64 PKCS#7 certs-only bundle: {exc}; "
                             f"{got.response_body[:200]!r}") from None


@then("the answer is PKCS#7 certs-only in base64")
def is_pkcs7(scenario_ctx: Scenario):
    headers = {k.lower(): v for k, v in scenario_ctx.response.response_headers.items()}
    ctype = headers.get("content-type", "")
    assert ctype.split(";")[0].strip().lower() == PKCS7 and "certs-only" in ctype, (
        f"Content-Type is {ctype!r}, expected {PKCS7}; smime-type=certs-only")
    cte = headers.get("content-transfer-encoding", "")
    assert cte.lower() == "base64", f"Content-Transfer-Encoding is {cte!r}, expected base64"
    assert _certs(scenario_ctx), "the bundle holds no certificate"


@then("the certificate is for my CSR")
def cert_for_csr(scenario_ctx: Scenario):
    certs = _certs(scenario_ctx)
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
    got = api.call("GET", "est", f"{PREFIX}/{ca}/cacerts/ISO15118-2/secp256r1", role=role,
                   party=scenario_ctx.party)
    assert got.status == 200, f"cacerts answered {got.status}: {got.response_body[:300]}"
    chain = order_chain([issued, *load_certs(got.response.content)])
    roots = api.call("GET", "rcp", "/v1/root/rootCerts", role=role, party=scenario_ctx.party)
    anchors = [base64.b64decode(r["caCertificate"])
               for r in roots.json()["RootCertificateCollection"]["rootCertificates"]]
    try:
        validate_chain(chain, anchors)
    except ChainError as exc:
        raise AssertionError(f"the issued certificate does not chain to a root of the pool "
                             f"through the {ca} CA certificates: {exc}") from None
    scenario_ctx.saved["issuer"] = chain[1]
    scenario_ctx.saved["chain"] = chain


@then(parsers.parse("the bundle is a CA chain ending in a root of the pool"))
def cacerts_chain(api: OpcpClient, scenario_ctx: Scenario):
    try:
        chain = order_chain(_certs(scenario_ctx))
    except BundleError as exc:
        raise AssertionError(f"the CA certificates are not one path: {exc}") from None
    roots = api.call("GET", "rcp", "/v1/root/rootCerts", role=scenario_ctx.role,
                     party=scenario_ctx.party)
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


@when("the operator revokes it")
def operator_revokes(api: OpcpClient, scenario_ctx: Scenario):
    if not api.target.implements("admin") or api.target.client("ADMIN") is None:
        pytest.skip("not applicable: the target declares no admin extension to revoke with")
    cert, issuer = scenario_ctx.saved["issued"], scenario_ctx.saved["issuer"]
    scenario_ctx.last = api.call("POST", "admin", "/v1/admin/revocations", role="ADMIN", json={
        "issuerKeyHash": issuer_key_hashes(issuer)["sha256"].hex(),
        "serialNumber": format(cert.serial_number, "x"), "reason": "keyCompromise"})



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
    scenario_ctx.last = api.call("POST", "admin", "/v1/admin/revocations", role="ADMIN",
                                 json=body)
