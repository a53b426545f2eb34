"""The suite can fail: each fault switch of the reference is caught by its feature.

This is the proof that the scenarios are not tests that pass everything. `opcp selftest`
runs the whole suite against an embedded reference per fault; the feature each fault names
must report failures (through assertions, not crashes), and the correct reference must pass.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from opcp import coverage, results
from opcp.models import OPERATION_MODELS, check_body
from opcp.models.errata import ALTERNATIVES
from opcp.paths import REPO
from opcp.rules import RULES
from opcp_cli.selftest import fault_catalogue, selftest
from opcp_reference.domain import rcp
from opcp_reference.faults import FAULTS, VARIANTS, Faults
from opcp_reference.http import erratum_readings
from v2g.pki.builder import issue


@pytest.fixture(scope="module")
def selftest_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("selftest")


@pytest.fixture(scope="module")
def selftest_results(selftest_dir):
    return selftest(jobs=2, workdir=selftest_dir)


@pytest.mark.slow  # a suite run per fault
def test_the_correct_reference_passes_everything(selftest_results):
    clean, _ = selftest_results
    assert clean.killed, clean.detail


@pytest.mark.slow  # a suite run per fault
@pytest.mark.parametrize("fault", sorted(fault_catalogue()))  # the reference's and the wire's
def test_each_fault_is_caught_by_its_feature(selftest_results, fault):
    _, variants = selftest_results
    variant = next(v for v in variants if v.fault == fault)
    assert variant.killed, f"{fault} survived: {variant.detail}"


@pytest.mark.slow  # a suite run per fault
def test_every_modelled_operation_is_exercised(selftest_results, selftest_dir: Path):
    clean, _ = selftest_results  # the correct reference's whole run, made once for the module
    assert clean.killed, clean.detail
    assert coverage.uncovered(coverage.load(selftest_dir / "correct" / "allure")) == []
    assert results.read(selftest_dir / "correct" / "allure")


@pytest.mark.slow  # a suite run per fault
def test_selftest_command_reports_kills(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "opcp_cli", "selftest", "--fault", "rcp-filter-ignored"],
                          cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "killed 1 of 1 faulty variants" in proc.stdout


def test_docs_coverage_lists_every_modelled_operation_and_rule():
    text = (REPO / "docs" / "coverage.md").read_text()
    for name in OPERATION_MODELS:
        section = text.split(f"## {name} (", 1)
        assert len(section) == 2, f"docs/coverage.md has no section for {name}: run opcp coverage"
        assert "No scenario calls it yet" not in section[1].split("## ", 1)[0], name
    for rule in RULES:
        assert f"| {rule} |" in text, f"docs/coverage.md lacks rule {rule}: run opcp coverage"


def test_every_fault_names_a_feature_and_is_read_by_the_reference():
    """Cheap static half of the proof: a fault whose feature file does not exist, or whose
    switch no code of the reference reads, could never be caught (or never act)."""
    sources = "\n".join(p.read_text() for p in (REPO / "opcp_reference").rglob("*.py")
                        if p.name != "faults.py")
    for name, fault in FAULTS.items():
        assert (REPO / "features" / fault.caught_by).is_file(), f"{name}: no {fault.caught_by}"
        assert f'"{name}"' in sources or fault.opens or fault.unowned, (
            f"{name}: no code of opcp_reference reads this switch")


def test_every_variant_names_a_feature_and_is_read_by_the_reference():
    sources = "\n".join(p.read_text() for p in (REPO / "opcp_reference").rglob("*.py")
                        if p.name != "faults.py")
    errata = (REPO / "docs" / "errata.md").read_text()
    for name, variant in VARIANTS.items():
        assert (REPO / "features" / variant.feature).is_file(), f"{name}: no {variant.feature}"
        assert f'"{name}"' in sources, f"{name}: no code of opcp_reference reads this variant"
        for erratum in re.findall(r"E-[A-Z0-9]+-\d+", variant.allowed_by):
            assert f"| {erratum} |" in errata, f"{name}: {erratum} has no row in docs/errata.md"


@pytest.mark.parametrize("alt", [a for a in ALTERNATIVES
                                 if a.erratum in erratum_readings.ERRATUM_OF_VARIANT.values()],
                         ids=lambda a: a.name)
def test_an_erratum_variant_answers_the_other_form_of_its_row(alt, tmp_path):
    """The variant's rewrite turns a body of the current model into one the erratum's row
    accepts and the current model does not: the variant answers a reading, not nonsense."""
    from aiohttp import web

    from tests.conftest import open_test_store
    from tests.test_errata import SAMPLES, UUID

    store = open_test_store(tmp_path)
    try:
        root = issue("v2g_root", "Variant Test V2G Root")
        saved = rcp.save_root(store, {"caCertificate": base64.b64encode(root.der).decode(),
                                      "rootType": "V2G"}, Faults())
        root_id = saved["RootResponse"]["rootCertificateId"]
        sample = json.loads(json.dumps(SAMPLES[alt.model]).replace(UUID, root_id))
        assert check_body(alt.model, sample) == []
        operation, status = next((name, code) for name, op in OPERATION_MODELS.items()
                                 for code, model in op.responses.items() if model == alt.model)
        variant = next(v for v, e in erratum_readings.ERRATUM_OF_VARIANT.items()
                       if e == alt.erratum)
        answered = erratum_readings.rewritten(store, Faults([variant]), operation,
                                              web.json_response(sample, status=status))
        body = json.loads(answered.body)
        assert check_body(alt.name, body) == [], check_body(alt.name, body)
        assert check_body(alt.model, body), "the variant answered the current form"
        untouched = erratum_readings.rewritten(store, Faults(), operation,
                                               web.json_response(sample, status=status))
        assert json.loads(untouched.body) == sample
    finally:
        store.close()


def test_two_readings_of_different_properties_pass_together():
    """E-PCP-2's names on a -20 certificate tagged with a -20 namespace (E-NS-1): a server may
    follow both readings at once; rows that change the same property are not combined."""
    from opcp.models import check_response_profiled
    from opcp.models.errata import COMBINED
    from tests.test_errata import PROV

    names = {"subCA1Certificate": "subCa1Certificate", "subCA2Certificate": "subCa2Certificate",
             "vehicleCertificate": "provisioningCertificate"}
    body = {**{names.get(k, k): v for k, v in PROV.items()},
            "xsdMsgDefNamespace": "urn:iso:15118:20:2022:MsgDef"}
    assert check_body("ProvisioningCertificateData", body)  # neither single reading fits
    args = ("GET", "/v1/oem/provCerts/WMA0123456789ABCD", 200, "application/json",
            json.dumps({"OEMMessage": body}).encode())
    for profile in ("strict", "lenient"):
        problems, findings = check_response_profiled(*args, profile=profile)
        assert problems == [] and findings[0].startswith("E-PCP-2+E-NS-1"), (problems, findings)
    assert not [a for a in COMBINED if a.model == "LookupContractResponse"]
