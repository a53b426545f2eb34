"""Each reading row of the errata table: the other form passes both profiles, noted.

Generated from `opcp.models.errata.ALTERNATIVES`: for every row, a body of the current model
(checked to fit it) is turned into the erratum's other form the way the row describes, and
sent through the same response check the suite applies after every scenario.
"""

from __future__ import annotations

import json
import re

import pytest

from opcp.access import ACCESS
from opcp.models import MODELS, OPERATION_MODELS, check_body, check_response_profiled
from opcp.models.errata import ALTERNATIVES, Alternative, errata_whose_readings_all_pass
from opcp.paths import REPO

B64 = "QUJD"
UUID = "0b7c1f0e-52a3-4c39-9a51-6d2f6f1c2a11"
SHA = "ab" * 32
DN = "CN=V2G Root CA, O=OPCP, C=DE"
SIGNER = {"cpsV2GRootCertificateFingerprint": UUID, "cpsRootDistinguishedName": DN}
CONTRACT = {"pcid": "WMA0123456789ABCD", "emaid": "DEABC123456789",
            "contractCertificate": B64, "defaultContract": True,
            "cpsRootCertificateDN": DN, "cpsV2GRootCertificateFingerprint": UUID}
PROV = {"subCA1Certificate": B64, "subCA2Certificate": B64, "vehicleCertificate": B64,
        "rootIssuerDistinguishedName": DN, "rootIssuerSerialNumber": "1f",
        "xsdMsgDefNamespace": "urn:iso:15118:2:2013:MsgDef"}
ENDPOINT = {"id": "e1", "created": 1, "events": ["root.cert.added"],
            "url": "https://x.example/h", "status": "enabled"}
SIGNED = {"emaid": "DEABC123456789", "pcid": "WMA0123456789ABCD", "signedData": B64,
          "xsdMsgDefNamespace": "urn:iso:15118:2:2013:MsgDef", **SIGNER}

ROOT = {"rootCertificateId": UUID, "rootType": "V2G", "caCertificate": B64}

# A body of each current model an erratum row names.
SAMPLES = {
    "WebhookEndpoint": ENDPOINT,
    "WebhookEndpointList": [ENDPOINT],
    "WebhookEndpointCreated": {**ENDPOINT, "secret": "whsec_0123456789abcdef"},
    "GetAllCpsSignerResponse": {"cpsCertificates": [{
        "cpsDistinguishedName": "CN=CPS", "cpsCertificate": B64,
        "validFrom": "2026-01-01T00:00:00Z", "validTo": "2027-01-01T00:00:00Z",
        "organizationName": "OPCP", "cpsSubCa1Certificate": B64,
        "xsdMsgDefNamespace": "urn:iso:15118:2:2013:MsgDef", **SIGNER}]},
    "SignedContractDataResponse": SIGNED,
    "CreateSignedContractDataResponse": SIGNED,
    "GetSignedContractDataResponse": {"CCPResponse": {"emaidContent": [{"messageDef": {
        "certificateInstallationRes": B64, "emaid": "DEABC123456789",
        "cpsV2GRootCertificateFingerprint": UUID}}]}},
    "ProvideContractDataResponse": {"certificateInstallationRes": B64,
                                    "xsdMsgDefNamespace": "urn:iso:15118:2:2013:MsgDef",
                                    "cpsV2GRootCertificateFingerprint": UUID},
    "LookupContractResponse": {"XMLContracts": [CONTRACT]},
    "ProvisioningCertificateData": PROV,
    "GetAllRootCertsResponse": {"RootCertificateCollection": {"rootCertificates": [ROOT]}},
    "GetRootCertResponse": {"RootResponse": ROOT},
    "GetProvisioningCertificateResponse": {"OEMMessage": PROV},
}


def _other_form(node: object, alt: Alternative) -> object:
    """The sample as a server following the erratum's other reading would send it."""
    if isinstance(node, list):
        return [_other_form(item, alt) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in alt.retype and "maxLength" in alt.retype[key]:
            value = value * (alt.retype[key]["maxLength"] // len(value))  # longer than before
        elif key in alt.retype and "enum" in alt.retype[key]:
            value = next(v for v in alt.retype[key]["enum"] if v != value)
        elif key in alt.retype:
            pattern = re.compile(alt.retype[key]["pattern"])
            value = next(v for v in (SHA, UUID, DN) if pattern.search(v) and v != value)
        out[alt.rename.get(key, key)] = _other_form(value, alt)
    return out


def _answering(model: str) -> tuple[str, str, int]:
    """An operation, a concrete path and a status that answer `model`."""
    for name, op_model in OPERATION_MODELS.items():
        for status, body in op_model.responses.items():
            if body == model:
                op = ACCESS[name]
                return op.method, re.sub(r"{[^}]+}", "WMA0123456789ABCD", op.path), status
    raise AssertionError(f"no operation answers {model}")


@pytest.mark.parametrize("alt", ALTERNATIVES, ids=lambda a: a.name)
def test_the_other_form_passes_both_profiles_with_a_note(alt: Alternative):
    sample = SAMPLES[alt.model]
    assert check_body(alt.model, sample) == [], "the sample must fit the current model"
    other = _other_form(sample, alt)
    assert other != sample, "the row changes nothing the sample holds"
    method, path, status = _answering(alt.model)
    args = (method, path, status, "application/json", json.dumps(other).encode())
    assert check_body(alt.model, other), "the other form must not fit the current model"
    for profile in ("strict", "lenient"):
        problems, findings = check_response_profiled(*args, profile=profile)
        assert problems == [] and findings and findings[0].startswith(alt.erratum), problems


@pytest.mark.parametrize("alt", ALTERNATIVES, ids=lambda a: a.name)
def test_a_body_of_neither_form_fails_both_profiles(alt: Alternative):
    method, path, status = _answering(alt.model)
    broken = json.dumps({"unexpected": True} if alt.model != "WebhookEndpointList"
                        else [{"unexpected": True}]).encode()
    for profile in ("strict", "lenient"):
        problems, _ = check_response_profiled(method, path, status, "application/json", broken,
                                              profile=profile)
        assert problems, f"{alt.name}: a body of neither form passed {profile}"


def test_every_alternative_is_a_model_of_the_api():
    for alt in ALTERNATIVES:
        assert alt.model in MODELS and alt.name in MODELS
        assert set(alt.rename) | set(alt.retype), f"{alt.name} changes nothing"


def test_docs_errata_name_exactly_the_errata_whose_readings_all_pass():
    text = (REPO / "docs" / "errata.md").read_text()
    line = next(x for x in text.splitlines() if x.startswith("Errata whose readings all pass:"))
    listed = set(re.findall(r"E-[A-Z]+-\d+", line))
    assert listed == errata_whose_readings_all_pass(), (listed, errata_whose_readings_all_pass())
    table = set(re.findall(r"^\| (E-[A-Z]+-\d+) \|", text, re.M))
    assert listed <= table, f"errata whose readings all pass but have no row in the table: {listed - table}"
