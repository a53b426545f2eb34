"""Steps of the Certificate Provisioning Service feature.

The suite plays the MO with its own PKI (`simulators.mo.MoOwnPki` over a root the operator
adds to the RCP for the scenario), the MO using the V2G PKI (`simulators.mo.MoV2gPki`), the
OEM (a vehicle whose provisioning key the suite holds) and the vehicle itself
(`simulators.ev.Vehicle`): what a CPS signs is judged by whether the vehicle would install
it. The contract work is in `features.support.contracts`, the shared setup in
`features.support.setup`.
"""

from __future__ import annotations

import base64
import uuid

from cryptography import x509
from pytest_bdd import parsers, then, when

from features.support.calls import json_body, send
from features.support.context import Scenario
from features.support.contracts import (
    ORDINALS,
    generate,
    installation_res,
    iso2_signer_roots,
    new_emaid,
    sign,
    v2g_root_der,
)
from features.support.rules import checks
from opcp.client import OpcpClient
from v2g import exi
from v2g.contract_data import read_installation_res
from v2g.pki.validate import ChainError, Purpose, TrustAnchor, TrustStore, validate_chain


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@when("I sign contract data for a new EMAID of mine for the vehicle")
def sign_new(api: OpcpClient, scenario_ctx: Scenario):
    sign(api, scenario_ctx, new_emaid(api, scenario_ctx.role, scenario_ctx.party))


@when(parsers.parse('I sign contract data for an EMAID of the second "MO" for the vehicle'))
def sign_foreign(api: OpcpClient, scenario_ctx: Scenario):
    sign(api, scenario_ctx, new_emaid(api, "MO", 1))


@when("I sign contract data of the suite's MO for a PCID not in the pool")
def sign_unknown_pcid(api: OpcpClient, scenario_ctx: Scenario):
    pcid = ("ZZZ" + uuid.uuid4().hex.upper())[:17]
    sign(api, scenario_ctx, new_emaid(api, scenario_ctx.role, scenario_ctx.party), pcid=pcid)


def _broken(field: str, kind: str):
    values = {"not a P-256 point": b64(b"\x04" + b"\x01" * 64),
              "47 bytes long": b64(b"\x00" * 47),
              "not base64": "*not*base64*"}

    def change(body: dict) -> None:
        body["contractData"][field] = values[kind]
    return change


@when(parsers.parse('I sign contract data for the vehicle whose {field} is "{kind}"'))
def sign_broken(api: OpcpClient, scenario_ctx: Scenario, field: str, kind: str):
    sign(api, scenario_ctx, new_emaid(api, scenario_ctx.role, scenario_ctx.party),
         change=_broken(field, kind))


@when(parsers.parse("I generate signed contract data for a new EMAID of mine for the vehicle"))
def generate_new(api: OpcpClient, scenario_ctx: Scenario):
    generate(api, scenario_ctx, new_emaid(api, scenario_ctx.role, scenario_ctx.party))


@when(parsers.parse("I generate signed contract data again for that EMAID, valid for {days:d}"
                    " days"))
def generate_again(api: OpcpClient, scenario_ctx: Scenario, days: int):
    generate(api, scenario_ctx, scenario_ctx.saved["emaids"][-1], days=days)


@when("I generate signed contract data for the vehicle under each listed CPS signer's V2G root")
def generate_under_each(api: OpcpClient, scenario_ctx: Scenario):
    answers = []
    for root in iso2_signer_roots(api, scenario_ctx):
        emaid = new_emaid(api, scenario_ctx.role, scenario_ctx.party)
        generate(api, scenario_ctx, emaid, signer=root)
        answers.append((root, emaid, scenario_ctx.last))
    assert answers, "the CPS lists no signer"
    scenario_ctx.saved["generated_under"] = answers


@then("each was answered 201")
@checks("CPS-LISTED-SIGNER-USABLE")
def each_created(scenario_ctx: Scenario):
    refused = [(root, got) for root, _, got in scenario_ctx.saved["generated_under"]
               if got.status != 201]
    if refused:
        scenario_ctx.last = refused[0][1]  # the reproducer replays the first refusal
    assert not refused, "generating under a V2G root getAllCpsSigners lists was refused: " + \
        "; ".join(f"{root}: {got.status} {got.response_body[:200]}" for root, got in refused)


@then("each generated contract the OEM pulls is signed under the V2G root it named")
@checks("CPS-LISTED-SIGNER-USABLE")
def each_signed_under(api: OpcpClient, scenario_ctx: Scenario):
    pcid = scenario_ctx.saved["vehicle"].pcid
    for root, emaid, _ in scenario_ctx.saved["generated_under"]:
        scenario_ctx.last = api.op("provideSignedContractData", {"emaid": emaid, "pcid": pcid},
                                   role="OEM")
        assert scenario_ctx.last.status == 200, (
            f"the OEM cannot pull the contract {emaid} generated under {root}: "
            f"{scenario_ctx.last.status} {scenario_ctx.last.response_body[:200]}")
        data, _ = installation_res(scenario_ctx)
        res, verification = read_installation_res(data)
        assert verification, f"the CPS signature over {emaid} does not verify: " \
                             f"{verification.reasons}"
        sa = res.sa_provisioning_certificate_chain
        try:
            validate_chain([sa.certificate, *sa.sub_certificates], _v2g_trust(api, root),
                           purpose=Purpose.CPS)
        except ChainError as exc:
            raise AssertionError(f"the contract {emaid} was asked to be signed under the V2G"
                                 f" root {root}, but its CPS chain does not lead there: {exc}"
                                 ) from None


@when(parsers.parse("I call the deprecated {operation} for a new EMAID of mine for the vehicle"))
def deprecated_call(api: OpcpClient, scenario_ctx: Scenario, operation: str):
    sign(api, scenario_ctx, new_emaid(api, scenario_ctx.role, scenario_ctx.party),
         operation=operation)


@then("the answer says the operation is deprecated")
@checks("CPS-DEPRECATED")
def says_deprecated(scenario_ctx: Scenario):
    headers = {k.lower(): v for k, v in scenario_ctx.response.response_headers.items()}
    assert "deprecation" in headers, (
        f"no Deprecation header on {scenario_ctx.response.method} {scenario_ctx.response.url}")


@when("I ask for the CPS signers")
def ask_signers(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "getAllCpsSigners")


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


@then(parsers.parse("every listed contract of the {ordinal} EMAID is valid from contractBegins"
                    " to contractEnds"))
def listed_validity(scenario_ctx: Scenario, ordinal: str):
    emaid = scenario_ctx.saved["emaids"][ORDINALS[ordinal]]
    listed = [c for c in json_body(scenario_ctx)["XMLContracts"]
              if str(c.get("emaid", "")).replace("-", "").upper() == emaid]
    assert listed, f"the pool lists no contract of {emaid}"
    begins, ends = scenario_ctx.saved["validity"]
    for contract in listed:
        leaf = x509.load_der_x509_certificate(base64.b64decode(contract["contractCertificate"]))
        assert (leaf.not_valid_before_utc, leaf.not_valid_after_utc) == (begins, ends), (
            f"the pool still lists a contract certificate of {emaid} valid "
            f"{leaf.not_valid_before_utc} .. {leaf.not_valid_after_utc}; the last one generated"
            f" is valid {begins} .. {ends}")


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
