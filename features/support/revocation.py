"""Asking the target's OCSP responder about a certificate it issued, as the scenarios that
check revocation (EST, the CCP's automatic revocation, the PCP cascade) do; and the steps the
CCP and PCP features share to follow a contract certificate the target issued (a pytest
plugin, listed in the root conftest.py).

Guarantees: the status is read from a response whose signature and CertID verify against the
issuer (`v2g.pki.ocsp.verify_response`); an answer that is not HTTP 200 or does not verify is
the scenario's failure naming why, never a status. A contract certificate that names no OCSP
responder (and a target that names none) makes the revocation checks not applicable: the spec
says the certificate is revoked, not how a revocation is published.
"""

from __future__ import annotations

import pytest
from cryptography import x509
from pytest_bdd import parsers, then, when

from features.support.context import Scenario
from features.support.contracts import installation_res, installs
from features.support.setup import cpo_of
from opcp.client import OpcpClient
from v2g.pki.certinfo import read_cert
from v2g.pki.ocsp import OcspError, build_request, verify_response


def ocsp_status(api: OpcpClient, cert: x509.Certificate, issuer: x509.Certificate) -> str:
    """"good", "revoked" or "unknown", as the target's OCSP responder answers for `cert`."""
    urls = read_cert(cert).ocsp_urls
    # The target may say where it answers OCSP (the reference bakes a fixed public URL into
    # its certificates, which an embedded instance on a random port does not serve).
    url = api.target.base_urls.get("ocsp") or (urls[0] if urls else None)
    assert url, f"the certificate {cert.subject.rfc4514_string()} names no OCSP responder"
    got = api.send("POST", url, content=build_request(cert, issuer),
                   headers={"Content-Type": "application/ocsp-request"})
    assert got.status == 200, f"the OCSP responder answered HTTP {got.status}"
    try:
        return verify_response(got.response.content, cert, issuer).name
    except OcspError as exc:
        raise AssertionError(f"the OCSP response does not verify: {exc}") from None


# ----------------------------------------------------------------------------- steps

@when("the vehicle installs its contract through its CPO")
def install_through_cpo(api: OpcpClient, scenario_ctx: Scenario):
    """The CPO forwards the vehicle's request; the vehicle installs what comes back and the
    contract chain it installed (leaf first) is kept for the revocation checks."""
    if api.target.client("CPO") is None:
        pytest.skip("not applicable: the target file has no CPO client")
    vehicle = scenario_ctx.saved["vehicle"]
    got = cpo_of(api, Scenario(role="CPO")).request_exchange(vehicle.installation_req())
    scenario_ctx.last = got
    assert got.status == 200, (f"the CPO got no contract for the vehicle: {got.status}"
                               f" {got.response_body[:300]}")
    data, _ = installation_res(scenario_ctx)
    installed = installs(vehicle, data)
    scenario_ctx.saved["installed_chain"] = [x509.load_der_x509_certificate(der)
                                             for der in installed.contract_chain]


@then(parsers.parse('the installed contract certificate\'s OCSP status is "{status}"'))
def installed_status(api: OpcpClient, scenario_ctx: Scenario, status: str):
    chain = scenario_ctx.saved["installed_chain"]
    assert len(chain) >= 2, "the installed contract chain holds no issuer of the certificate"
    if not api.target.base_urls.get("ocsp") and not read_cert(chain[0]).ocsp_urls:
        pytest.skip("not applicable: the contract certificate names no OCSP responder")
    got = ocsp_status(api, chain[0], chain[1])
    assert got == status, (f"the OCSP responder says {got!r} for the contract certificate"
                           f" {chain[0].subject.rfc4514_string()}, expected {status!r}")
